import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, onTestFinished } from 'vitest';
import { fieldViolations, pendingMarksDb } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { openRequest, publishedEvents, report, rpc, startTestIntake, type TestIntake } from './harness.js';
import { MAX_INCIDENT_REPORTS } from '../src/domain/rules.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

const code = (e: unknown) => (e as ServiceError).code;

/** A report as a crash between storing it and linking it leaves it: stored, not linked. */
function orphanReport(
  id: string,
  incidentId: string,
  fields: {
    opensIncident?: boolean;
    minutesAgo?: number;
    tlp?: string;
    observables?: { type: string; value: string }[];
    audit?: Record<string, unknown>;
  } = {},
) {
  const submittedAt = new Date(Date.now() - (fields.minutesAgo ?? 1) * 60_000);
  return {
    _id: id,
    incidentId,
    reporterAgencyId: 'cert-de',
    title: `Orphan ${id}`,
    description: '',
    tlp: fields.tlp ?? 'AMBER',
    classification: { rsitClass: 'fraud', rsitType: 'phishing' },
    sectors: [],
    jurisdictions: ['DE'],
    observables: fields.observables ?? [],
    awareAt: submittedAt,
    submittedAt,
    opensIncident: fields.opensIncident ?? true,
    linked: false,
    ...(fields.audit ? { audit: fields.audit } : {}),
  };
}

