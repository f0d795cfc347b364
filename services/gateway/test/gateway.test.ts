import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { fieldViolations } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { freePort, test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

describe('the REST door', () => {
  test('creates a report and reads its incident back in the proto3 JSON mapping', async ({ stack }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const created = await http(stack, 'POST', '/v1/reports', { token, body: reportJson() });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json');
    const incident = created.body['incident'] as Record<string, unknown>;
    expect(incident).toMatchObject({
      status: 'INCIDENT_STATUS_REPORTED',
      tlp: 'TLP_GREEN',
      classification: { rsitClass: 'fraud', rsitType: 'phishing' },
      observables: [{ type: 'url', value: 'https://bank-login.example/secure' }],
      version: 1,
    });

    const read = await http(stack, 'GET', `/v1/incidents/${String(incident['id'])}`, { token });
    expect(read.status).toBe(200);
    expect(read.body['incident']).toEqual(incident);

    const listed = await http(stack, 'GET', '/v1/incidents?pageSize=10&status=INCIDENT_STATUS_REPORTED', {
      token,
    });
    expect((listed.body['incidents'] as unknown[]).map((i) => (i as { id: string }).id)).toEqual([
      incident['id'],
    ]);
  });

  test('a report across a boundary opens its own incident; its relation is a cleared coordinator’s only', async ({
    stack,
  }) => {
    const owner = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const prober = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr', clearance: 'RED' });
    const cleared = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const uncleared = await stack.token({ roles: ['coordinator'], clearance: 'AMBER' });
    const hidden = await http(stack, 'POST', '/v1/reports', {
      token: owner,
      body: reportJson({ tlp: 'TLP_RED' }),
    });
    const hiddenId = String((hidden.body['incident'] as { id: string }).id);
    const probe = await http(stack, 'POST', '/v1/reports', { token: prober, body: reportJson() });
    expect(probe.status).toBe(201);
    // Not attached (proto3 JSON leaves false out): its own GREEN incident, as for an unseen indicator.
    expect(probe.body['attached'] ?? false).toBe(false);
    expect(probe.body).toMatchObject({ incident: { tlp: 'TLP_GREEN' } });
    const ownId = String((probe.body['incident'] as { id: string }).id);
    expect(ownId).not.toBe(hiddenId);

    const relations = (token: string, id: string) =>
      http(stack, 'GET', `/v1/incidents/${id}/relations`, { token });
    const seen = await relations(cleared, hiddenId);
    expect(seen.status).toBe(200);
    expect(seen.body['relations']).toEqual([
      expect.objectContaining({
        incidentId: ownId,
        relatedIncidentId: hiddenId,
        tlp: 'TLP_RED',
        sharedObservables: [{ type: 'url', value: 'https://bank-login.example/secure' }],
      }),
    ]);
    // Everyone else, for the hidden incident or a made-up one, is answered as for no relations.
    for (const token of [uncleared, owner, prober]) {
      for (const id of [hiddenId, ownId, 'inc_nothere']) {
        const other = await relations(token, id);
        expect({ status: other.status, relations: other.body['relations'] ?? [] }).toEqual({
          status: 200,
          relations: [],
        });
      }
    }
  });

  test('returns the first result for a retried Idempotency-Key', async ({ stack }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const headers = { 'idempotency-key': 'rest-retry-000001' };
    const body = reportJson();
    const first = await http(stack, 'POST', '/v1/reports', { token, body, headers });
    const second = await http(stack, 'POST', '/v1/reports', { token, body, headers });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
  });

  test('refuses unknown fields, operator keys and wrong types with problem details, storing nothing', async ({
    stack,
    mongoClient,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const bad = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({
        $where: 'sleep(1000)',
        title: { $gt: '' },
        observables: [{ type: 'url', value: 'x', extra: 1 }],
        awareAt: 'yesterday',
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(bad.body).toMatchObject({
      type: 'urn:beacon:problem:invalid-argument',
      status: 400,
      grpcStatus: 'INVALID_ARGUMENT',
    });
    expect(
      (bad.body['violations'] as { field: string; reason: string }[]).map((v) => [v.field, v.reason]).sort(),
    ).toEqual([
      ['$where', 'UNKNOWN_FIELD'],
      ['awareAt', 'WRONG_TYPE'],
      ['observables[0].extra', 'UNKNOWN_FIELD'],
      ['title', 'WRONG_TYPE'],
    ]);

    // Violations found by intake itself come through the gateway unchanged.
    const invalid = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({ observables: [{ type: 'ipv4', value: '300.1.1.1' }] }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body['violations']).toEqual([
      {
        field: 'observables[0]',
        description: 'not a dotted-quad IPv4 address (no leading zeros)',
        reason: 'INVALID_OBSERVABLE',
      },
    ]);
    expect(await mongoClient.db(stack.dbName).collection('reports').countDocuments()).toBe(0);
  });

  test('opens an incident with affected assets in the canonical JSON, and refuses bad ones', async ({
    stack,
    mongoClient,
  }) => {
    const token = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const opening = (affectedAssets: unknown) => ({
      title: 'Substation outage after a control-system compromise',
      tlp: 'TLP_AMBER',
      classification: { rsitClass: 'availability', rsitType: 'outage' },
      sectors: ['energy'],
      jurisdictions: ['FR'],
      severityInputs: {
        functionalImpact: 'none',
        observedActivity: 'none',
        location: 'unknown',
        actor: 'unknown',
        informationImpact: 'none',
        recoverability: 'regular',
        crossSectorDependency: 'none',
        potentialImpact: 'none',
      },
      awareAt: new Date(Date.now() - 600_000).toISOString(),
      affectedAssets,
    });
    const db = mongoClient.db(stack.dbName);

    // Refusals first, so "nothing stored" means exactly that.
    const bad = await http(stack, 'POST', '/v1/incidents', {
      token,
      body: opening([
        { assetId: 'grid/substation', loss: 0.5 },
        { assetId: 'grid:substation-7', loss: 1.5 },
      ]),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(bad.body).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT' });
    expect(
      (bad.body['violations'] as { field: string; reason: string }[]).map((v) => [v.field, v.reason]),
    ).toEqual([
      ['affected_assets[0].asset_id', 'INVALID_ASSET_ID'],
      ['affected_assets[1].loss', 'OUT_OF_RANGE'],
    ]);
    const tooMany = await http(stack, 'POST', '/v1/incidents', {
      token,
      body: opening(Array.from({ length: 101 }, (_, i) => ({ assetId: `asset-${i}`, loss: 1 }))),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body['violations']).toEqual([
      { field: 'affected_assets', description: 'at most 100', reason: 'TOO_MANY' },
    ]);
    const unknownMember = await http(stack, 'POST', '/v1/incidents', {
      token,
      body: opening([{ assetId: 'grid-1', loss: 0.5, $where: 1 }]),
    });
    expect(unknownMember.status).toBe(400);
    expect(unknownMember.body['violations']).toMatchObject([
      { field: 'affectedAssets[0].$where', reason: 'UNKNOWN_FIELD' },
    ]);
    expect(await db.collection('incidents').countDocuments()).toBe(0);

    const created = await http(stack, 'POST', '/v1/incidents', {
      token,
      body: opening([
        { assetId: 'grid:substation-7', loss: 0.25 },
        { asset_id: 'water.pump_3' },
        { assetId: 'grid:substation-7', loss: 0.75 },
      ]),
    });
    expect(created.status).toBe(201);
    const incident = created.body['incident'] as Record<string, unknown>;
    const expected = [
      { assetId: 'grid:substation-7', loss: 0.75 },
      { assetId: 'water.pump_3', loss: 1 },
    ];
    expect(incident['affectedAssets']).toEqual(expected);
    const read = await http(stack, 'GET', `/v1/incidents/${String(incident['id'])}`, { token });
    expect((read.body['incident'] as Record<string, unknown>)['affectedAssets']).toEqual(expected);
  });

  test('answers every failure as an RFC 9457 problem with the matching status', async ({ stack }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const cases: [string, Promise<{ status: number; body: Record<string, unknown> }>][] = [
      ['401 without a token', http(stack, 'GET', '/v1/incidents')],
      [
        '401 without a token, before the body is looked at',
        http(stack, 'POST', '/v1/reports', { body: { $where: 1 } }),
      ],
      ['404 for an unknown incident', http(stack, 'GET', '/v1/incidents/inc_nothere', { token })],
      ['404 for an unknown route', http(stack, 'GET', '/v2/nothing', { token })],
      ['405 for a wrong method', http(stack, 'DELETE', '/v1/reports', { token })],
      [
        '415 for a non-JSON body',
        http(stack, 'POST', '/v1/reports', {
          token,
          rawBody: 'a=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      ],
      [
        '400 for malformed JSON',
        http(stack, 'POST', '/v1/reports', {
          token,
          rawBody: '{"title":',
          headers: { 'content-type': 'application/json' },
        }),
      ],
      [
        '413 for an oversized body',
        http(stack, 'POST', '/v1/reports', {
          token,
          body: reportJson({ description: 'x'.repeat(2 * 1024 * 1024) }),
        }),
      ],
      ['400 for a bad page size', http(stack, 'GET', '/v1/incidents?pageSize=abc', { token })],
      ['400 for a malformed path escape', http(stack, 'GET', '/v1/incidents/%E0%A4%A', { token })],
      [
        '400 for a header gRPC cannot carry',
        http(stack, 'GET', '/v1/incidents', { token, headers: { 'x-request-id': 'caf\u00e9' } }),
      ],
      [
        '403 for a role that may not',
        http(stack, 'POST', '/v1/incidents/inc_x:assignAgency', { token, body: { agencyId: 'cert-de' } }),
      ],
    ];
    const results = await Promise.all(
      cases.map(async ([name, p]) => [name, (await p).status, (await p).body] as const),
    );
    expect(results.map(([name, code]) => [name, code])).toEqual(
      cases.map(([name]) => [name, Number(name.slice(0, 3))]),
    );
    for (const [, code, body] of results)
      expect(body).toMatchObject({
        status: code,
        type: expect.stringMatching(/^urn:beacon:problem:/) as string,
      });
  });

  test('tells callers who they are to Beacon, and a stranger nothing', async ({ stack }) => {
    const analyst = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr', clearance: 'AMBER' });
    const me = await http(stack, 'GET', '/v1/caller', { token: analyst });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      roles: ['agency_analyst'],
      agencyId: 'cert-fr',
      clearance: 'TLP_AMBER',
    });
    expect(typeof me.body['subject']).toBe('string');
    // A coordinator of the centre has no agency: proto3 JSON leaves the empty field out.
    const coordinator = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const them = await http(stack, 'GET', '/v1/caller', { token: coordinator });
    expect(them.body).toMatchObject({ roles: ['coordinator'], clearance: 'TLP_RED' });
    expect(them.body['agencyId']).toBeUndefined();
    expect((await http(stack, 'GET', '/v1/caller', {})).status).toBe(401);
  });

  test('serves its OpenAPI 3.1 document and health routes', async ({ stack }) => {
    const doc = await http(stack, 'GET', '/openapi.json');
    expect(doc.body['openapi']).toBe('3.1.0');
    expect(Object.keys(doc.body['paths'] as object)).toContain('/v1/incidents/{incident_id}:transition');
    expect((await http(stack, 'GET', '/healthz')).body).toEqual({ status: 'SERVING' });
    expect((await http(stack, 'GET', '/readyz')).status).toBe(200);
  });
});

describe('readiness', () => {
  test('is not ready while a service behind the door is down, and still serves the others', async ({
    infra,
    names,
  }) => {
    // Impact configured, and nothing listening where it should be.
    const stack = await startTestStack(infra, names, { IMPACT_ADDRESS: `127.0.0.1:${await freePort()}` });
    try {
      const ready = await http(stack, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'NOT_SERVING' });
      expect((await http(stack, 'GET', '/healthz')).status).toBe(200);
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      expect((await http(stack, 'POST', '/v1/reports', { token, body: reportJson() })).status).toBe(201);
    } finally {
      await stack.stop();
    }
  });
});

describe('the gRPC door', () => {
  test('serves the intake contract with the same results and errors', async ({ stack }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const call = <Res>(fn: (cb: (e: ServiceError | null, r: Res) => void) => void) =>
      new Promise<Res>((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r))));
    const request = intakeV1.SubmitReportRequest.fromJSON(reportJson());
    const created = await call<intakeV1.SubmitReportResponse>((cb) =>
      stack.grpc.submitReport(request, metadata, cb),
    );
    expect(created.incident?.status).toBe(intakeV1.IncidentStatus.INCIDENT_STATUS_REPORTED);

    const error = (await call<intakeV1.SubmitReportResponse>((cb) =>
      stack.grpc.submitReport({ ...request, jurisdictions: ['ZZ'] }, metadata, cb),
    ).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error.metadata)).toEqual([
      {
        field: 'jurisdictions[0]',
        description: '"ZZ" is not an ISO 3166 code',
        reason: 'UNKNOWN_JURISDICTION',
      },
    ]);
  });
});

describe('rate limits', () => {
  test('refuse a caller over its rate with 429 and Retry-After', async ({ infra, names }) => {
    const stack = await startTestStack(infra, names, { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    try {
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await http(stack, 'GET', '/v1/incidents', { token })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await http(stack, 'GET', '/v1/incidents', { token });
      expect(limited.headers.get('retry-after')).toBe('1');
      const other = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
      expect((await http(stack, 'GET', '/v1/incidents', { token: other })).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});

describe('an upstream failure', () => {
  test('reaches the caller as 503 without the internal address the transport reported', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names);
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    await stack.intake.stop();
    try {
      const down = await http(stack, 'GET', '/v1/incidents', { token });
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        grpcStatus: 'UNAVAILABLE',
        detail: 'the service is unavailable; retry later',
      });
      expect(JSON.stringify(down.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    } finally {
      stack.grpc.close();
      await stack.gateway.stop();
    }
  });
});
