import { describe, expect, it } from 'vitest';
import type { DescriptorSet, MethodDescriptor } from './openapi.js';
import { BindingError, routesFromDescriptors } from './route-bindings.js';
import { ROUTES } from './routes.js';

/** One Beacon service in buf's JSON image, its methods as given. */
const image = (...method: MethodDescriptor[]): DescriptorSet => ({
  file: [
    {
      name: 'beacon/demo/v1/demo.proto',
      package: 'beacon.demo.v1',
      service: [{ name: 'DemoService', method }],
    },
  ],
});
const rpc = (name: string, options?: Record<string, unknown>): MethodDescriptor => ({
  name,
  inputType: `.beacon.demo.v1.${name}Request`,
  outputType: `.beacon.demo.v1.${name}Response`,
  ...(options ? { options } : {}),
});
const http = (rule: Record<string, string>) => ({ '[google.api.http]': rule });
const rest = (options: Record<string, unknown>) => ({ '[beacon.api.v1.rest]': options });

describe('the route table from the contracts', () => {
  it('makes a route of each binding, with its options, and leaves out what is internal only', () => {
    const routes = routesFromDescriptors(
      image(
        rpc('CreateThing', {
          ...http({ post: '/v1/things', body: '*' }),
          ...rest({ summary: 'Create a thing', created: true, idempotent: true }),
        }),
        rpc('GetThing', { ...http({ get: '/v1/things/{thing_id}' }), ...rest({ summary: 'One thing' }) }),
        rpc('RotateKeys', rest({ internalOnly: true })),
      ),
    );
    expect(routes).toEqual([
      {
        service: 'beacon.demo.v1.DemoService',
        rpc: 'CreateThing',
        method: 'POST',
        path: '/v1/things',
        body: true,
        created: true,
        idempotent: true,
        summary: 'Create a thing',
      },
      {
        service: 'beacon.demo.v1.DemoService',
        rpc: 'GetThing',
        method: 'GET',
        path: '/v1/things/{thing_id}',
        body: false,
        summary: 'One thing',
      },
    ]);
  });

  it('refuses an RPC without a binding, naming it, so a new RPC cannot miss its REST route', () => {
    expect(() => routesFromDescriptors(image(rpc('ForgotIt')))).toThrow(
      new BindingError(
        'beacon.demo.v1.DemoService/ForgotIt has no REST binding: give it option (google.api.http), or (beacon.api.v1.rest) = {internal_only: true}',
      ),
    );
  });

  it('refuses bindings the gateway cannot serve as the contract says', () => {
    const refused = (options: Record<string, unknown>) => () =>
      routesFromDescriptors(image(rpc('Odd', options)));
    expect(refused({ ...http({ get: '/v1/odd', body: '*' }), ...rest({ summary: 's' }) })).toThrow(
      /a GET has no body/,
    );
    expect(refused({ ...http({ post: '/v1/odd' }), ...rest({ summary: 's' }) })).toThrow(
      /a POST takes the whole request/,
    );
    expect(refused({ ...http({ put: '/v1/odd', body: '*' }), ...rest({ summary: 's' }) })).toThrow(
      /exactly one of get or post/,
    );
    expect(refused(http({ get: '/v1/odd' }))).toThrow(/has no summary/);
    expect(refused({ ...http({ get: '/v1/odd' }), ...rest({ summary: 's', internalOnly: true }) })).toThrow(
      /internal_only and yet has a REST binding/,
    );
  });

  it('serves every public RPC of the contracts, each path once per method', () => {
    expect(ROUTES.length).toBeGreaterThanOrEqual(68);
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(ROUTES.find((r) => r.rpc === 'SubmitReport')).toMatchObject({
      method: 'POST',
      path: '/v1/reports',
      created: true,
      idempotent: true,
    });
    expect(ROUTES.some((r) => r.rpc === 'RewrapKeys')).toBe(false);
  });
});
