/**
 * Reads on the response path as the collections grow: an incident's victim cases (ListCases,
 * once per IncidentResponse at triage) by filtering the cases collection, as before, against
 * the per-incident membership index, at `GROWTH_BENCH_CASES` stored cases (default 20,000,
 * seeded with the raw driver, then entered in the index as a first start does). It also times a
 * version-checked update (`{_id, version}`, as every incident and case change makes), current
 * and stale, against one by `_id` alone, on the same collection; with
 * `BEACON_FERRETDB_CAS_REWRITE=off` the launcher relays it to FerretDB as sent (a scan). And the
 * reads of one outbox relay sweep with 20 documents pending: through their pending marks (the
 * marks, then each document by `_id`) against the full read of the collection. Run with
 * `pnpm bench growth`; prints a table and writes JSON to results/.
 */
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { marksFor } from '@beacon/platform';
import { MongoCaseStore } from '@beacon/victims';
import { startDedicated } from '@beacon/testkit/infra';
import { publish, type Check, type Row } from './report.js';

const CASES = Number(process.env['GROWTH_BENCH_CASES'] ?? 20_000);
const INCIDENTS = Math.max(1, Math.floor(CASES / 4));
const RUNS = Number(process.env['GROWTH_BENCH_RUNS'] ?? 7);

const store = process.env['MONGO_URL'] ? undefined : await startDedicated('mongo');
const client = await MongoClient.connect(store?.url ?? process.env['MONGO_URL']!);
const db = client.db(`growth_${Date.now()}`);
const rows: Row[] = [];
const checks: Check[] = [];

/** Median and worst of `runs` timed calls (after one untimed). */
async function timed(
  runs: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ p50: number; max: number }> {
  await op(-1);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await op(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)! };
}

