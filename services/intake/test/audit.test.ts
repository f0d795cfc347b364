import { describe, expect } from 'vitest';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { commonV1, intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { MongoAuditLog } from '../src/adapters/mongo/audit-log.js';
import { report, rpc, startTestIntake, type TestIntake } from './harness.js';

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

/** An audit record as stored: its position in the chain, what happened, and the chain's hashes. */
interface AuditDoc {
  _id: number;
  actor: string;
  agencyId: string | null;
  action: string;
  objectId: string;
  tlp: string;
  at: Date;
  prevHash: string;
  hash: string;
}
type AuditCollection = Collection<AuditDoc>;

/** The chain as stored, oldest first. */
const records = (audit: AuditCollection) => audit.find().sort({ _id: 1 }).toArray();

/** Files `count` AMBER reports, one audit record each, and checks the chain they leave. */
async function chainOf(t: TestIntake, audit: AuditCollection, count: number): Promise<void> {
  const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
  for (let i = 0; i < count; i++) {
    await rpc(
      t,
      'submitReport',
      report({ observables: [{ type: 'domain', value: `chain-${i}.example` }] }),
      analyst,
    );
  }
  expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: count });
  expect(await audit.countDocuments()).toBe(count);
}

describe('the audit chain', () => {
  test('state changes and reads of AMBER and above are recorded in order; the chain verifies', async ({
    intake: t,
    mongoClient,
  }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
    const coordinator = await t.token({
      roles: ['coordinator'],
      clearance: 'RED',
      subject: 'cc-duty-officer',
    });
    const open = async (tlp: commonV1.Tlp, n: number) =>
      (
        await rpc(
          t,
          'submitReport',
          report({ tlp, observables: [{ type: 'domain', value: `a-${n}.example` }] }),
          analyst,
        )
      ).incident!.id;
    const clear = await open(commonV1.Tlp.TLP_CLEAR, 1);
    const green = await open(commonV1.Tlp.TLP_GREEN, 2);
    const amber = await open(commonV1.Tlp.TLP_AMBER, 3);
    const strict = await open(commonV1.Tlp.TLP_AMBER_STRICT, 4);
    const red = await open(commonV1.Tlp.TLP_RED, 5);
    await rpc(
      t,
      'assignAgency',
      { incidentId: amber, agencyId: 'police-by', expectedVersion: 1 },
      coordinator,
    );
    await rpc(
      t,
      'transitionIncident',
      {
        incidentId: green,
        toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
        expectedVersion: 1,
        reason: 'looking into it',
      },
      coordinator,
    );

    const before = await audit.countDocuments();
    // Reads below AMBER are not sensitive and leave no record.
    await rpc(t, 'getIncident', { incidentId: green }, coordinator);
    await rpc(t, 'getIncident', { incidentId: clear }, analyst);
    expect(await audit.countDocuments()).toBe(before);
    // Reads of AMBER and above are recorded, whoever reads.
    await rpc(t, 'getIncident', { incidentId: amber }, coordinator);
    expect(await audit.countDocuments()).toBe(before + 1);
    await rpc(t, 'getIncident', { incidentId: strict }, analyst);
    await rpc(t, 'getIncident', { incidentId: red }, coordinator);

    const stored = await records(audit);
    expect(stored.map((r) => r._id)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((r) => [r.action, r.objectId, r.tlp, r.actor])).toEqual([
      ['report.submitted', expect.stringMatching(/^rep_/), 'CLEAR', 'cert-de-agency_analyst'],
      ['report.submitted', expect.stringMatching(/^rep_/), 'GREEN', 'cert-de-agency_analyst'],
      ['report.submitted', expect.stringMatching(/^rep_/), 'AMBER', 'cert-de-agency_analyst'],
      ['report.submitted', expect.stringMatching(/^rep_/), 'AMBER+STRICT', 'cert-de-agency_analyst'],
      ['report.submitted', expect.stringMatching(/^rep_/), 'RED', 'cert-de-agency_analyst'],
      ['incident.agency-assigned', amber, 'AMBER', 'cc-duty-officer'],
      ['incident.transitioned', green, 'GREEN', 'cc-duty-officer'],
      ['incident.read', amber, 'AMBER', 'cc-duty-officer'],
      ['incident.read', strict, 'AMBER+STRICT', 'cert-de-agency_analyst'],
      ['incident.read', red, 'RED', 'cc-duty-officer'],
    ]);
    expect(stored[8]).toMatchObject({ agencyId: 'cert-de' });

    const verification = await t.intake.audit.verify();
    expect(verification).toEqual({ ok: true, records: 10, head: stored[9]!.hash });
  });

  test('an altered record breaks the chain at that record', async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    await chainOf(t, audit, 6);
    await audit.updateOne({ _id: 3 }, { $set: { action: 'incident.read' } });
    expect(await t.intake.audit.verify()).toMatchObject({ ok: false, brokenAt: 3, records: 2 });
  });

  test('a removed record breaks the chain where it is missing', async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    await chainOf(t, audit, 6);
    await audit.deleteOne({ _id: 4 });
    expect(await t.intake.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 4,
      records: 3,
      problem: expect.stringContaining('missing') as unknown,
    });
  });

  test('two records swapped, hashes and all or only their fields, are detected', async ({
    intake: t,
    mongoClient,
  }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    await chainOf(t, audit, 6);
    const original = await records(audit);
    const [second, fifth] = [original[1]!, original[4]!];
    const restore = async () => {
      await audit.replaceOne({ _id: 2 }, second);
      await audit.replaceOne({ _id: 5 }, fifth);
      expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: 6 });
    };

    // Whole records, each still carrying its own valid hash, moved to each other's position.
    const { _id: _2, ...secondBody } = second;
    const { _id: _5, ...fifthBody } = fifth;
    await audit.replaceOne({ _id: 2 }, fifthBody);
    await audit.replaceOne({ _id: 5 }, secondBody);
    expect(await t.intake.audit.verify()).toMatchObject({ ok: false, brokenAt: 2 });
    await restore();

    // Only what the records say, with the chain fields left in place.
    const pick = ({ actor, agencyId, action, objectId, tlp, at }: AuditDoc) => ({
      actor,
      agencyId,
      action,
      objectId,
      tlp,
      at,
    });
    await audit.updateOne({ _id: 2 }, { $set: pick(fifth) });
    await audit.updateOne({ _id: 5 }, { $set: pick(second) });
    expect(await t.intake.audit.verify()).toMatchObject({ ok: false, brokenAt: 2 });
    await restore();
  });

  test('concurrent writers and readers leave one chain without gaps or forks', async ({
    intake: t,
    mongoClient,
  }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const agencies = ['cert-de', 'police-by', 'cert-fr'];
    const tokens = await Promise.all(
      agencies.map((agencyId) => t.token({ roles: ['agency_analyst'], agencyId, clearance: 'RED' })),
    );
    const submit = (i: number) =>
      rpc(
        t,
        'submitReport',
        report({ observables: [{ type: 'domain', value: `burst-${i}.example` }] }),
        tokens[i % tokens.length],
      );
    const existing: string[] = [];
    for (let i = 0; i < 10; i++) existing.push((await submit(100 + i)).incident!.id);

    // Thirty reports and twenty AMBER reads, all racing for the next position in the chain.
    const reads = [...existing, ...existing];
    const [submitted] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, (_, i) => submit(i))),
      Promise.all(reads.map((incidentId) => rpc(t, 'getIncident', { incidentId }, coordinator))),
    ]);

    const stored = await records(audit);
    expect(stored.map((r) => r._id)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const submittedRecords = stored.filter((r) => r.action === 'report.submitted').map((r) => r.objectId);
    expect(submittedRecords.slice(10).sort()).toEqual(submitted.map((s) => s.report!.id).sort());
    const readRecords = stored.filter((r) => r.action === 'incident.read').map((r) => r.objectId);
    expect(readRecords.sort()).toEqual(reads.sort());
    // Each record names the one before it.
    expect(stored.every((r, i) => i === 0 || r.prevHash === stored[i - 1]!.hash)).toBe(true);
    expect(await t.intake.audit.verify()).toEqual({
      ok: true,
      records: 60,
      head: stored[59]!.hash,
    });
  });
});