describe('intake over gRPC', () => {
  test('a report opens an incident and publishes reported and opened exactly once', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const res = await rpc(t, 'submitReport', report(), token);
    expect(res.attached).toBe(false);
    expect(res.report?.incidentId).toBe(res.incident?.id);
    expect(res.incident).toMatchObject({
      status: intakeV1.IncidentStatus.INCIDENT_STATUS_REPORTED,
      sectors: ['water-and-wastewater'],
      jurisdictions: ['DE-BY'],
      observables: [{ type: 'domain', value: 'evil-c2.example' }],
      version: 1,
    });

    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    expect(events.map((e) => e.type).sort()).toEqual([
      'beacon.incident.opened.v1',
      'beacon.incident.reported.v1',
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    expect(events.every((e) => e.incidentId === res.incident?.id && e.source === 'beacon/intake')).toBe(true);
    const opened = intakeV1.IncidentOpened.decode(events.find((e) => e.type.includes('opened'))!.data);
    expect(opened.incident?.id).toBe(res.incident?.id);
  });

  test('a retried submission with the same idempotency key returns the first result', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const key = { 'idempotency-key': 'retry-0001-abcdef' };
    const body = report();
    const [first, second] = await Promise.all([
      rpc(t, 'submitReport', body, token, key),
      rpc(t, 'submitReport', body, token, key),
    ]);
    const audit = mongoClient.db(t.dbName).collection('audit');
    const auditedBefore = await audit.countDocuments({ action: 'report.submitted' });
    const third = await rpc(t, 'submitReport', body, token, key);
    // A replay of a finished submission is not a second submission in the audit log either.
    expect(await audit.countDocuments({ action: 'report.submitted' })).toBe(auditedBefore);
    expect(second.report?.id).toBe(first.report?.id);
    expect(third.report?.id).toBe(first.report?.id);
    expect(third.incident?.id).toBe(first.incident?.id);
    const db = mongoClient.db(t.dbName);
    expect(await db.collection('reports').countDocuments()).toBe(1);
    expect(await db.collection('incidents').countDocuments()).toBe(1);
    expect(await publishedEvents(t, jetstream(nats), db)).toHaveLength(2);

    const changed = await rpc(t, 'submitReport', report({ title: 'Another' }), token, key).catch(
      (e: unknown) => e,
    );
    expect(code(changed)).toBe(status.FAILED_PRECONDITION);
  });

  test('an idempotency key is honoured for the retention, then forgotten', async ({
    intake: t,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const old = { 'idempotency-key': 'yesterday-0001' };
    const recent = { 'idempotency-key': 'today-0001' };
    const body = report();
    const first = await rpc(t, 'submitReport', body, token, old);
    const kept = await rpc(t, 'submitReport', body, token, recent);
    const keys = mongoClient.db(t.dbName).collection<{ _id: string; createdAt: Date }>('idempotency');
    await keys.updateOne(
      { _id: { $regex: 'yesterday-0001$' } },
      {
        $set: { createdAt: new Date(Date.now() - 25 * 3_600_000) },
      },
    );

    expect(await t.intake.service.forgetIdempotencyKeys()).toBe(1);
    // The forgotten key is a new request now; the recent one still replays.
    expect((await rpc(t, 'submitReport', body, token, old)).report?.id).not.toBe(first.report?.id);
    expect((await rpc(t, 'submitReport', body, token, recent)).report?.id).toBe(kept.report?.id);
  });

  test('reports from two agencies with the same indicator, written differently, correlate', async ({
    intake: t,
  }) => {
    const a = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const b = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by' });
    // A GREEN incident: the Beacon community reads it, so police-by's GREEN report may join it.
    const first = await rpc(t, 'submitReport', report({ tlp: 2 }), a);
    const second = await rpc(
      t,
      'submitReport',
      report({ observables: [{ type: 'domain', value: 'EVIL-C2.Example.' }], tlp: 2 }),
      b,
    );
    const id = first.incident!.id;
    expect(second).toMatchObject({ attached: true, report: { incidentId: id } });
    expect(second.incident?.reportIds).toEqual([first.report?.id, second.report?.id]);
    // Joining makes police-by a reporter, not a named recipient: the source is still cert-de.
    expect(second.incident?.sourceAgencyId).toBe('cert-de');
    expect(second.incident?.engagedAgencyIds).toEqual([]);
  });

  test('unassigning an agency takes away what engagement gave it, and is announced', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const source = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const police = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'RED' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const id = (await rpc(t, 'submitReport', report(), source)).incident!.id;
    const read = (token: string) =>
      rpc(t, 'getIncident', { incidentId: id }, token).then(
        (r) => r.incident?.version,
        (e: unknown) => code(e),
      );
    const unassign = (agencyId: string, token: string, expectedVersion = 0) =>
      rpc(t, 'unassignAgency', { incidentId: id, agencyId, expectedVersion }, token).then(
        (r) => r.incident?.engagedAgencyIds,
        (e: unknown) => code(e),
      );
    await rpc(t, 'assignAgency', { incidentId: id, agencyId: 'police-by', expectedVersion: 1 }, coordinator);
    expect(await read(police)).toBe(2);

    // Only a coordinator, only an engaged agency, only on the version seen.
    expect(await unassign('police-by', police)).toBe(status.PERMISSION_DENIED);
    expect(await unassign('police-by', coordinator, 1)).toBe(status.ABORTED);
    expect(await unassign('cert-fr', coordinator)).toBe(status.FAILED_PRECONDITION);
    expect(await unassign('police-by', coordinator, 2)).toEqual([]);
    // The AMBER incident no longer exists for police-by; its source still reads it.
    expect(await read(police)).toBe(status.NOT_FOUND);
    expect(await read(source)).toBe(3);
    expect(await unassign('police-by', coordinator)).toBe(status.FAILED_PRECONDITION);

    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    const unassigned = events.filter((e) => e.type === 'beacon.incident.agency-unassigned.v1');
    expect(unassigned).toHaveLength(1);
    expect(intakeV1.AgencyUnassigned.decode(unassigned[0]!.data)).toMatchObject({
      agencyId: 'police-by',
      incident: { id, engagedAgencyIds: [], version: 3 },
    });
  });

  test('agencies assigned at the same moment to the latest version are all engaged, none refused', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const id = (await rpc(t, 'submitReport', report(), coordinator)).incident!.id;
    const agencies = Array.from({ length: 8 }, (_, i) => `cert-${i}`);
    // As a response engages them: all at once, each to the latest version (0).
    const outcomes = await Promise.all(
      agencies.map((agencyId) =>
        rpc(t, 'assignAgency', { incidentId: id, agencyId, expectedVersion: 0 }, coordinator).then(
          () => 'OK',
          (e: unknown) => code(e),
        ),
      ),
    );
    expect(outcomes).toEqual(agencies.map(() => 'OK'));
    const { incident } = await rpc(t, 'getIncident', { incidentId: id }, coordinator);
    expect([...incident!.engagedAgencyIds].sort()).toEqual(agencies);
    expect(incident!.version).toBe(1 + agencies.length);
    // A caller that names the version it saw is still held to it.
    const stale = await rpc(
      t,
      'assignAgency',
      { incidentId: id, agencyId: 'police-by', expectedVersion: 1 },
      coordinator,
    ).catch((e: unknown) => code(e));
    expect(stale).toBe(status.ABORTED);
  });

  test('a correlated report opens an incident of its own once the incident it matches is full', async ({
    intake: t,
    mongoClient,
  }) => {
    const cert = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const first = await rpc(t, 'submitReport', report(), cert);
    // A campaign incident that already holds the most reports an incident (and its events) can.
    await mongoClient
      .db(t.dbName)
      .collection<{ _id: string; reportIds: string[] }>('incidents')
      .updateOne(
        { _id: first.incident!.id },
        { $set: { reportIds: Array.from({ length: MAX_INCIDENT_REPORTS }, (_, i) => `rep_campaign_${i}`) } },
      );
    const next = await rpc(t, 'submitReport', report(), cert);
    expect(next.attached).toBe(false);
    expect(next.incident?.id).not.toBe(first.incident!.id);
    expect(next.incident?.reportIds).toEqual([next.report!.id]);
    // Later reports of the same indicator join the new incident.
    const third = await rpc(t, 'submitReport', report(), cert);
    expect(third).toMatchObject({ attached: true, incident: { id: next.incident!.id } });
  });

  test('a report matching a TLP:RED incident it may not read opens its own, and the RED one keeps its secret', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const red = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const amber = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'AMBER' });
    const secret = { type: 'ipv4', value: '198.51.100.23' };
    const first = await rpc(t, 'submitReport', report({ tlp: 5, observables: [secret] }), red);
    const second = await rpc(t, 'submitReport', report({ tlp: 2, observables: [secret] }), amber);
    // police-by is answered as for an indicator seen nowhere: its own new incident.
    expect(second).toMatchObject({ attached: false, report: { incidentId: second.incident!.id } });
    expect(second.incident).toMatchObject({ reportIds: [second.report!.id], sourceAgencyId: 'police-by' });
    expect(second.incident!.id).not.toBe(first.incident!.id);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const untouched = await rpc(t, 'getIncident', { incidentId: first.incident!.id }, coordinator);
    expect(untouched.incident).toMatchObject({ reportIds: [first.report!.id], version: 1, tlp: 5 });
    // Every event of police-by's report names its own GREEN incident, never the RED one.
    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    const reported = events.find(
      (e) => e.type === 'beacon.incident.reported.v1' && e.subject === second.report!.id,
    );
    expect(reported).toMatchObject({ tlp: 2, incidentId: second.incident!.id });
    const denied = await rpc(t, 'getIncident', { incidentId: first.incident!.id }, amber).catch(
      (e: unknown) => e,
    );
    expect(code(denied)).toBe(status.NOT_FOUND);
    // Correlation keys are keyed hashes: the index never holds the indicator itself.
    const keys = await mongoClient.db(t.dbName).collection('correlation').find().toArray();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(String(key['_id'])).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(keys)).not.toContain('198.51.100.23');
  });

  test('invalid reports are refused with every field violation, and nothing is stored', async ({
    intake: t,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const error = (await rpc(
      t,
      'submitReport',
      report({
        title: '',
        tlp: 0,
        classification: { rsitClass: 'fraud', rsitType: 'ddos' },
        sectors: ['moon-base'],
        jurisdictions: ['XX'],
        observables: [
          { type: 'ipv4', value: '999.1.1.1' },
          { type: '$where', value: 'sleep(1000)' },
        ],
        awareAt: new Date(Date.now() + 86_400_000),
      }),
      token,
    ).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error.metadata).map((v) => v.field)).toEqual([
      'title',
      'tlp',
      'classification.rsit_type',
      'sectors[0]',
      'jurisdictions[0]',
      'observables[0]',
      'observables[1]',
      'aware_at',
    ]);
    const db = mongoClient.db(t.dbName);
    expect(await db.collection('reports').countDocuments()).toBe(0);
    expect(await db.collection('incidents').countDocuments()).toBe(0);
  });

  test('the lifecycle allows only its transitions, on the version the caller saw', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report(), coordinator);
    const id = incident!.id;
    const skip = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_RESOLVED,
        expectedVersion: 1,
        reason: '',
      },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(skip)).toBe(status.FAILED_PRECONDITION);

    const active = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE,
        expectedVersion: 1,
        reason: 'confirmed',
      },
      coordinator,
    );
    expect(active.incident).toMatchObject({
      status: intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE,
      version: 2,
    });

    const stale = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_CONTAINED,
        expectedVersion: 1,
        reason: '',
      },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(stale)).toBe(status.ABORTED);
  });

  test('severity is recomputed from new inputs', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report(), coordinator);
    const updated = await rpc(
      t,
      'updateSeverity',
      {
        incidentId: incident!.id,
        expectedVersion: 1,
        severityInputs: {
          functionalImpact: 'significant-critical',
          potentialImpact: 'high',
          informationImpact: 'destruction-non-critical',
          recoverability: 'extended',
          crossSectorDependency: 'medium',
          location: 'critical-system-management',
          observedActivity: 'effect',
          actor: 'organised-crime',
        },
      },
      coordinator,
    );
    expect(updated.incident?.severity).toEqual({ score: 75, level: 4, levelName: 'severe' });
  });

  test('callers without a valid token or the right role are refused', async ({ intake: t }) => {
    const none = await rpc(t, 'submitReport', report(), undefined).catch((e: unknown) => e);
    expect(code(none)).toBe(status.UNAUTHENTICATED);
    const forged = await rpc(t, 'submitReport', report(), 'e30.e30.c2ln').catch((e: unknown) => e);
    expect(code(forged)).toBe(status.UNAUTHENTICATED);
    const auditor = await t.token({ roles: ['auditor'] });
    const denied = await rpc(t, 'submitReport', report(), auditor).catch((e: unknown) => e);
    expect(code(denied)).toBe(status.PERMISSION_DENIED);
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const notCoordinator = await rpc(
      t,
      'assignAgency',
      { incidentId: 'inc_x', agencyId: 'cert-fr', expectedVersion: 0 },
      analyst,
    ).catch((e: unknown) => e);
    expect(code(notCoordinator)).toBe(status.PERMISSION_DENIED);
  });
});

