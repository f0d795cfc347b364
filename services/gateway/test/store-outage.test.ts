import { describe, expect } from 'vitest';
import { grpcServing, startDedicated, test as base, waitFor, type DedicatedServer } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const INTAKE = 'beacon.intake.v1.IntakeService';
const serving = (address: string, service: string) =>
  grpcServing(address, service).then(
    () => true,
    () => false,
  );

/**
 * The store dies under a client: the client is told the truth (503 with `Retry-After`, a
 * problem document, no internals), not 500, and the same request sent again with its
 * Idempotency-Key once the store is back is taken, once.
 */
const test = base.extend(
  'outage',
  async ({ infra, names }, { onCleanup }): Promise<{ stack: TestStack; store: DedicatedServer }> => {
    const store = await startDedicated('mongo');
    const stack = await startTestStack({ ...infra, mongoUrl: store.url }, names).catch(
      async (error: unknown) => {
        await store.stop();
        throw error;
      },
    );
    onCleanup(async () => {
      try {
        await stack.stop();
      } finally {
        await store.stop();
      }
    });
    return { stack, store };
  },
);

describe('a store outage at the REST door', () => {
  test('answers 503 with Retry-After, and the retried report is taken once the store is back', async ({
    outage: { stack, store },
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const before = await http(stack, 'POST', '/v1/reports', { token, body: reportJson() });
    expect(before.status).toBe(201);

    const intake = `127.0.0.1:${stack.intake.port}`;
    await store.process.kill();
    // Intake stays alive but is not ready: its service reports NOT_SERVING until the store answers.
    await waitFor(
      async () => {
        if (await serving(intake, INTAKE)) throw new Error('intake still reports SERVING');
      },
      { what: 'intake not ready while its store is down', timeoutMs: 15_000 },
    );
    await grpcServing(intake);
    const body = reportJson({ observables: [{ type: 'domain', value: 'outage-phish.example' }] });
    const headers = { 'idempotency-key': 'outage-retry-0001' };
    const refused = await http(stack, 'POST', '/v1/reports', { token, body, headers });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(String(refused.body['detail'])).not.toMatch(/127\.0\.0\.1|Mongo|ECONNREFUSED/);

    await store.restart();
    await waitFor(() => grpcServing(intake, INTAKE), { what: 'intake ready again', timeoutMs: 15_000 });
    const taken = await http(stack, 'POST', '/v1/reports', { token, body, headers });
    expect(taken.status).toBe(201);
    const again = await http(stack, 'POST', '/v1/reports', { token, body, headers });
    expect(again.body).toEqual(taken.body);
    const listed = await http(stack, 'GET', '/v1/incidents?pageSize=10', { token });
    expect((listed.body['incidents'] as unknown[]).length).toBe(2);
  });
});
