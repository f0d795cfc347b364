import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { commonV1, intakeV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { openRequest, publishedEvents, report, rpc, startTestIntake, type TestIntake } from './harness.js';

// Regression tests for the attacks of issue 19 on intake: writing into, re-labelling and
// probing incidents the reporter cannot read, and clearance ignored for coordinators.

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

const { TLP_CLEAR: CLEAR, TLP_GREEN: GREEN, TLP_AMBER: AMBER, TLP_RED: RED } = commonV1.Tlp;
const failure = (e: unknown) => ({ code: (e as ServiceError).code, details: (e as ServiceError).details });
const MISSING = `inc_${'0'.repeat(32)}`;

/** What a reporter can compare between two answers: everything but ids, times and content. */
function shape(res: intakeV1.SubmitReportResponse) {
  return {
    attached: res.attached,
    reportInOwnIncident: res.report?.incidentId === res.incident?.id,
    incident: {
      reportIds: res.incident?.reportIds.length,
      reportIsFirst: res.incident?.reportIds[0] === res.report?.id,
      version: res.incident?.version,
      status: res.incident?.status,
      tlp: res.incident?.tlp,
      engaged: res.incident?.engagedAgencyIds,
      source: res.incident?.sourceAgencyId,
      awareAt: res.incident?.awareAt?.getTime() === res.report?.awareAt?.getTime(),
    },
  };
}

describe('a report never changes an incident its reporter cannot read, nor hides one', () => {
  test('a RED report matching a GREEN incident opens its own; the GREEN one stays GREEN for all', async ({
    intake: t,
  }) => {
    const source = await t.token({ roles: ['agency_analyst'], agencyId: 'water-c', clearance: 'GREEN' });
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'police-b', clearance: 'RED' });
    const bystander = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-x', clearance: 'GREEN' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const indicator = { type: 'domain', value: 'green-campaign.example' };
    const green = await rpc(t, 'submitReport', report({ tlp: GREEN, observables: [indicator] }), source);
    const id = green.incident!.id;
    // police-b reads the GREEN incident; its RED report would hide it from the community.
    expect((await rpc(t, 'getIncident', { incidentId: id }, analyst)).incident?.tlp).toBe(GREEN);

    const attack = await rpc(t, 'submitReport', report({ tlp: RED, observables: [indicator] }), analyst);
    expect(attack).toMatchObject({ attached: false, incident: { tlp: RED, reportIds: [attack.report!.id] } });
    expect(attack.incident!.id).not.toBe(id);
    for (const reader of [bystander, source, coordinator]) {
      expect((await rpc(t, 'getIncident', { incidentId: id }, reader)).incident).toMatchObject({
        tlp: GREEN,
        version: 1,
        reportIds: [green.report!.id],
      });
    }
    // The coordinators see what the two share.
    const { relations } = await rpc(t, 'listPossibleRelations', { incidentId: id }, coordinator);
    expect(relations).toEqual([
      expect.objectContaining({
        incidentId: attack.incident!.id,
        relatedIncidentId: id,
        tlp: RED,
        sharedObservables: [indicator],
        reportIds: [attack.report!.id],
      }),
    ]);
  });

  test("only the source agency's own report moves the awareness time; others keep theirs", async ({
    intake: t,
  }) => {
    const source = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'AMBER' });
    const other = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'AMBER' });
    const awareAt = new Date(Date.now() - 3_600_000);
    const first = await rpc(t, 'submitReport', report({ tlp: GREEN, awareAt }), source);
    const id = first.incident!.id;

    const ancient = new Date('1991-01-01T00:00:00.000Z');
    const late = await rpc(t, 'submitReport', report({ tlp: GREEN, awareAt: ancient }), other);
    expect(late).toMatchObject({ attached: true, incident: { id, awareAt } });
    // The report keeps its own awareness time.
    expect(late.report?.awareAt).toEqual(ancient);

    const earlier = new Date(Date.now() - 2 * 86_400_000);
    const own = await rpc(t, 'submitReport', report({ tlp: GREEN, awareAt: earlier }), source);
    expect(own).toMatchObject({ attached: true, incident: { id, awareAt: earlier, tlp: GREEN } });
  });

  test('a CLEAR probe of a hidden indicator is answered as an unseen one, and changes nothing', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const owner = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const prober = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'RED' });
    const redCoordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const amberCoordinator = await t.token({ roles: ['coordinator'], clearance: 'AMBER' });
    const auditor = await t.token({ roles: ['auditor'], clearance: 'RED' });
    const hidden = { type: 'ipv4', value: '203.0.113.9' };
    const amberHidden = { type: 'domain', value: 'amber-hidden.example' };
    const red = await rpc(t, 'submitReport', report({ tlp: RED, observables: [hidden] }), owner);
    const amber = await rpc(t, 'submitReport', report({ tlp: AMBER, observables: [amberHidden] }), owner);
    const redId = red.incident!.id;
    const amberId = amber.incident!.id;

    const unseen = await rpc(
      t,
      'submitReport',
      report({ tlp: CLEAR, observables: [{ type: 'ipv4', value: '192.0.2.200' }] }),
      prober,
    );
    const key = { 'idempotency-key': 'probe-red-0001' };
    const probe = report({ tlp: CLEAR, observables: [hidden] });
    const probeRed = await rpc(t, 'submitReport', probe, prober, key);
    const probeAmber = await rpc(
      t,
      'submitReport',
      report({ tlp: CLEAR, observables: [amberHidden] }),
      prober,
    );
    expect(shape(probeRed)).toEqual(shape(unseen));
    expect(shape(probeAmber)).toEqual(shape(unseen));
    expect(shape(unseen)).toMatchObject({ attached: false, reportInOwnIncident: true });
    // A retry of the probe is answered the same and records nothing twice.
    const retried = await rpc(t, 'submitReport', probe, prober, key);
    expect(retried.incident?.id).toBe(probeRed.incident?.id);

    // The hidden incidents did not take the probes.
    for (const id of [redId, amberId]) {
      const { incident } = await rpc(t, 'getIncident', { incidentId: id }, redCoordinator);
      expect(incident).toMatchObject({
        version: 1,
        reportIds: [id === redId ? red.report!.id : amber.report!.id],
      });
    }

    // A relation each, for coordinators cleared for both incidents only.
    const relationsOf = async (incidentId: string, token: string) =>
      (await rpc(t, 'listPossibleRelations', { incidentId }, token)).relations;
    const [redRelation] = await relationsOf(redId, redCoordinator);
    expect(redRelation).toMatchObject({
      incidentId: probeRed.incident!.id,
      relatedIncidentId: redId,
      tlp: RED,
      sharedObservables: [hidden],
      reportIds: [probeRed.report!.id],
    });
    expect(await relationsOf(probeRed.incident!.id, redCoordinator)).toEqual([redRelation]);
    expect(await relationsOf(amberId, amberCoordinator)).toEqual([
      expect.objectContaining({ relatedIncidentId: amberId, tlp: AMBER, sharedObservables: [amberHidden] }),
    ]);
    // Not for a coordinator below RED, an auditor, the agencies on either side: the same
    // answer as for an incident without relations, or without existence.
    for (const token of [amberCoordinator, auditor, owner, prober]) {
      expect(await relationsOf(redId, token)).toEqual([]);
      expect(await relationsOf(probeRed.incident!.id, token)).toEqual([]);
    }
    expect(await relationsOf(MISSING, redCoordinator)).toEqual([]);
    expect(await relationsOf(unseen.incident!.id, redCoordinator)).toEqual([]);

    // Stored once, audited once, announced once, labelled for both incidents.
    const db = mongoClient.db(t.dbName);
    expect(await db.collection('relations').countDocuments()).toBe(2);
    expect(await db.collection('audit').countDocuments({ action: 'relation.found' })).toBe(2);
    const events = await publishedEvents(t, jetstream(nats), db);
    const found = events.filter((e) => e.type === 'beacon.incident.relation-found.v1');
    expect(found.map((e) => e.tlp).sort()).toEqual([AMBER, RED]);
    const decoded = intakeV1.RelationFound.decode(found.find((e) => e.tlp === RED)!.data);
    expect(decoded.relation).toMatchObject({ id: redRelation!.id, sharedObservables: [hidden] });
    // No event of the probe names a hidden incident.
    const hiddenIds = new Set([redId, amberId]);
    expect(
      events.filter((e) => e.type !== 'beacon.incident.relation-found.v1' && hiddenIds.has(e.incidentId)),
    ).toHaveLength(4); // the two incidents' own reported and opened
  });
});

