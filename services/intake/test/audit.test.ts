import { describe, expect } from 'vitest';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { commonV1, intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { chainPosition } from '@beacon/platform';
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

/** An audit record as stored: what happened, and the chain's hashes. */
interface AuditDoc {
  /** `<ms>.<chain>.<position>`: sorts in the order of writing. */
  _id: string;
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

/** The log as stored, in the order written. */
const records = (audit: AuditCollection) => audit.find().sort({ _id: 1 }).toArray();
/** Which writer's chain a record is in, and where. */
const placeOf = (r: AuditDoc) => chainPosition(r._id)!;
const positions = (stored: AuditDoc[]) => stored.map((r) => placeOf(r).seq);
const chainsOf = (stored: AuditDoc[]) => new Set(stored.map((r) => placeOf(r).chain));

/** Files `count` AMBER reports, one audit record each, and checks the chain they leave. */
async function chainOf(t: TestIntake, audit: AuditCollection, count: number): Promise<AuditDoc[]> {
  const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'RED' });
  for (let i = 0; i < count; i++) {
    await rpc(
      t,
      'submitReport',
      report({ observables: [{ type: 'domain', value: `chain-${i}.example` }] }),
      analyst,
    );
  }
  expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: count, chains: 1 });
  const stored = await records(audit);
  expect(positions(stored)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  return stored;
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
    // One intake process, one chain.
    expect(positions(stored)).toEqual(stored.map((_, i) => i + 1));
    expect(chainsOf(stored).size).toBe(1);
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

    // The head digest names the chain's end: it moves with every record appended.
    const verification = await t.intake.audit.verify();
    expect(verification).toEqual({
      ok: true,
      records: 10,
      chains: 1,
      ends: [{ id: stored[9]!._id, hash: stored[9]!.hash }],
      head: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
    await rpc(t, 'getIncident', { incidentId: red }, coordinator);
    const next = await t.intake.audit.verify();
    expect(next).toMatchObject({ ok: true, records: 11 });
    expect(next.ok && verification.ok && next.head !== verification.head).toBe(true);
  });

  test('an altered record breaks the chain at that record', async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const stored = await chainOf(t, audit, 6);
    await audit.updateOne({ _id: stored[2]!._id }, { $set: { action: 'incident.read' } });
    expect(await t.intake.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 3,
      records: 2,
      chain: placeOf(stored[2]!).chain,
    });
  });

  test('a removed record breaks the chain where it is missing', async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const stored = await chainOf(t, audit, 6);
    await audit.deleteOne({ _id: stored[3]!._id });
    expect(await t.intake.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 4,
      records: 3,
      problem: expect.stringContaining('missing') as unknown,
    });
  });

  test("a removed tail shows against the chain's head", async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const stored = await chainOf(t, audit, 6);
    await audit.deleteMany({ _id: { $in: [stored[4]!._id, stored[5]!._id] } });
    expect(await t.intake.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 5,
      problem: expect.stringContaining('its head names record 6') as unknown,
    });
  });

  test('a record moved in time or to another chain is detected', async ({ intake: t, mongoClient }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const stored = await chainOf(t, audit, 4);
    const third = stored[2]!;
    const { chain } = placeOf(third);
    // Put back under an id one millisecond later: it still sorts between its neighbours.
    const [ms, , seq] = third._id.split('.');
    const later = `${String(Number(ms) + 1).padStart(13, '0')}.${chain}.${seq}`;
    await audit.deleteOne({ _id: third._id });
    await audit.insertOne({ ...third, _id: later });
    expect(await t.intake.audit.verify()).toMatchObject({ ok: false, brokenAt: 3, chain });
    // Under another chain's name, as that chain's first record (its own chain repaired).
    await audit.deleteOne({ _id: later });
    await audit.insertOne(third);
    expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: 4 });
    // (Stamped two minutes back: the newest records of a chain without a head are still settling.)
    const old = String(Number(ms) - 120_000).padStart(13, '0');
    await audit.insertOne({ ...third, _id: `${old}.${'0'.repeat(16)}.0000000001` });
    expect(await t.intake.audit.verify()).toMatchObject({
      ok: false,
      chain: '0'.repeat(16),
      brokenAt: 1,
      problem: expect.stringContaining('does not match its hash') as unknown,
    });
  });

  test('two records swapped, hashes and all or only their fields, are detected', async ({
    intake: t,
    mongoClient,
  }) => {
    const audit: AuditCollection = mongoClient.db(t.dbName).collection('audit');
    const original = await chainOf(t, audit, 6);
    const [second, fifth] = [original[1]!, original[4]!];
    const restore = async () => {
      await audit.replaceOne({ _id: second._id }, second);
      await audit.replaceOne({ _id: fifth._id }, fifth);
      expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: 6 });
    };

    // Whole records, each still carrying its own valid hash, moved to each other's place.
    const { _id: _2, ...secondBody } = second;
    const { _id: _5, ...fifthBody } = fifth;
    await audit.replaceOne({ _id: second._id }, fifthBody);
    await audit.replaceOne({ _id: fifth._id }, secondBody);
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
    await audit.updateOne({ _id: second._id }, { $set: pick(fifth) });
    await audit.updateOne({ _id: fifth._id }, { $set: pick(second) });
    expect(await t.intake.audit.verify()).toMatchObject({ ok: false, brokenAt: 2 });
    await restore();
  });

  test('concurrent writers and readers in one process leave one chain without gaps or forks', async ({
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
    expect(positions(stored)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(chainsOf(stored).size).toBe(1);
    const submittedRecords = stored.filter((r) => r.action === 'report.submitted').map((r) => r.objectId);
    expect(submittedRecords.slice(10).sort()).toEqual(submitted.map((s) => s.report!.id).sort());
    const readRecords = stored.filter((r) => r.action === 'incident.read').map((r) => r.objectId);
    expect(readRecords.sort()).toEqual(reads.sort());
    // Each record names the one before it.
    expect(stored.every((r, i) => i === 0 || r.prevHash === stored[i - 1]!.hash)).toBe(true);
    expect(await t.intake.audit.verify()).toMatchObject({ ok: true, records: 60, chains: 1 });
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

/** A client of its own whose reads of the audit log and its heads are listed. */
async function watchedReads(mongoUrl: string): Promise<{ client: MongoClient; reads: Document[] }> {
  const client = await new MongoClient(mongoUrl, { monitorCommands: true }).connect();
  const reads: Document[] = [];
  client.on('commandStarted', (event) => {
    const command = event.command;
    if (
      ['find', 'aggregate', 'count'].includes(event.commandName) &&
      String(command[event.commandName]).startsWith('audit')
    )
      reads.push(command);
  });
  return { client, reads };
}

describe('the audit log across replicas', () => {
  // One chain shared by every replica made them contend for its end: with two intake instances
  // most appends collided and each collision cost reads to catch up (on FerretDB, scans of the
  // whole log). Each writer now owns a chain: appending reads none of the log.
  test('two writers append to chains of their own, reading none of the log, and verify as one log', async ({
    intake: t,
    infra,
  }) => {
    const { client, reads } = await watchedReads(infra.mongoUrl);
    try {
      const db = client.db(t.dbName);
      const replicas = [new MongoAuditLog(db), new MongoAuditLog(db)];
      // Rounds of appends that overlap: one replica's group lands while the other's is written.
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          replicas.flatMap((log, replica) =>
            Array.from({ length: 8 }, (_, i) => log.append(replicaRecord(replica, round * 8 + i))),
          ),
        );
      }
      // No record is read; the heads only when a writer starts its chain (to vouch for others).
      expect(reads.map((r) => r['find'] as unknown)).toEqual(['audit_head', 'audit_head']);
      const stored = await records(db.collection('audit'));
      expect(stored).toHaveLength(80);
      const chains = [0, 1].map((replica) => stored.filter((r) => r.actor === `replica-${replica}`));
      for (const [replica, chain] of chains.entries()) {
        // Each replica's records form one chain, in its order, positions without gaps.
        expect(new Set(chain.map((r) => placeOf(r).chain)).size).toBe(1);
        expect(positions(chain)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(chain.map((r) => r.objectId)).toEqual(
          Array.from({ length: 40 }, (_, i) => `inc_${replica}_${i}`),
        );
        expect(chain.every((r, i) => i === 0 || r.prevHash === chain[i - 1]!.hash)).toBe(true);
      }
      expect(placeOf(chains[0]![0]!).chain).not.toBe(placeOf(chains[1]![0]!).chain);
      for (const log of [...replicas, t.intake.audit]) {
        expect(await log.verify()).toMatchObject({ ok: true, records: 80, chains: 2 });
      }
      // Tampering with one replica's chain is found, and named.
      const victim = chains[1]![10]!;
      await db.collection<AuditDoc>('audit').updateOne({ _id: victim._id }, { $set: { actor: 'replica-0' } });
      expect(await t.intake.audit.verify()).toMatchObject({
        ok: false,
        chain: placeOf(victim).chain,
        brokenAt: 11,
      });
    } finally {
      await client.close();
    }
  });

  test('a writer whose write failed goes on in a new chain, and the log still verifies', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const log = new MongoAuditLog(db);
    // A group the store refuses half-way: its first record is stored, the second is not (a
    // field name the store does not accept), so the writer cannot know where its chain ends.
    // Appends made while the first is written go together as the next group.
    const refused = { ...replicaRecord(0, 2), $where: 'sleep(1)' } as unknown as ReturnType<
      typeof replicaRecord
    >;
    const outcomes = await Promise.allSettled([
      log.append(replicaRecord(0, 0)),
      log.append(replicaRecord(0, 1)),
      log.append(refused),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    await log.append(replicaRecord(0, 3));
    const stored = await records(db.collection('audit'));
    expect(stored.map((r) => r.objectId)).toEqual(['inc_0_0', 'inc_0_1', 'inc_0_3']);
    // The first chain ends where the store stopped (its head one short of it); the next begins.
    expect(positions(stored)).toEqual([1, 2, 1]);
    expect(chainsOf(stored).size).toBe(2);
    // Record 2 of the first chain, past its head and just written, is left to a later
    // verification (see below); the rest verifies.
    expect(await log.verify()).toMatchObject({ ok: true, records: 2, chains: 2 });
  });

  test("a whole chain removed with its head is found through the other chains' anchors", async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const [first, second] = [new MongoAuditLog(db), new MongoAuditLog(db)];
    for (let i = 0; i < 3; i++) await first.append(replicaRecord(0, i));
    // The second writer's chain starts by naming the ends of the chains active lately.
    await second.append(replicaRecord(1, 0));
    const stored = await records(db.collection('audit'));
    const gone = placeOf(stored[0]!).chain;
    expect(stored.at(-1)).toMatchObject({ anchors: [{ id: stored[2]!._id, hash: stored[2]!.hash }] });
    await db.collection<AuditDoc>('audit').deleteMany({ actor: 'replica-0' });
    await db.collection<{ _id: string }>('audit_head').deleteOne({ _id: gone });
    expect(await second.verify()).toMatchObject({
      ok: false,
      chain: gone,
      brokenAt: 3,
      problem: expect.stringContaining('named by a checkpoint or another chain, is missing') as unknown,
    });
  });

  test('ends kept from a verification show a chain removed since, head and all', async ({
    intake: t,
    mongoClient,
  }) => {
    const db = mongoClient.db(t.dbName);
    const log = new MongoAuditLog(db);
    for (let i = 0; i < 4; i++) await log.append(replicaRecord(0, i));
    const kept = await log.verify();
    if (!kept.ok) throw new Error(kept.problem);
    // More records since: the checkpoint still holds.
    await log.append(replicaRecord(0, 4));
    expect(await log.verify(kept.ends)).toMatchObject({ ok: true, records: 5 });
    // Everything removed, head and all: nothing in the store says so, the checkpoint does.
    await db.collection('audit').deleteMany({});
    await db.collection('audit_head').deleteMany({});
    expect(await log.verify()).toMatchObject({ ok: true, records: 0 });
    expect(await log.verify(kept.ends)).toMatchObject({
      ok: false,
      brokenAt: 4,
      problem: expect.stringContaining('is missing') as unknown,
    });
  });

  test('records still arriving past their head are left to the next verification; old ones are not', async ({
    intake: t,
    mongoClient,
  }) => {
    // A verification scanning in id order can pass a group stamped before it got there but
    // written after: a chain's newest records past its head are not judged yet.
    const db = mongoClient.db(t.dbName);
    const audit = db.collection<AuditDoc>('audit');
    const log = new MongoAuditLog(db);
    for (let i = 0; i < 3; i++) await log.append(replicaRecord(0, i));
    const [last] = (await records(audit)).slice(-1);
    const { chain } = placeOf(last!);
    const beyond = (ms: number, seq: number) => ({
      ...last!,
      _id: `${String(ms).padStart(13, '0')}.${chain}.${String(seq).padStart(10, '0')}`,
    });
    // Record 5 is in, record 4 not yet: just written, so not a missing record.
    await audit.insertOne(beyond(Date.now(), 5));
    expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
    // Stamped two minutes ago and past the head: judged, and found out of place.
    await audit.deleteMany({ _id: { $gt: last!._id } });
    await audit.insertOne(beyond(Date.now() - 120_000, 5));
    expect(await log.verify()).toMatchObject({ ok: false, chain });
  });
});
