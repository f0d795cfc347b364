import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { createCli } from './cli-fixture.js';

const test = base.extend('cli', ({ infra, names, mongoClient }, { onCleanup }) =>
  createCli(infra, names, mongoClient, onCleanup),
);

/** The JSON a JWT carries in its header and payload (no verification: the gateway does that). */
function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
  return { header: header!, payload: payload! };
}

describe('beacon token', () => {
  test('mints a token with the claims asked for, which the gateway accepts', async ({ cli }) => {
    const minted = await cli.beacon([
      'token',
      '--roles',
      'coordinator,auditor',
      '--clearance',
      'amber+strict',
      '--ttl',
      '600',
      '--subject',
      'duty-officer',
    ]);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    expect(minted.stdout.trim().split('\n')).toHaveLength(1);
    const { header, payload } = decodeJwt(minted.stdout.trim());
    expect(header).toMatchObject({ alg: 'ES256', kid: cli.stack.issuer.privateJwk.kid });
    expect(payload).toMatchObject({
      sub: 'duty-officer',
      roles: ['coordinator', 'auditor'],
      tlp_clearance: 'AMBER+STRICT',
      iss: cli.stack.issuer.issuer,
      aud: cli.stack.issuer.audience,
    });
    expect(payload).not.toHaveProperty('agency_id');
    expect(Number(payload['exp']) - Number(payload['iat'])).toBe(600);

    const agency = decodeJwt(
      (await cli.beacon(['token', '--roles', 'agency_analyst', '--agency', 'cert-de'])).stdout.trim(),
    );
    expect(agency.payload).toMatchObject({ sub: 'cli:tester', agency_id: 'cert-de', tlp_clearance: 'AMBER' });

    const listed = await cli.beacon(['incidents', 'list', '--token', minted.stdout.trim()]);
    expect(listed).toEqual({ code: 0, stdout: 'no incidents\n', stderr: '' });
  });

  test('a bad token is refused by the gateway and printed as a problem', async ({ cli }) => {
    const refused = await cli.beacon(['incidents', 'list'], { env: { BEACON_TOKEN: 'not.a.jwt' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 401 Unauthenticated: /);
  });
});