describe('possible relations survive crashes and cost no telling time', () => {
  test('a relation whose audit append failed is recorded, audited and announced once by the sweep', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const owner = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const prober = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'AMBER' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const indicator = { type: 'domain', value: 'crash-relation.example' };
    const red = await rpc(t, 'submitReport', report({ tlp: RED, observables: [indicator] }), owner);

    // The audit store goes away while the submission is finished: the report's record and the
    // relation's both fail to append. The relation is recorded beside the report's record and
    // goes on after the caller has its answer, so the store comes back only once the
    // relation's record was refused too, as a crash would leave them (before, the store came
    // back at the first refusal, and a slow relation appended its record beside the sweep:
    // two records under load).
    const append = t.intake.audit.append.bind(t.intake.audit);
    const refused: string[] = [];
    t.intake.audit.append = async (record) => {
      refused.push(record.action);
      throw new Error(`audit store unavailable (${record.action})`);
    };
    const failed = await rpc(
      t,
      'submitReport',
      report({ tlp: GREEN, observables: [indicator] }),
      prober,
    ).catch((e: unknown) => failure(e));
    expect(failed).toMatchObject({ code: status.INTERNAL });
    await waitFor(
      async () => {
        if (!refused.includes('relation.found')) throw new Error(`refused so far: ${refused.join(', ')}`);
      },
      { what: "the relation's audit record refused", timeoutMs: 10_000, intervalMs: 10 },
    );
    t.intake.audit.append = append;

    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(1);
    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(0);
    const db = mongoClient.db(t.dbName);
    expect(await db.collection('audit').countDocuments({ action: 'relation.found' })).toBe(1);
    expect(await db.collection('audit').countDocuments({ action: 'report.submitted' })).toBe(2);
    const { relations } = await rpc(
      t,
      'listPossibleRelations',
      { incidentId: red.incident!.id },
      coordinator,
    );
    expect(relations).toEqual([expect.objectContaining({ relatedIncidentId: red.incident!.id, tlp: RED })]);
    const events = await publishedEvents(t, jetstream(nats), db);
    expect(events.filter((e) => e.type === 'beacon.incident.relation-found.v1')).toHaveLength(1);
    expect(await t.intake.audit.verify()).toMatchObject({ ok: true });
  });

  test('a probe of a hidden indicator takes the same order of time as one of an unseen indicator', async ({
    intake: t,
  }) => {
    const owner = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const prober = await t.token({ roles: ['agency_analyst'], agencyId: 'police-by', clearance: 'RED' });
    const hidden = (i: number) => ({ type: 'domain', value: `timed-hidden-${i}.example` });
    for (let i = 0; i < 7; i++) {
      await rpc(t, 'submitReport', report({ tlp: RED, observables: [hidden(i)] }), owner);
    }
    const timed = async (observable: { type: string; value: string }) => {
      const start = performance.now();
      const res = await rpc(t, 'submitReport', report({ tlp: CLEAR, observables: [observable] }), prober);
      expect(res.attached).toBe(false);
      return performance.now() - start;
    };
    const probes: number[] = [];
    const unseen: number[] = [];
    // Interleaved, so load on the shared machine falls on both alike.
    for (let i = 0; i < 7; i++) {
      unseen.push(await timed({ type: 'domain', value: `timed-unseen-${i}.example` }));
      probes.push(await timed(hidden(i)));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Recording the relation costs a write or two, not an order of magnitude.
    expect(median(probes) / median(unseen)).toBeLessThan(10);
    expect(median(unseen) / median(probes)).toBeLessThan(10);
  });
});