describe('affected assets over gRPC', () => {
  const asset = (assetId: string, loss: number) => ({ assetId, loss });
  const assetsOf = (e: { type: string; data: Uint8Array }) =>
    e.type === 'beacon.incident.opened.v1'
      ? intakeV1.IncidentOpened.decode(e.data).incident?.affectedAssets
      : intakeV1.ReportAttached.decode(e.data).incident?.affectedAssets;

  test('an incident opened directly returns, stores and announces its assets, each once', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(
      t,
      'openIncident',
      openRequest({
        affectedAssets: [
          asset('grid:substation-7', 0.4),
          asset('water.pump_3', 0),
          asset('grid:substation-7', 0.6),
        ],
      }),
      coordinator,
    );
    const expected = [asset('grid:substation-7', 0.6), asset('water.pump_3', 1)];
    expect(incident?.affectedAssets).toEqual(expected);
    const read = await rpc(t, 'getIncident', { incidentId: incident!.id }, coordinator);
    expect(read.incident?.affectedAssets).toEqual(expected);

    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    const opened = events.filter((e) => e.type === 'beacon.incident.opened.v1');
    expect(opened).toHaveLength(1);
    expect(assetsOf(opened[0]!)).toEqual(expected);
  });

  test('a correlated report adds its assets to the incident, keeping the larger loss of each', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const first = await rpc(
      t,
      'submitReport',
      report({ affectedAssets: [asset('pump-1', 0.5), asset('grid-1', 0.3)] }),
      token,
    );
    expect(first.report?.affectedAssets).toEqual([asset('pump-1', 0.5), asset('grid-1', 0.3)]);
    expect(first.incident?.affectedAssets).toEqual([asset('pump-1', 0.5), asset('grid-1', 0.3)]);

    const second = await rpc(
      t,
      'submitReport',
      report({ affectedAssets: [asset('grid-1', 0.8), asset('pump-1', 0.1), asset('dam-1', 0)] }),
      token,
    );
    expect(second.attached).toBe(true);
    expect(second.incident?.id).toBe(first.incident?.id);
    // The report keeps what it said; the incident has the union with the worst loss of each.
    expect(second.report?.affectedAssets).toEqual([
      asset('grid-1', 0.8),
      asset('pump-1', 0.1),
      asset('dam-1', 1),
    ]);
    const merged = [asset('pump-1', 0.5), asset('grid-1', 0.8), asset('dam-1', 1)];
    expect(second.incident?.affectedAssets).toEqual(merged);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const read = await rpc(t, 'getIncident', { incidentId: first.incident!.id }, coordinator);
    expect(read.incident?.affectedAssets).toEqual(merged);

    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    expect(assetsOf(events.find((e) => e.type === 'beacon.incident.opened.v1')!)).toEqual([
      asset('pump-1', 0.5),
      asset('grid-1', 0.3),
    ]);
    expect(assetsOf(events.find((e) => e.type === 'beacon.incident.report-attached.v1')!)).toEqual(merged);
  });

  test('bad ids, losses out of range and too many assets are refused per field, storing nothing', async ({
    intake: t,
    mongoClient,
  }) => {
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const bad = [asset('ok-1', 0.5), asset('bad id', 0.5), asset('ok-2', 1.5), asset('-x', -1)];
    const tooMany = Array.from({ length: 101 }, (_, i) => asset(`asset-${i}`, 1));
    const refusals = [
      rpc(t, 'submitReport', report({ affectedAssets: bad }), analyst),
      rpc(t, 'openIncident', openRequest({ affectedAssets: bad }), coordinator),
      rpc(t, 'submitReport', report({ affectedAssets: tooMany }), analyst),
      rpc(t, 'openIncident', openRequest({ affectedAssets: tooMany }), coordinator),
    ].map((p) =>
      p.then(
        () => undefined,
        (e: unknown) => e as ServiceError,
      ),
    );
    const [badReport, badOpen, manyReport, manyOpen] = await Promise.all(refusals);
    for (const error of [badReport, badOpen]) {
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(error?.metadata).map((v) => [v.field, v.reason])).toEqual([
        ['affected_assets[1].asset_id', 'INVALID_ASSET_ID'],
        ['affected_assets[2].loss', 'OUT_OF_RANGE'],
        ['affected_assets[3].asset_id', 'INVALID_ASSET_ID'],
        ['affected_assets[3].loss', 'OUT_OF_RANGE'],
      ]);
    }
    for (const error of [manyReport, manyOpen]) {
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(error?.metadata)).toEqual([
        { field: 'affected_assets', description: 'at most 100', reason: 'TOO_MANY' },
      ]);
    }
    const db = mongoClient.db(t.dbName);
    expect(await db.collection('reports').countDocuments()).toBe(0);
    expect(await db.collection('incidents').countDocuments()).toBe(0);
  });
});

