import { status, type ServiceError } from '@grpc/grpc-js';
import { MongoNetworkError } from 'mongodb';
import { describe, expect, vi } from 'vitest';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import type * as IncidentStoreModule from '../src/adapters/mongo/incident-store.js';
import { report, rpc, startTestIntake, type TestIntake } from './harness.js';

/**
 * The store going away between a report's claim on its indicators and the insert of the
 * incident it opens, as a SIGKILL of the store does: the next incident insert fails with the
 * driver's network error, once.
 */
const fault = vi.hoisted(() => ({ failNextInsert: false }));
vi.mock('../src/adapters/mongo/incident-store.js', async (importOriginal) => {
  const original = await importOriginal<typeof IncidentStoreModule>();
  class FaultyIncidentStore extends original.MongoIncidentStore {
    override insert(...args: Parameters<IncidentStoreModule.MongoIncidentStore['insert']>) {
      if (!fault.failNextInsert) return super.insert(...args);
      fault.failNextInsert = false;
      return Promise.reject(new MongoNetworkError('connection closed (test fault)'));
    }
  }
  return { ...original, MongoIncidentStore: FaultyIncidentStore };
});

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  fault.failNextInsert = false;
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

const failure = (e: unknown) => e as ServiceError;

describe('first reports of a new indicator', () => {
  test('reports arriving together open one incident, and every acknowledgement names it', async ({
    intake: t,
    names,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const indicator = [{ type: 'domain', value: `first-${names.id}.example` }];
    const acks = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rpc(t, 'submitReport', report({ title: `Report ${i}`, observables: indicator }), token),
      ),
    );

    const incidentIds = new Set(acks.map((a) => a.incident?.id));
    expect(incidentIds.size).toBe(1);
    const [incidentId] = incidentIds;
    expect(acks.map((a) => a.report?.incidentId)).toEqual(acks.map(() => incidentId));
    const incidents = await mongoClient.db(t.dbName).collection('incidents').find().toArray();
    expect(incidents).toHaveLength(1);
    expect([...(incidents[0]?.['reportIds'] as string[])].sort()).toEqual(
      acks.map((a) => a.report?.id).sort(),
    );
  });

  test('an indicator whose incident closed is claimed anew: reports together open one new incident', async ({
    intake: t,
    names,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const indicator = [{ type: 'domain', value: `reclaimed-${names.id}.example` }];
    const { incident: closed } = await rpc(t, 'submitReport', report({ observables: indicator }), token);
    await rpc(
      t,
      'transitionIncident',
      {
        incidentId: closed!.id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED,
        expectedVersion: 1,
        reason: 'contained',
      },
      coordinator,
    );

    const acks = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        rpc(t, 'submitReport', report({ title: `Later ${i}`, observables: indicator }), token),
      ),
    );
    const incidentIds = new Set(acks.map((a) => a.incident?.id));
    expect(incidentIds.size).toBe(1);
    expect(incidentIds.has(closed!.id)).toBe(false);
    expect(await mongoClient.db(t.dbName).collection('incidents').countDocuments()).toBe(2);
  });

  test('a submission the store failed after its claim finishes on retry with its ids; a rival waits', async ({
    intake: t,
    names,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const indicator = [{ type: 'domain', value: `claimed-${names.id}.example` }];
    const first = report({ title: 'First', observables: indicator });
    const rival = report({ title: 'Rival', observables: indicator });
    const firstKey = { 'idempotency-key': 'claim-first-0001' };
    const rivalKey = { 'idempotency-key': 'claim-rival-0001' };

    fault.failNextInsert = true;
    const stopped = failure(await rpc(t, 'submitReport', first, token, firstKey).catch((e: unknown) => e));
    expect(stopped.code).toBe(status.UNAVAILABLE);
    const stored = await db.collection('reports').findOne({ title: 'First' });
    const plannedIncident = String(stored?.['incidentId']);
    expect(await db.collection('incidents').countDocuments()).toBe(0);

    // The indicator is claimed for an incident not stored yet: a rival neither opens a second
    // one nor fails for good; it is told to come back.
    const waiting = failure(await rpc(t, 'submitReport', rival, token, rivalKey).catch((e: unknown) => e));
    expect(waiting.code).toBe(status.UNAVAILABLE);
    expect(Number(waiting.metadata.get('retry-after')[0])).toBeGreaterThan(0);
    expect(await db.collection('incidents').countDocuments()).toBe(0);

    const retried = await rpc(t, 'submitReport', first, token, firstKey);
    expect(retried.report?.id).toBe(String(stored?._id));
    expect(retried.incident?.id).toBe(plannedIncident);
    expect(retried.attached).toBe(false);

    const rivalRetried = await rpc(t, 'submitReport', rival, token, rivalKey);
    expect(rivalRetried).toMatchObject({ attached: true, report: { incidentId: plannedIncident } });
    expect(rivalRetried.incident?.reportIds).toEqual([retried.report?.id, rivalRetried.report?.id]);
    expect(await db.collection('incidents').countDocuments()).toBe(1);
  });
});
