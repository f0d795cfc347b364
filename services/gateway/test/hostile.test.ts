import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import type { Db } from 'mongodb';
import { describe, expect } from 'vitest';
import { OBSERVABLE_TYPES } from '@beacon/domain';
import { test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  // A generous rate limit: this suite is one caller sending hundreds of requests.
  const stack = await startTestStack(infra, names, {
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  });
  onCleanup(() => stack.stop());
  return stack;
});

const hostileKey = fc.constantFrom(
  '$where',
  '$gt',
  '$ne',
  '__proto__',
  'constructor',
  'prototype',
  '',
  'title',
  'tlp',
  'awareAt',
);
/** A valid report with one member replaced, removed or added by something hostile. */
const mutatedReport = fc
  .tuple(
    fc.constantFrom(...Object.keys(reportJson()), ...['$where', '__proto__', 'extra']),
    fc.oneof(fc.jsonValue(), fc.string(), fc.constant(null), fc.object({ key: hostileKey })),
    fc.boolean(),
  )
  .map(([key, value, remove]) => {
    const body: Record<string, unknown> = reportJson();
    if (remove) delete body[key];
    else body[key] = value;
    return body;
  });
const anyBody = fc.oneof(fc.jsonValue(), fc.object({ key: hostileKey }), mutatedReport);

/** Every stored report is linked to an incident that exists: nothing is half-written. */
async function consistent(db: Db, created: number): Promise<void> {
  const reports = await db
    .collection<{ _id: string; incidentId: string; linked: boolean }>('reports')
    .find()
    .toArray();
  expect(reports).toHaveLength(created);
  const incidentIds = new Set(
    (await db.collection<{ _id: string }>('incidents').find().toArray()).map((d) => d._id),
  );
  for (const r of reports) {
    expect(r.linked).toBe(true);
    expect(incidentIds.has(r.incidentId)).toBe(true);
  }
}

describe('hostile input', () => {
  test('REST: no body makes a 5xx, every refusal is a problem document, nothing is half-written', async ({
    stack,
    mongoClient,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    let created = 0;
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const response = await http(stack, 'POST', '/v1/reports', { token, body });
        expect([201, 400]).toContain(response.status);
        if (response.status === 201) created += 1;
        else expect(response.body).toMatchObject({ status: 400, grpcStatus: 'INVALID_ARGUMENT' });
      }),
      // Found by this test once: an enum given as a number no enum has made a 500.
      { numRuns: 150, examples: [[{ tlp: 2360235202240798 }], [{ tlp: 99 }], [{ tlp: -1 }]] },
    );
    await consistent(mongoClient.db(stack.dbName), created);
  });

  test('gRPC: arbitrary field values and arbitrary bytes get OK or INVALID_ARGUMENT, never an internal error', async ({
    stack,
    mongoClient,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const request = fc.record({
      title: fc.string({ maxLength: 300 }),
      description: fc.string({ maxLength: 100 }),
      tlp: fc.integer({ min: -3, max: 9 }),
      classification: fc.option(fc.record({ rsitClass: fc.string(), rsitType: fc.string() }), {
        nil: undefined,
      }),
      sectors: fc.array(fc.oneof(fc.string(), fc.constant('energy')), { maxLength: 20 }),
      jurisdictions: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('DE')), { maxLength: 5 }),
      observables: fc.array(
        fc.record({
          type: fc.constantFrom(...OBSERVABLE_TYPES, '$where', ''),
          value: fc.string({ maxLength: 80 }),
        }),
        { maxLength: 5 },
      ),
      awareAt: fc.option(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }), {
        nil: undefined,
      }),
      // Any double, NaN and the infinities included, and ids of any shape.
      affectedAssets: fc.array(
        fc.record({
          assetId: fc.oneof(fc.string({ maxLength: 140 }), fc.constant('grid:substation-7')),
          loss: fc.oneof(fc.double(), fc.constantFrom(0, 0.5, 1)),
        }),
        { maxLength: 5 },
      ),
    });
    let created = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const code = await new Promise<status>((resolve) => {
          stack.grpc.submitReport(req, metadata, (error) => resolve(error ? error.code : status.OK));
        });
        expect([status.OK, status.INVALID_ARGUMENT]).toContain(code);
        if (code === status.OK) created += 1;
      }),
      { numRuns: 150 },
    );

    // Bytes that are not a SubmitReportRequest at all.
    const raw = new Client(`127.0.0.1:${stack.gateway.grpcPort}`, credentials.createInsecure());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        const code = await new Promise<status>((resolve) => {
          raw.makeUnaryRequest(
            '/beacon.intake.v1.IntakeService/SubmitReport',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from(bytes),
            metadata,
            (error: ServiceError | null) => resolve(error ? error.code : status.OK),
          );
        });
        expect([status.OK, status.INVALID_ARGUMENT]).toContain(code);
        if (code === status.OK) created += 1;
      }),
      { numRuns: 100 },
    );
    raw.close();
    await consistent(mongoClient.db(stack.dbName), created);
  });
});
