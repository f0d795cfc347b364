/**
 * Crafted bearer tokens against the real gateway, both doors (issue 20). Each token differs from
 * one the gateway serves in a single respect (`tokenCrafter`), and each must be answered exactly
 * as any invalid token: 401 with one problem document at the REST door, UNAUTHENTICATED with one
 * message at the gRPC door, so that a caller learns nothing of which check it failed. The
 * legitimate token, built by the same function, is served at both doors. The flood of bad tokens
 * from one address while another is served is `services/gateway/test/front-door-abuse.test.ts`.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { http, reportJson, startTestStack, type TestStack } from '@beacon/gateway/testing';
import { intakeV1 } from '@beacon/proto';
import { testIdentity, testNames, tokenCrafter } from '@beacon/testkit';
// Declares what `inject('infra')` returns: the run's servers, started by the global set-up.
import type {} from '@beacon/testkit/global-setup';

/** What the gateway answers for any token it does not accept. */
const INVALID = 'the bearer token is not valid';
const INVALID_PROBLEM = {
  type: 'urn:beacon:problem:unauthenticated',
  title: 'Unauthenticated',
  status: 401,
  detail: INVALID,
  grpcStatus: 'UNAUTHENTICATED',
};

let stack: TestStack;
let legitimate: string;
/** Every crafted token by name, and a genuine service identity, which belongs to the internal network only. */
let refused: ReadonlyArray<readonly [string, string]>;

beforeAll(async () => {
  stack = await startTestStack(inject('infra'), testNames(), {
    // Every call of this file comes from 127.0.0.1: room for all its refusals in one address's
    // budget of failed verifications (the budget itself is front-door-abuse.test.ts's).
    AUTH_FAILURES_BURST: '1000',
  });
  const crafter = await tokenCrafter(stack.issuer);
  legitimate = await crafter.craft();
  const service = await stack.issuer.mint({
    ...testIdentity(['service']),
    roles: ['service'],
    clearance: 'RED',
  });
  refused = [...(await crafter.attacks()), ['a service identity (the response worker’s)', service]];
  // The legitimate person's own report opens an incident that person reads: served means seen.
  const filed = await http(stack, 'POST', '/v1/reports', { token: legitimate, body: reportJson() });
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** ListIncidents with a bearer token: the incidents, or the gRPC error. */
function listIncidents(
  client: intakeV1.IntakeServiceClient,
  token: string,
): Promise<{ ok: true; count: number } | { ok: false; code: number; details: string }> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client.listIncidents(
      intakeV1.ListIncidentsRequest.fromPartial({ pageSize: 5 }),
      metadata,
      (error: ServiceError | null, response) =>
        resolve(
          error
            ? { ok: false, code: error.code, details: error.details }
            : { ok: true, count: response.incidents.length },
        ),
    ),
  );
}

/** Outcomes by token name, so a failure shows every token answered otherwise at once. */
async function outcomes<T>(answer: (token: string) => Promise<T>): Promise<Record<string, T>> {
  const table: Record<string, T> = {};
  for (const [name, token] of refused) table[name] = await answer(token);
  return table;
}
const expectedFor = <T>(value: T): Record<string, T> =>
  Object.fromEntries(refused.map(([name]) => [name, value]));

describe('crafted tokens at the public door', () => {
  test('REST: each is refused with 401 and the same problem document; the token built the same way is served', async () => {
    const answers = await outcomes(async (token) => {
      const answer = await http(stack, 'GET', '/v1/incidents', { token });
      return { status: answer.status, type: answer.headers.get('content-type'), body: answer.body };
    });
    expect(answers).toEqual(
      expectedFor({ status: 401, type: 'application/problem+json', body: INVALID_PROBLEM }),
    );

    const served = await http(stack, 'GET', '/v1/incidents', { token: legitimate });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect((served.body['incidents'] as unknown[] | undefined)?.length).toBe(1);
  });

  test('gRPC: each is refused UNAUTHENTICATED with the same message; the token built the same way is served', async () => {
    const answers = await outcomes((token) => listIncidents(stack.grpc, token));
    expect(answers).toEqual(expectedFor({ ok: false, code: status.UNAUTHENTICATED, details: INVALID }));

    expect(await listIncidents(stack.grpc, legitimate)).toEqual({ ok: true, count: 1 });
  });

  test('the service identity refused at the door is genuine: intake serves it on the internal network, and the person too', async () => {
    const intake = new intakeV1.IntakeServiceClient(
      `127.0.0.1:${stack.intake.port}`,
      credentials.createInsecure(),
    );
    try {
      const [, service] = refused.at(-1)!;
      // The response worker reads incidents (scope incidents:read) as the centre does.
      expect(await listIncidents(intake, service)).toEqual({ ok: true, count: 1 });
      expect(await listIncidents(intake, legitimate)).toEqual({ ok: true, count: 1 });
    } finally {
      intake.close();
    }
  });
});
