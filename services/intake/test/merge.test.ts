import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { fieldViolations } from '@beacon/platform';
import { commonV1, intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { openRequest, publishedEvents, report, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend(
  'intake',
  async ({ infra, names, jsm, mongoClient }, { onCleanup }): Promise<TestIntake> => {
    const t = await startTestIntake(infra, names);
    onCleanup(async () => {
      await t.stop();
      await mongoClient.db(t.dbName).dropDatabase();
      await jsm.streams.delete(t.stream);
    });
    return t;
  },
);

const code = (e: unknown) => (e as ServiceError).code;

/** `MergeIncidents` as a promise (the shared harness does not list it). */
function merge(
  t: TestIntake,
  request: Partial<intakeV1.MergeIncidentsRequest> & { survivorId: string; mergedId: string },
  token: string,
  idempotencyKey?: string,
): Promise<intakeV1.MergeIncidentsResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  if (idempotencyKey) metadata.set('idempotency-key', idempotencyKey);
  return new Promise((resolve, reject) => {
    t.client.mergeIncidents(
      { survivorExpectedVersion: 0, mergedExpectedVersion: 0, ...request },
      metadata,
      { deadline: new Date(Date.now() + 10_000) },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

const SURVIVOR_AWARE = new Date(Date.now() - 2 * 3_600_000);
const MERGED_AWARE = new Date(Date.now() - 30 * 3_600_000);

/**
 * Two incidents of one case: a GREEN one a coordinator opened, with police-b engaged, and an
 * AMBER one water-c reported, with support-d engaged.
 */
async function twoIncidents(t: TestIntake) {
  const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED', subject: 'cc-ops' });
  const waterC = await t.token({ roles: ['agency_analyst'], agencyId: 'water-c', clearance: 'AMBER' });
  const opened = await rpc(
    t,
    'openIncident',
    openRequest({
      tlp: commonV1.Tlp.TLP_GREEN,
      awareAt: SURVIVOR_AWARE,
      observables: [{ type: 'domain', value: 'grid-c2.example' }],
      sectors: ['energy'],
      jurisdictions: ['DE'],
    }),
    coordinator,
  );
  let survivor = opened.incident!;
  survivor = (
    await rpc(
      t,
      'assignAgency',
      { incidentId: survivor.id, agencyId: 'police-b', expectedVersion: 0 },
      coordinator,
    )
  ).incident!;
  const reported = await rpc(
    t,
    'submitReport',
    report({
      tlp: commonV1.Tlp.TLP_AMBER,
      awareAt: MERGED_AWARE,
      observables: [{ type: 'domain', value: 'water-c2.example' }],
      sectors: ['water-and-wastewater'],
      jurisdictions: ['FR'],
      affectedAssets: [{ assetId: 'pump-7', loss: 0.4 }],
    }),
    waterC,
  );
  let merged = reported.incident!;
  merged = (
    await rpc(
      t,
      'assignAgency',
      { incidentId: merged.id, agencyId: 'support-d', expectedVersion: 0 },
      coordinator,
    )
  ).incident!;
  return { coordinator, waterC, survivor, merged };
}

describe('MergeIncidents', () => {
  test('a coordinator cleared for both merges them: one survivor keeps everything, audited and announced', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const { coordinator, survivor, merged } = await twoIncidents(t);
    const request = {
      survivorId: survivor.id,
      mergedId: merged.id,
      awareAt: MERGED_AWARE,
      survivorExpectedVersion: survivor.version,
      mergedExpectedVersion: merged.version,
    };
    const after = (await merge(t, request, coordinator, 'merge-key-0001')).survivor!;
    expect(after).toMatchObject({
      id: survivor.id,
      tlp: commonV1.Tlp.TLP_AMBER,
      reportIds: [...survivor.reportIds, ...merged.reportIds],
      engagedAgencyIds: ['police-b', 'support-d'],
      sectors: ['energy', 'water-and-wastewater'],
      jurisdictions: ['DE', 'FR'],
      awareAt: MERGED_AWARE,
      affectedAssets: [{ assetId: 'pump-7', loss: 0.4 }],
      mergedInto: '',
      version: survivor.version + 1,
    });
    expect(after.observables.map((o) => o.value).sort()).toEqual(['grid-c2.example', 'water-c2.example']);

    // The merged incident is closed and points to the survivor, for a caller who may read both.
    const gone = (await rpc(t, 'getIncident', { incidentId: merged.id }, coordinator)).incident!;
    expect(gone).toMatchObject({
      status: intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED,
      mergedInto: survivor.id,
    });

    // Repeated, with the same key or without one: the same survivor, nothing changed.
    expect((await merge(t, request, coordinator, 'merge-key-0001')).survivor).toEqual(after);
    expect((await merge(t, request, coordinator)).survivor).toEqual(after);
    expect((await rpc(t, 'getIncident', { incidentId: survivor.id }, coordinator)).incident?.version).toBe(
      after.version,
    );
    // The key names one request: another request under it is refused.
    const reused = await merge(
      t,
      { ...request, awareAt: SURVIVOR_AWARE },
      coordinator,
      'merge-key-0001',
    ).catch((e: unknown) => e);
    expect(code(reused)).toBe(status.FAILED_PRECONDITION);

    // A new report with the merged incident's indicator joins the survivor.
    const later = await rpc(
      t,
      'submitReport',
      report({ tlp: commonV1.Tlp.TLP_GREEN, observables: [{ type: 'domain', value: 'water-c2.example' }] }),
      coordinator,
    );
    expect(later.incident?.id).toBe(survivor.id);

    const db = mongoClient.db(t.dbName);
    const audited = await db.collection('audit').find({ action: 'incident.merged' }).toArray();
    expect(audited.map((r) => [String(r['objectId']), String(r['actor'])]).sort()).toEqual(
      [
        [merged.id, 'cc-ops'],
        [survivor.id, 'cc-ops'],
      ].sort(),
    );

    const events = (await publishedEvents(t, jetstream(nats), db)).filter(
      (e) => e.type === 'beacon.incident.merged.v1',
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ incidentId: survivor.id, tlp: commonV1.Tlp.TLP_AMBER });
    const payload = intakeV1.IncidentMerged.decode(events[0]!.data);
    expect(payload).toMatchObject({
      mergedId: merged.id,
      survivor: { id: survivor.id, engagedAgencyIds: ['police-b', 'support-d'] },
      survivorBefore: { tlp: commonV1.Tlp.TLP_GREEN, sourceAgencyId: '', engagedAgencyIds: ['police-b'] },
      mergedBefore: {
        tlp: commonV1.Tlp.TLP_AMBER,
        sourceAgencyId: 'water-c',
        engagedAgencyIds: ['support-d'],
      },
    });
  });

  test('a coordinator below either label and any agency get NOT_FOUND as for a made-up id; other roles are refused', async ({
    intake: t,
  }) => {
    const { coordinator, waterC, survivor, merged } = await twoIncidents(t);
    const request = { survivorId: survivor.id, mergedId: merged.id, awareAt: SURVIVOR_AWARE };
    const lowCoordinator = await t.token({ roles: ['coordinator'], clearance: 'GREEN' });
    const hidden = await merge(t, request, lowCoordinator).catch((e: unknown) => e as ServiceError);
    const missing = await merge(t, { ...request, mergedId: 'inc_doesnotexist0000' }, lowCoordinator).catch(
      (e: unknown) => e as ServiceError,
    );
    expect(code(hidden)).toBe(status.NOT_FOUND);
    expect(code(missing)).toBe(status.NOT_FOUND);
    expect((hidden as ServiceError).details.replace(merged.id, 'X')).toBe(
      (missing as ServiceError).details.replace('inc_doesnotexist0000', 'X'),
    );
    // The source agency of the merged incident reads it, and still may not merge it.
    const agency = await merge(t, request, waterC).catch((e: unknown) => e);
    expect(code(agency)).toBe(status.PERMISSION_DENIED);
    const auditor = await t.token({ roles: ['auditor'], clearance: 'RED' });
    expect(code(await merge(t, request, auditor).catch((e: unknown) => e))).toBe(status.PERMISSION_DENIED);
    // Nothing was changed by the refusals...
    expect((await rpc(t, 'getIncident', { incidentId: merged.id }, coordinator)).incident).toEqual(merged);
    // ...and the coordinator cleared for both is served.
    const after = (await merge(t, request, coordinator)).survivor!;
    expect(after.reportIds).toEqual([...survivor.reportIds, ...merged.reportIds]);
    expect(after.awareAt).toEqual(SURVIVOR_AWARE);

    // The merged incident's source still reads it, but not where it went: the survivor is
    // AMBER now and water-c is not named on it.
    const seen = (await rpc(t, 'getIncident', { incidentId: merged.id }, waterC)).incident!;
    expect(seen).toMatchObject({ status: intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED, mergedInto: '' });
    // Nor through the list; the coordinator cleared for both sees the pointer there too.
    const listed = async (token: string) =>
      (
        await rpc(
          t,
          'listIncidents',
          {
            pageSize: 100,
            pageToken: '',
            status: intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED,
            filter: '',
            orderBy: '',
          },
          token,
        )
      ).incidents.find((i) => i.id === merged.id);
    expect(await listed(waterC)).toMatchObject({ mergedInto: '' });
    expect(await listed(coordinator)).toMatchObject({ mergedInto: survivor.id });
    expect(
      code(await rpc(t, 'getIncident', { incidentId: survivor.id }, waterC).catch((e: unknown) => e)),
    ).toBe(status.NOT_FOUND);
  });

  test('an awareness time that is neither incident’s, and a stale version, are refused naming the field', async ({
    intake: t,
  }) => {
    const { coordinator, survivor, merged } = await twoIncidents(t);
    const invented = await merge(
      t,
      { survivorId: survivor.id, mergedId: merged.id, awareAt: new Date('1991-01-01T00:00:00Z') },
      coordinator,
    ).catch((e: unknown) => e as ServiceError);
    expect(code(invented)).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations((invented as ServiceError).metadata)).toEqual([
      expect.objectContaining({ field: 'aware_at' }),
    ]);
    const stale = await merge(
      t,
      { survivorId: survivor.id, mergedId: merged.id, awareAt: SURVIVOR_AWARE, mergedExpectedVersion: 1 },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(stale)).toBe(status.ABORTED);
    const self = await merge(
      t,
      { survivorId: survivor.id, mergedId: survivor.id, awareAt: SURVIVOR_AWARE },
      coordinator,
    ).catch((e: unknown) => e as ServiceError);
    expect(fieldViolations((self as ServiceError).metadata)).toEqual([
      expect.objectContaining({ field: 'merged_id' }),
    ]);
    // The same request at the right versions goes through.
    const done = await merge(
      t,
      {
        survivorId: survivor.id,
        mergedId: merged.id,
        awareAt: SURVIVOR_AWARE,
        mergedExpectedVersion: merged.version,
      },
      coordinator,
    );
    expect(done.survivor?.engagedAgencyIds).toEqual(['police-b', 'support-d']);
  });

  test('a merge a crash left half done (merged incident marked, survivor not yet changed) is finished by the sweep', async ({
    intake: t,
    mongoClient,
  }) => {
    const { coordinator, survivor, merged } = await twoIncidents(t);
    // What the first write of a merge leaves, as if the process died right after it.
    await mongoClient
      .db(t.dbName)
      .collection<{ _id: string }>('incidents')
      .updateOne(
        { _id: merged.id },
        {
          $set: {
            status: 'closed',
            mergedInto: survivor.id,
            mergePending: {
              survivorId: survivor.id,
              awareAt: MERGED_AWARE,
              actor: 'cc-ops',
              actorAgencyId: null,
              at: new Date(Date.now() - 60_000),
            },
          },
          $inc: { version: 1 },
        },
      );
    expect(await t.intake.service.finishPendingMerges()).toBe(1);
    const after = (await rpc(t, 'getIncident', { incidentId: survivor.id }, coordinator)).incident!;
    expect(after).toMatchObject({
      reportIds: [...survivor.reportIds, ...merged.reportIds],
      engagedAgencyIds: ['police-b', 'support-d'],
      awareAt: MERGED_AWARE,
      tlp: commonV1.Tlp.TLP_AMBER,
    });
    // Finished once: the next sweep finds nothing, and a retried command changes nothing.
    expect(await t.intake.service.finishPendingMerges()).toBe(0);
    const retried = await merge(
      t,
      { survivorId: survivor.id, mergedId: merged.id, awareAt: MERGED_AWARE },
      coordinator,
    );
    expect(retried.survivor).toEqual(after);
  });
});