describe('clearance bounds coordinators, and refusals are no oracle', () => {
  test('a CLEAR-cleared coordinator gets NOT_FOUND for a RED incident and its STIX; RED is served', async ({
    intake: t,
  }) => {
    const owner = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const low = await t.token({ roles: ['coordinator'], clearance: 'CLEAR' });
    const high = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const indicator = { type: 'domain', value: 'red-only.example' };
    const { incident } = await rpc(t, 'submitReport', report({ tlp: RED, observables: [indicator] }), owner);
    const id = incident!.id;
    const refused = async (call: Promise<unknown>) => failure(await call.catch((e: unknown) => e));
    const same = (a: { code: number; details: string }, b: { code: number; details: string }) =>
      expect({ ...a, details: a.details.replace(id, '<id>') }).toEqual({
        ...b,
        details: b.details.replace(MISSING, '<id>'),
      });

    const get = await refused(rpc(t, 'getIncident', { incidentId: id }, low));
    expect(get.code).toBe(status.NOT_FOUND);
    same(get, await refused(rpc(t, 'getIncident', { incidentId: MISSING }, low)));
    const stix = await refused(rpc(t, 'exportIncidentStix', { incidentId: id }, low));
    expect(stix.code).toBe(status.NOT_FOUND);
    same(stix, await refused(rpc(t, 'exportIncidentStix', { incidentId: MISSING }, low)));
    // Commands: hidden and missing alike, whatever the version sent.
    for (const expectedVersion of [0, 1, 7]) {
      const hidden = await refused(
        rpc(t, 'transitionIncident', { incidentId: id, toStatus: 2, expectedVersion, reason: '' }, low),
      );
      expect(hidden.code).toBe(status.NOT_FOUND);
      same(
        hidden,
        await refused(
          rpc(
            t,
            'transitionIncident',
            { incidentId: MISSING, toStatus: 2, expectedVersion, reason: '' },
            low,
          ),
        ),
      );
    }
    const assign = { agencyId: 'police-by', expectedVersion: 0 };
    same(
      await refused(rpc(t, 'assignAgency', { ...assign, incidentId: id }, low)),
      await refused(rpc(t, 'assignAgency', { ...assign, incidentId: MISSING }, low)),
    );
    expect((await rpc(t, 'lookupIndicator', { observable: indicator }, low)).sightings).toEqual([]);
    expect(
      (
        await rpc(
          t,
          'listIncidents',
          { pageSize: 100, pageToken: '', status: 0, filter: '', orderBy: '' },
          low,
        )
      ).incidents,
    ).toEqual([]);

    // The RED-cleared coordinator is served all of it.
    expect((await rpc(t, 'getIncident', { incidentId: id }, high)).incident?.id).toBe(id);
    expect(
      JSON.parse((await rpc(t, 'exportIncidentStix', { incidentId: id }, high)).bundleJson),
    ).toMatchObject({
      type: 'bundle',
    });
    expect((await rpc(t, 'lookupIndicator', { observable: indicator }, high)).sightings).toHaveLength(1);
    expect(
      (
        await rpc(
          t,
          'transitionIncident',
          { incidentId: id, toStatus: 2, expectedVersion: 1, reason: '' },
          high,
        )
      ).incident?.version,
    ).toBe(2);
    // Nor may a coordinator open an incident it could not read itself.
    expect(await refused(rpc(t, 'openIncident', openRequest({ tlp: RED }), low))).toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    expect((await rpc(t, 'openIncident', openRequest({ tlp: CLEAR }), low)).incident?.tlp).toBe(CLEAR);
    // An agency may never command: refused whatever the incident, as its role says.
    const agency = await refused(
      rpc(t, 'transitionIncident', { incidentId: id, toStatus: 3, expectedVersion: 0, reason: '' }, owner),
    );
    expect(agency.code).toBe(status.PERMISSION_DENIED);
  });

  test('a coordinator revises label and awareness time, audited and announced; others may not', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const source = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'AMBER' });
    const { incident } = await rpc(t, 'submitReport', report({ tlp: GREEN }), source);
    const id = incident!.id;
    const confirmed = new Date(Date.now() - 5 * 86_400_000);
    const update = (token: string, fields: Partial<intakeV1.UpdateIncidentFactsRequest>) =>
      rpc(
        t,
        'updateIncidentFacts',
        { incidentId: id, tlp: 0, reason: 'confirmed with the operator', expectedVersion: 0, ...fields },
        token,
      ).catch((e: unknown) => failure(e));

    // Not the source agency by command, not a label above the caller's clearance.
    expect(await update(source, { tlp: AMBER })).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await update(coordinator, { tlp: RED })).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await update(coordinator, {})).toMatchObject({ code: status.INVALID_ARGUMENT });
    const revised = await update(coordinator, { tlp: AMBER, awareAt: confirmed });
    expect(revised).toMatchObject({ incident: { tlp: AMBER, awareAt: confirmed, version: 2 } });
    expect(await update(coordinator, { tlp: AMBER })).toMatchObject({ code: status.FAILED_PRECONDITION });

    const db = mongoClient.db(t.dbName);
    expect(
      await db.collection('audit').countDocuments({ action: 'incident.facts-revised', objectId: id }),
    ).toBe(1);
    const events = await publishedEvents(t, jetstream(nats), db);
    const [event] = events.filter((e) => e.type === 'beacon.incident.facts-revised.v1');
    expect(event?.tlp).toBe(AMBER);
    expect(intakeV1.IncidentFactsRevised.decode(event!.data)).toMatchObject({
      previousTlp: GREEN,
      reason: 'confirmed with the operator',
      incident: { id, tlp: AMBER, awareAt: confirmed },
    });

    // Raised to RED by a RED coordinator, it is gone for the AMBER one: NOT_FOUND, as missing.
    const red = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    expect(await update(red, { tlp: RED })).toMatchObject({ incident: { tlp: RED } });
    expect(await update(coordinator, { tlp: GREEN })).toMatchObject({ code: status.NOT_FOUND });
  });
});
