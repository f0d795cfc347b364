import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { pendingMarksDb } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { openRequest, report, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

/** Makes the audit log's next append fail, as a store that went away mid-request would. */
function failNextAppend(t: TestIntake): void {
  const append = t.intake.audit.append.bind(t.intake.audit);
  t.intake.audit.append = async (record) => {
    t.intake.audit.append = append;
    throw new Error(`audit store unavailable (${record.action})`);
  };
}

const code = (error: unknown) => (error as ServiceError).code;

type Raw = Record<string, unknown> & { _id: string };

/**
 * Each sweep's first run (at start-up) reads the whole collection; every later one reads only
 * its marks. Each test spends the first run, then leaves work half done the way a crash does
 * (the mark was written ahead of it), beside work of "an earlier release" (no mark): the marks
 * sweep finishes the first and does not see the second.
 */
describe('intake recovery sweeps finish what their marks point to', () => {
  test('an audit record left pending by a failed append is appended by the marks sweep', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await rpc(t, 'openIncident', openRequest(), coordinator);
    const { incident: other } = await rpc(t, 'openIncident', openRequest(), coordinator);
    expect(await t.intake.service.appendPendingAudits(0)).toBe(0); // the full run, at start-up

    failNextAppend(t);
    const failed = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: incident!.id,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
        expectedVersion: 0,
        reason: 'on it',
      },
      coordinator,
    ).catch((e: unknown) => e);
    expect(code(failed)).toBe(status.INTERNAL);
    const unmarked = {
      actor: 'cc-old',
      agencyId: null,
      action: 'incident.old-release',
      objectId: other!.id,
      tlp: 'AMBER',
      at: new Date(Date.now() - 60_000),
    };
    // As an earlier release left it: no mark (the one its opening wrote is removed).
    await pendingMarksDb(mongoClient, t.dbName)
      .collection<Raw>('incidents_pending_audit')
      .deleteOne({ _id: other!.id });
    await db
      .collection<Raw>('incidents')
      .updateOne({ _id: other!.id }, { $set: { 'auditPending.old': unmarked } });

    expect(await t.intake.service.appendPendingAudits(0)).toBe(1);
    expect(await db.collection('audit').countDocuments({ action: 'incident.transitioned' })).toBe(1);
    expect(await db.collection('audit').countDocuments({ action: 'incident.old-release' })).toBe(0);
    expect(await t.intake.service.appendPendingAudits(0)).toBe(0);
  });

  test('a report a failed append left unlinked is linked by the marks sweep', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(0);

    failNextAppend(t);
    expect(code(await rpc(t, 'submitReport', report(), token).catch((e: unknown) => e))).toBe(
      status.INTERNAL,
    );
    const submittedAt = new Date(Date.now() - 60_000);
    await db.collection<Raw>('reports').insertOne({
      _id: 'rep_old_release',
      incidentId: 'inc_old_release',
      reporterAgencyId: 'cert-de',
      title: 'Stored by an earlier release',
      description: '',
      tlp: 'AMBER',
      classification: { rsitClass: 'fraud', rsitType: 'phishing' },
      sectors: [],
      jurisdictions: ['DE'],
      observables: [],
      awareAt: submittedAt,
      submittedAt,
      opensIncident: true,
      linked: false,
    });

    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(1);
    expect(await db.collection('audit').countDocuments({ action: 'report.submitted' })).toBe(1);
    expect(await db.collection('reports').countDocuments({ linked: false })).toBe(1);
    expect(await db.collection<Raw>('reports').findOne({ _id: 'rep_old_release' })).toMatchObject({
      linked: false,
    });
    expect(await t.intake.service.linkUnlinkedReports(0)).toBe(0);
  });

  test('a merge a crash left half done is finished by the marks sweep', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED', subject: 'cc-ops' });
    const [survivor, merged, old] = await Promise.all(
      [0, 1, 2].map(
        async () =>
          (await rpc(t, 'openIncident', openRequest({ tlp: 2 /* GREEN */ }), coordinator)).incident!,
      ),
    );
    expect(await t.intake.service.finishPendingMerges()).toBe(0);

    // What the first write of a merge leaves, as if the process died right after it: its mark
    // (written ahead) and the merged incident marked. And one of an earlier release, unmarked.
    const incidents = db.collection<{ _id: string }>('incidents');
    const halfDone = (into: string) => ({
      $set: {
        status: 'closed',
        mergedInto: into,
        mergePending: {
          survivorId: into,
          awareAt: merged!.awareAt,
          actor: 'cc-ops',
          actorAgencyId: null,
          at: new Date(Date.now() - 60_000),
        },
      },
      $inc: { version: 1 },
    });
    await pendingMarksDb(mongoClient, t.dbName)
      .collection<{ _id: string; at: Date }>('incidents_pending_merge')
      .insertOne({ _id: merged!.id, at: new Date(Date.now() - 60_000) });
    await incidents.updateOne({ _id: merged!.id }, halfDone(survivor!.id));
    await incidents.updateOne({ _id: old!.id }, halfDone(survivor!.id));

    expect(await t.intake.service.finishPendingMerges()).toBe(1);
    expect(await incidents.findOne({ _id: survivor!.id })).toMatchObject({ mergedIncidentIds: [merged!.id] });
    expect(await incidents.findOne({ _id: merged!.id })).not.toHaveProperty('mergePending');
    expect(await incidents.findOne({ _id: old!.id })).toHaveProperty('mergePending');
    expect(await t.intake.service.finishPendingMerges()).toBe(0);
  });
});