/** An audit record a replica appends in the tests below. */
const replicaRecord = (replica: number, i: number) => ({
  actor: `replica-${replica}`,
  agencyId: undefined,
  action: 'incident.read',
  objectId: `inc_${replica}_${i}`,
  tlp: 'AMBER',
  at: new Date(),
});

/** A client of its own whose reads of the audit records (not its head) are listed. */
async function watchedRecordReads(mongoUrl: string): Promise<{ client: MongoClient; reads: Document[] }> {
  const client = await new MongoClient(mongoUrl, { monitorCommands: true }).connect();
  const reads: Document[] = [];
  client.on('commandStarted', (event) => {
    const command = event.command;
    if (event.commandName === 'find' && command['find'] === 'audit')
      reads.push(command['filter'] as Document);
  });
  return { client, reads };
}

describe('the audit chain across replicas', () => {
  // FerretDB serves a lookup from its _id index only for a string or ObjectId _id: each read of
  // a record by its numeric position scans the whole log. A replica catching up after another's
  // appends once read every record it had missed, one scan each (most of the store's CPU with
  // two intake instances in the scale-out benchmark); it reads the head instead.
  test('a replica behind another catches up from the head, reading no record', async ({
    intake: t,
    infra,
  }) => {
    const { client, reads } = await watchedRecordReads(infra.mongoUrl);
    try {
      const db = client.db(t.dbName);
      const [behind, ahead] = [new MongoAuditLog(db), new MongoAuditLog(db)];
      await behind.append(replicaRecord(0, 0)); // it now takes position 1 as the end
      for (let i = 0; i < 30; i++) await ahead.append(replicaRecord(1, i));
      reads.length = 0;
      await behind.append(replicaRecord(0, 1)); // collides at position 2
      expect(reads).toEqual([]);
      const stored = await records(db.collection('audit'));
      expect(stored.map((r) => r._id)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
      expect(stored[31]).toMatchObject({ objectId: 'inc_0_1', prevHash: stored[30]!.hash });
      expect(await behind.verify()).toEqual({ ok: true, records: 32, head: stored[31]!.hash });
    } finally {
      await client.close();
    }
  });

  test('records a writer left past the head (it stopped before moving it) are read in one query', async ({
    intake: t,
    infra,
  }) => {
    const { client, reads } = await watchedRecordReads(infra.mongoUrl);
    try {
      const db = client.db(t.dbName);
      const audit: AuditCollection = db.collection('audit');
      const [behind, ahead] = [new MongoAuditLog(db), new MongoAuditLog(db)];
      await behind.append(replicaRecord(0, 0));
      for (let i = 0; i < 5; i++) await ahead.append(replicaRecord(1, i));
      // As if the writer of records 4 to 6 had stopped between inserting them and moving the head.
      const third = (await audit.findOne({ _id: 3 }))!;
      await db
        .collection<{ _id: string; seq: number; hash: string }>('audit_head')
        .updateOne({ _id: 'head' }, { $set: { seq: 3, hash: third.hash } });
      reads.length = 0;
      await behind.append(replicaRecord(0, 1));
      expect(reads).toHaveLength(1);
      const stored = await records(audit);
      expect(stored.map((r) => r._id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(stored[6]).toMatchObject({ objectId: 'inc_0_1', prevHash: stored[5]!.hash });
      expect(await db.collection('audit_head').findOne({ _id: 'head' as never })).toMatchObject({ seq: 7 });
      expect(await behind.verify()).toEqual({ ok: true, records: 7, head: stored[6]!.hash });
    } finally {
      await client.close();
    }
  });

  test('two replicas appending at once leave one chain with every record once, in no forks', async ({
    intake: t,
    mongoClient,
  }) => {
    // Each replica keeps its own idea of the head; the other's appends make it stale, so every
    // append after the first may collide on its position and must go after the real head.
    const db = mongoClient.db(t.dbName);
    const replicas = [new MongoAuditLog(db), new MongoAuditLog(db)];
    const record = replicaRecord;
    // Rounds of appends that overlap: one replica's batch lands while the other's is written.
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        replicas.flatMap((log, replica) =>
          Array.from({ length: 8 }, (_, i) => log.append(record(replica, round * 8 + i))),
        ),
      );
    }
    const stored = await records(db.collection('audit'));
    expect(stored.map((r) => r._id)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    const expected = [0, 1].flatMap((replica) => Array.from({ length: 40 }, (_, i) => `inc_${replica}_${i}`));
    expect(stored.map((r) => r.objectId).sort()).toEqual(expected.sort());
    expect(stored.every((r, i) => i === 0 || r.prevHash === stored[i - 1]!.hash)).toBe(true);
    for (const log of [...replicas, t.intake.audit]) {
      expect(await log.verify()).toEqual({ ok: true, records: 80, head: stored[79]!.hash });
    }
  });
});
