import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { http, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

type Client = intakeV1.IntakeServiceClient;

/** ListIncidents with a bearer token: the incidents, or the gRPC error. */
function listIncidents(
  client: Client,
  token: string,
): Promise<intakeV1.ListIncidentsResponse | ServiceError> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client.listIncidents(
      intakeV1.ListIncidentsRequest.fromPartial({ pageSize: 5 }),
      metadata,
      (error, response) => resolve(error ?? response),
    ),
  );
}

/** A REST answer with what differs between any two calls (their trace ids) set aside. */
async function restAnswer(stack: TestStack, token: string) {
  const answer = await http(stack, 'GET', '/v1/incidents', { token });
  const { traceId: _trace, instance: _instance, ...body } = answer.body;
  return { status: answer.status, body, type: answer.headers.get('content-type') };
}

describe("the public door and Beacon's service identities", () => {
  test('refuses a service identity (REST and gRPC) as any invalid token, which intake accepts directly', async ({
    stack,
  }) => {
    const service = await stack.issuer.mint({ subject: 'workflows', roles: ['service'], clearance: 'RED' });
    // An invalid token to compare with: the same claims from an issuer the gateway does not trust.
    const [header, payload] = service.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const coordinator = await stack.token({ roles: ['coordinator'], clearance: 'RED' });

    // REST: 401, the same problem document as for a forged signature.
    const refused = await restAnswer(stack, service);
    expect(refused.status).toBe(401);
    expect(refused.type).toContain('application/problem+json');
    expect(refused).toEqual(await restAnswer(stack, forged));
    expect(JSON.stringify(refused.body)).not.toMatch(/service|audience|internal/i);
    // gRPC: UNAUTHENTICATED, the same details as for a forged signature.
    const grpcRefused = (await listIncidents(stack.grpc, service)) as ServiceError;
    const grpcForged = (await listIncidents(stack.grpc, forged)) as ServiceError;
    expect(grpcRefused.code).toBe(status.UNAUTHENTICATED);
    expect([grpcRefused.code, grpcRefused.details]).toEqual([grpcForged.code, grpcForged.details]);

    // The same service identity is served by intake on the internal network...
    const intake = new intakeV1.IntakeServiceClient(
      `127.0.0.1:${stack.intake.port}`,
      credentials.createInsecure(),
    );
    try {
      expect(await listIncidents(intake, service)).toMatchObject({ incidents: [] });
    } finally {
      intake.close();
    }
    // ...and a coordinator is served at the door, both ways.
    expect((await http(stack, 'GET', '/v1/incidents', { token: coordinator })).status).toBe(200);
    expect(await listIncidents(stack.grpc, coordinator)).toMatchObject({ incidents: [] });
  });

  test("refuses role service under the people's audience at the door and behind it", async ({ stack }) => {
    const disguised = await stack.issuer.mint({
      subject: 'workflows',
      roles: ['service'],
      clearance: 'RED',
      audience: stack.issuer.audience,
    });
    expect((await http(stack, 'GET', '/v1/incidents', { token: disguised })).status).toBe(401);
    const intake = new intakeV1.IntakeServiceClient(
      `127.0.0.1:${stack.intake.port}`,
      credentials.createInsecure(),
    );
    try {
      expect(await listIncidents(intake, disguised)).toMatchObject({ code: status.UNAUTHENTICATED });
      // A person's token is served behind the door as well.
      const analyst = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      expect(await listIncidents(intake, analyst)).toMatchObject({ incidents: [] });
    } finally {
      intake.close();
    }
  });
});