describe('watchlist, trends, STIX and audit over gRPC', () => {
  test('an indicator lists its sightings across incidents the caller may see', async ({
    intake: t,
    mongoClient,
  }) => {
    const cert = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const police = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'AMBER' });
    const wallet = { type: 'crypto-wallet', value: '0x52908400098527886E0F7030069857D2E4169EE7' };
    const first = await rpc(t, 'submitReport', report({ tlp: 3, observables: [wallet] }), cert);
    // police-by may not read cert-de's AMBER incident: its report opens an incident of its own.
    const own = await rpc(t, 'submitReport', report({ tlp: 3, observables: [wallet] }), police);
    const again = await rpc(t, 'submitReport', report({ tlp: 3, observables: [wallet] }), cert);
    expect(again).toMatchObject({ attached: true, incident: { id: first.incident!.id } });

    const seen = await rpc(
      t,
      'lookupIndicator',
      { observable: { ...wallet, value: wallet.value.toLowerCase() } },
      cert,
    );
    expect(seen.observable).toEqual({
      type: 'crypto-wallet',
      value: `ethereum:${wallet.value.toLowerCase()}`,
    });
    expect(seen.sightings.map((s) => s.incidentId)).toEqual([first.incident!.id, first.incident!.id]);
    // Each agency sees the sightings of the incidents it is named on, and no other.
    expect(
      (await rpc(t, 'lookupIndicator', { observable: wallet }, police)).sightings.map((s) => s.incidentId),
    ).toEqual([own.incident!.id]);
    // Naming an AMBER incident as a sighting reveals it: audited as a read, for cert-de only.
    const audit = mongoClient
      .db(t.dbName)
      .collection<{ action: string; objectId: string; agencyId?: string }>('audit');
    const reads = await audit.find({ action: 'incident.read', objectId: first.incident!.id }).toArray();
    expect(reads.map((r) => r.agencyId)).toEqual(['cert-de']);
  });

  test('an indicator lookup looks past newer sightings the caller may not see', async ({
    intake: t,
    mongoClient,
  }) => {
    const cert = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const domain = { type: 'domain', value: 'c2.example.net' };
    const mine = await rpc(t, 'submitReport', report({ tlp: 2, observables: [domain] }), cert);
    // Six hundred later sightings on incidents cert-de may not see (here: none it can find).
    const key = 'domain:c2.example.net';
    const later = Date.now() + 60_000;
    await mongoClient
      .db(t.dbName)
      .collection<{ _id: string }>('sightings')
      .insertMany(
        Array.from({ length: 600 }, (_, i) => ({
          _id: `${key}|rep_hidden_${i}`,
          key,
          incidentId: `inc_hidden_${i % 7}`,
          reportId: `rep_hidden_${i}`,
          seenAt: new Date(later + i),
          tlp: 'RED',
        })),
      );
    const seen = await rpc(t, 'lookupIndicator', { observable: domain }, cert);
    expect(seen.sightings.map((s) => s.incidentId)).toEqual([mine.incident!.id]);
  });

  test('trends count incidents per week by sector over the caller-visible incidents', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    await rpc(
      t,
      'submitReport',
      report({ sectors: ['energy'], observables: [{ type: 'ipv4', value: '192.0.2.1' }] }),
      coordinator,
    );
    await rpc(
      t,
      'submitReport',
      report({ sectors: ['energy', 'communications'], observables: [] }),
      coordinator,
    );
    const now = new Date();
    const { points } = await rpc(
      t,
      'getTrends',
      {
        from: new Date(now.getTime() - 14 * 86_400_000),
        to: new Date(now.getTime() + 60_000),
        granularity: intakeV1.TrendGranularity.TREND_GRANULARITY_WEEK,
        dimension: intakeV1.TrendDimension.TREND_DIMENSION_SECTOR,
      },
      coordinator,
    );
    expect(points.map((p) => [p.key, p.count])).toEqual([
      ['communications', 1],
      ['energy', 2],
    ]);
    const tooLong = await rpc(
      t,
      'getTrends',
      { from: new Date(0), to: now, granularity: 1, dimension: 1 },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(tooLong)).toBe(status.INVALID_ARGUMENT);
  });

  test('an incident exports as a STIX 2.1 bundle with its TLP marking', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report({ tlp: 4 }), coordinator);
    const { bundleJson } = await rpc(t, 'exportIncidentStix', { incidentId: incident!.id }, coordinator);
    const bundle = JSON.parse(bundleJson) as {
      type: string;
      objects: { type: string; object_marking_refs?: string[] }[];
    };
    expect(bundle.type).toBe('bundle');
    expect(bundle.objects.map((o) => o.type).sort()).toEqual([
      'identity',
      'incident',
      'indicator',
      'marking-definition',
      'relationship',
    ]);
    expect(bundle.objects.find((o) => o.type === 'incident')?.object_marking_refs).toEqual([
      'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
    ]);
  });

  test('auditors verify the audit chain; agencies may not', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report({ tlp: 3 }), coordinator);
    await rpc(t, 'getIncident', { incidentId: incident!.id }, coordinator);
    // A list shows the whole AMBER incident too, so it is a read to audit as well.
    await rpc(
      t,
      'listIncidents',
      { pageSize: 10, pageToken: '', status: 0, filter: '', orderBy: '' },
      coordinator,
    );
    const auditor = await t.token({ roles: ['auditor'] });
    const verified = await rpc(t, 'verifyAuditChain', { checkpoint: [] }, auditor);
    expect(verified).toMatchObject({ ok: true, records: 3, chains: 1 });
    expect(verified.headHash).toMatch(/^[0-9a-f]{64}$/);
    // What a verification returns, passed back later, must still be there.
    expect(verified.ends).toHaveLength(1);
    await rpc(t, 'getIncident', { incidentId: incident!.id }, coordinator);
    expect(await rpc(t, 'verifyAuditChain', { checkpoint: verified.ends }, auditor)).toMatchObject({
      ok: true,
      records: 4,
    });
    const forged = await rpc(
      t,
      'verifyAuditChain',
      { checkpoint: [{ recordId: verified.ends[0]!.recordId, hash: '{"$gt":""}' }] },
      auditor,
    ).catch((e: unknown) => e);
    expect(code(forged)).toBe(status.INVALID_ARGUMENT);
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    expect(code(await rpc(t, 'verifyAuditChain', { checkpoint: [] }, analyst).catch((e: unknown) => e))).toBe(
      status.PERMISSION_DENIED,
    );
  });
});