try {
  // A case document as the store writes one: its clear state as JSON (about 1.5 kB), sealed data.
  const padding = 'x'.repeat(1_400);
  const cases = db.collection<Record<string, unknown> & { _id: string }>('cases');
  const seedStart = performance.now();
  for (let i = 0; i < CASES; i += 1_000) {
    await cases.insertMany(
      Array.from({ length: Math.min(1_000, CASES - i) }, (_, j) => {
        const n = i + j;
        return {
          _id: `vc_${n.toString(16).padStart(32, '0')}`,
          ownerOrgId: `org-${n % 40}`,
          assignedOrgIds: [`org-${n % 40}`],
          incidentIds: [`inc_${n % INCIDENTS}`],
          jurisdiction: 'DE-BY',
          status: n % 5 === 0 ? 'closed' : 'open',
          urgent: false,
          referralOrgIds: [],
          version: 1,
          // Its id as the state carries it: lists return the state's id.
          state: JSON.stringify({
            id: `vc_${n.toString(16).padStart(32, '0')}`,
            openedAt: '2026-01-01T00:00:00Z',
            padding,
          }),
          sealed: '',
          outbox: {},
        };
      }),
    );
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.log(`seeded ${CASES} cases over ${INCIDENTS} incidents in ${seedSeconds.toFixed(1)} s`);

  // An outbox sweep's reads with 20 documents pending (a crash left them unannounced), marked
  // as writers mark them: the full read of the collection (every sweep before, now hourly)
  // against the marks and those documents by `_id`.
  const PENDING = 20;
  const marks = marksFor(db, ['cases'], 'outbox')['cases']!;
  await marks.init();
  const pendingIds = Array.from({ length: PENDING }, (_, k) => {
    const n = Math.floor((k * CASES) / PENDING);
    return `vc_${n.toString(16).padStart(32, '0')}`;
  });
  await marks.mark(pendingIds);
  for (const _id of pendingIds) await cases.updateOne({ _id }, { $set: { 'outbox.e1': 'pending' } });
  const projection = { outbox: 1, outboxClaimBy: 1, outboxClaimUntil: 1 };
  let fullFound = 0;
  const fullSweep = await timed(RUNS, async () => {
    fullFound = (
      await cases
        .find({ outbox: { $ne: {} } }, { projection })
        .limit(200)
        .toArray()
    ).length;
  });
  let marksFound = 0;
  const marksSweep = await timed(RUNS, async () => {
    const due = await marks.due(new Date(), 200);
    const docs = await Promise.all(due.map((m) => cases.findOne({ _id: m.id }, { projection })));
    marksFound = docs.filter((d) => d && Object.keys(d['outbox'] as object).length > 0).length;
  });
  rows.push(
    {
      name: `outbox sweep reads, full read (before; now hourly), ${CASES} docs, ${PENDING} pending`,
      opsPerSecond: 1000 / fullSweep.p50,
      p50Ms: fullSweep.p50,
      p99Ms: fullSweep.max,
      note: 'max as p99',
    },
    {
      name: `outbox sweep reads, pending marks + by _id (after), ${CASES} docs, ${PENDING} pending`,
      opsPerSecond: 1000 / marksSweep.p50,
      p50Ms: marksSweep.p50,
      p99Ms: marksSweep.max,
      note: 'max as p99',
    },
  );
  checks.push({
    target: 'outbox sweep: marks find every pending document, at least 10x cheaper than the full read',
    measured: `${(fullSweep.p50 / marksSweep.p50).toFixed(0)}x; found ${marksFound} (full ${fullFound}) of ${PENDING}`,
    pass: marksFound === PENDING && fullFound === PENDING && fullSweep.p50 >= 10 * marksSweep.p50,
  });
  for (const _id of pendingIds) await cases.updateOne({ _id }, { $set: { outbox: {} } });

  const caseStore = new MongoCaseStore(db, () => crypto.randomUUID());
  const backfillStart = performance.now();
  await caseStore.init();
  await caseStore.membershipReady();
  const backfillMs = performance.now() - backfillStart;
  rows.push({
    name: 'first start: existing cases entered in the membership index',
    opsPerSecond: NaN,
    note: `${(backfillMs / 1000).toFixed(1)} s once`,
  });

  const incident = (i: number) => `inc_${(i * 7919 + 13) % INCIDENTS}`;
  // Before: the filter the store used (`list` for an incident, open cases, first page of 500).
  const before = await timed(Math.min(RUNS, 5), (i) =>
    cases
      .find({ incidentIds: incident(i + 1), status: { $ne: 'closed' } }, { projection: { state: 1 } })
      .sort({ _id: 1 })
      .limit(501)
      .toArray(),
  );
  const after = await timed(RUNS * 4, (i) =>
    caseStore.list(
      { incident: incident(i + 1) },
      { urgentOnly: false, includeClosed: false },
      undefined,
      500,
    ),
  );
  // Same answer both ways, for one incident.
  const one = incident(4);
  const scanned = await cases
    .find({ incidentIds: one, status: { $ne: 'closed' } }, { projection: { _id: 1 } })
    .sort({ _id: 1 })
    .toArray();
  const listed = await caseStore.list(
    { incident: one },
    { urgentOnly: false, includeClosed: false },
    undefined,
    500,
  );
  const same = JSON.stringify(scanned.map((d) => d._id)) === JSON.stringify(listed.items.map((c) => c.id));
  rows.push(
    {
      name: `ListCases by incident, filter on incidentIds (before), ${CASES} cases`,
      opsPerSecond: 1000 / before.p50,
      p50Ms: before.p50,
      p99Ms: before.max,
      note: 'max as p99',
    },
    {
      name: `ListCases by incident, membership index (after), ${CASES} cases`,
      opsPerSecond: 1000 / after.p50,
      p50Ms: after.p50,
      p99Ms: after.max,
      note: 'max as p99',
    },
  );
  checks.push(
    {
      target: 'the same cases either way',
      measured: `${listed.items.length} cases, same: ${same}`,
      pass: same,
    },
    {
      target: 'ListCases by incident at least 20x faster than the scan',
      measured: `${(before.p50 / after.p50).toFixed(0)}x`,
      pass: before.p50 / after.p50 >= 20,
    },
  );

  // What the index costs a case write: opening one case (with its two membership writes).
  let next = CASES;
  const open = await timed(RUNS * 4, async () => {
    const n = next++;
    await caseStore.membership.add([{ id: `vc_new_${n}`, incidentIds: [incident(n)] }]);
  });
  rows.push({
    name: 'membership write of one new case (head read + one $inc/$addToSet)',
    opsPerSecond: 1000 / open.p50,
    p50Ms: open.p50,
    p99Ms: open.max,
    note: 'max as p99',
  });

  // A change's version-checked write, as IncidentStore.save and CaseStore.update make it: the
  // launcher serves it from the _id index (infra/ferretdb/casrewrite.go), FerretDB alone scans.
  // The document stays at version 1 (only `touched` changes), so every timed call matches; a
  // stale one (version 0) must match nothing.
  const id = `vc_${(1234).toString(16).padStart(32, '0')}`;
  let matched = 0;
  const checked = await timed(RUNS * 4, async (i) => {
    matched += (await cases.updateOne({ _id: id, version: 1 }, { $set: { touched: i } })).matchedCount;
  });
  let staleMatched = 0;
  const stale = await timed(RUNS * 4, async (i) => {
    staleMatched += (await cases.updateOne({ _id: id, version: 0 }, { $set: { stale: i } })).matchedCount;
  });
  const byId = await timed(RUNS * 4, (i) => cases.updateOne({ _id: id }, { $set: { touched: i } }));
  rows.push(
    {
      name: `update filtered by {_id, version} (compare-and-set), ${CASES} cases`,
      opsPerSecond: 1000 / checked.p50,
      p50Ms: checked.p50,
      p99Ms: checked.max,
      note: 'max as p99',
    },
    {
      name: `update filtered by {_id, version}, stale version, ${CASES} cases`,
      opsPerSecond: 1000 / stale.p50,
      p50Ms: stale.p50,
      p99Ms: stale.max,
      note: 'max as p99',
    },
    {
      name: `update filtered by {_id} alone, ${CASES} cases`,
      opsPerSecond: 1000 / byId.p50,
      p50Ms: byId.p50,
      p99Ms: byId.max,
      note: 'max as p99',
    },
  );
  checks.push(
    {
      target: 'compare-and-set p50 at most 5x the update by _id alone',
      measured: `${(checked.p50 / byId.p50).toFixed(1)}x (stale ${(stale.p50 / byId.p50).toFixed(1)}x)`,
      pass: checked.p50 <= 5 * byId.p50 && stale.p50 <= 5 * byId.p50,
    },
    {
      target: 'compare-and-set: every current version matches, no stale one does',
      measured: `${matched} of ${RUNS * 4 + 1} current, ${staleMatched} stale`,
      pass: matched === RUNS * 4 + 1 && staleMatched === 0,
    },
  );
} finally {
  await db.dropDatabase().catch(() => undefined);
  await client.close();
  await store?.stop();
}
publish('growth', rows, checks, fileURLToPath(new URL('./results', import.meta.url)));