describe('crash recovery', () => {
  /** Makes the audit log's next append fail, as a store that went away mid-request would. */
  const failNextAppend = (t: TestIntake) => {
    const append = t.intake.audit.append.bind(t.intake.audit);
    t.intake.audit.append = async (record) => {
      t.intake.audit.append = append;
      throw new Error(`audit store unavailable (${record.action})`);
    };
  };
  type Audited = { _id: string; action: string; objectId: string; actor: string };

  test('a change whose audit append failed keeps its record, and the sweep appends it once', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const audit = db.collection<Audited>('audit');
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report(), coordinator);

    failNextAppend(t);
    const failed = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: incident!.id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
        expectedVersion: 1,
        reason: 'analyst on it',
      },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(failed)).toBe(status.INTERNAL);
    // The change is stored, and so is its audit record, with it.
    const { incident: after } = await rpc(t, 'getIncident', { incidentId: incident!.id }, coordinator);
    expect(after?.status).toBe(intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE);
    expect(await audit.countDocuments({ action: 'incident.transitioned' })).toBe(0);

    // Only records older than the sweep's grace are its to append: a live request may still.
    expect(await t.intake.service.appendPendingAudits(60_000)).toBe(0);
    expect(await t.intake.service.appendPendingAudits(0)).toBe(1);
    expect(await t.intake.service.appendPendingAudits(0)).toBe(0);
    const appended = await audit.find({ action: 'incident.transitioned' }).toArray();
    expect(appended).toEqual([expect.objectContaining({ objectId: incident!.id, actor: 'cc-coordinator' })]);
    expect(await t.intake.audit.verify()).toMatchObject({ ok: true });
  });

  test('a submission whose audit append failed is audited by the recovery sweep, once', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const audit = db.collection<Audited>('audit');
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });

    failNextAppend(t);
    expect(code(await rpc(t, 'submitReport', report(), token).catch((e: unknown) => e))).toBe(
      status.INTERNAL,
    );
    const [stored] = await db.collection('reports').find().toArray();
    expect(stored).toMatchObject({ linked: false, audit: { action: 'report.submitted' } });
    expect(await audit.countDocuments({ action: 'report.submitted' })).toBe(0);

    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(1);
    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(0);
    expect(await audit.find({ action: 'report.submitted' }).toArray()).toEqual([
      expect.objectContaining({ objectId: stored!._id, actor: 'cert-de-agency_analyst' }),
    ]);
    // Linked, the report no longer carries the record; its incident holds it once.
    expect(await db.collection('reports').findOne({ _id: stored!._id })).not.toHaveProperty('audit');
    expect(await db.collection('incidents').countDocuments()).toBe(1);
  });

  test('a report stored before a crash, but never linked, is linked by the recovery sweep', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    await db.collection<Record<string, unknown> & { _id: string }>('reports').insertOne(
      orphanReport('rep_orphan', 'inc_orphan', {
        observables: [{ type: 'domain', value: 'orphan.example' }],
      }),
    );

    expect(await t.intake.service.linkUnlinkedReports(30_000)).toBe(1);
    expect(await t.intake.service.linkUnlinkedReports(30_000)).toBe(0);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'getIncident', { incidentId: 'inc_orphan' }, coordinator);
    expect(incident).toMatchObject({
      reportIds: ['rep_orphan'],
      observables: [{ type: 'domain', value: 'orphan.example' }],
    });
    const events = await publishedEvents(t, jetstream(nats), db);
    expect(events.map((e) => e.type).sort()).toEqual([
      'beacon.incident.opened.v1',
      'beacon.incident.reported.v1',
    ]);
  });

  test('intake runs its recovery sweeps by itself: an orphaned report is linked, its record appended', async ({
    infra,
    names,
    mongoClient,
  }) => {
    const t = await startTestIntake(infra, names, { RECOVERY_SWEEP_SECONDS: '1' });
    onTestFinished(() => t.stop());
    const db = mongoClient.db(t.dbName);
    const marksDb = pendingMarksDb(mongoClient, t.dbName);
    // With the mark its writer stores ahead of the report: the sweep's first run (the full
    // read) may come before this insert, and every later run reads only marks.
    await marksDb
      .collection<{ _id: string; at: Date }>('reports_pending_link')
      .insertOne({ _id: 'rep_swept', at: new Date(Date.now() - 60_000) });
    await db.collection<Record<string, unknown> & { _id: string }>('reports').insertOne(
      orphanReport('rep_swept', 'inc_swept', {
        observables: [{ type: 'domain', value: 'swept.example' }],
        audit: {
          actor: 'cert-de-agency_analyst',
          agencyId: 'cert-de',
          action: 'report.submitted',
          objectId: 'rep_swept',
          tlp: 'AMBER',
          at: new Date(),
        },
      }),
    );
    // Nothing calls the sweeps here: the running service must, within a few periods.
    await waitFor(
      async () => {
        const linked = await db
          .collection<{ _id: string; linked: boolean }>('reports')
          .findOne({ _id: 'rep_swept' });
        if (linked?.linked !== true) throw new Error('report not linked yet');
      },
      { what: 'the sweep to link the report', timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(await db.collection<{ _id: string }>('incidents').findOne({ _id: 'inc_swept' })).toMatchObject({
      reportIds: ['rep_swept'],
    });
    expect(await db.collection('audit').find({ objectId: 'rep_swept' }).toArray()).toEqual([
      expect.objectContaining({ action: 'report.submitted', actor: 'cert-de-agency_analyst' }),
    ]);
  });

  test('an orphaned report whose incident closed meanwhile opens its own, and others still link', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident: closed } = await rpc(t, 'submitReport', report(), coordinator);
    await rpc(
      t,
      'transitionIncident',
      {
        incidentId: closed!.id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED,
        expectedVersion: 1,
        reason: '',
      },
      coordinator,
    );
    const reports = db.collection<Record<string, unknown> & { _id: string }>('reports');
    await reports.insertMany([
      orphanReport('rep_late', closed!.id, { opensIncident: false, minutesAgo: 3, tlp: 'GREEN' }),
      orphanReport('rep_next', 'inc_next', { minutesAgo: 2, tlp: 'GREEN' }),
    ]);

    expect(await t.intake.service.linkUnlinkedReports(30_000)).toBe(2);
    const replanned = await reports.findOne({ _id: 'rep_late' });
    expect(replanned?.['incidentId']).not.toBe(closed!.id);
    const own = await rpc(t, 'getIncident', { incidentId: String(replanned?.['incidentId']) }, coordinator);
    expect(own.incident?.reportIds).toEqual(['rep_late']);
    const untouched = await rpc(t, 'getIncident', { incidentId: closed!.id }, coordinator);
    expect(untouched.incident?.reportIds).toEqual([closed!.reportIds[0]]);
    expect(
      (await rpc(t, 'getIncident', { incidentId: 'inc_next' }, coordinator)).incident?.reportIds,
    ).toEqual(['rep_next']);
  });
});
