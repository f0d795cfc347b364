/**
 * `GET /v1/incidents`'s default listing as the collection grows: intake's store `list` (the
 * trust policy's read scope as the query, newest first, page 1 of 20) for a coordinator and
 * for an agency analyst, at `LIST_BENCH_SIZES` stored incidents (default 1000,3000,6000,
 * seeded with the raw driver in the shape the store writes, then the store's `init` as a
 * restart runs it), against a read by `_id`. Run with `pnpm bench incident-list`; prints a
 * table.
 */
import { MongoClient } from 'mongodb';
import { NCISS_BASELINE, type Tlp } from '@beacon/domain';
import { startDedicated } from '@beacon/testkit/infra';
import { MongoIncidentStore } from '../../services/intake/src/adapters/mongo/incident-store.js';
import { incidentFields } from '../../services/intake/src/adapters/mongo/documents.js';
import { incidentScope, type Caller } from '../../services/intake/src/domain/access.js';
import { openDirectly } from '../../services/intake/src/domain/rules.js';

const SIZES = (process.env['LIST_BENCH_SIZES'] ?? '1000,3000,6000').split(',').map(Number);
const RUNS = Number(process.env['LIST_BENCH_RUNS'] ?? 7);
const LABELS: readonly Tlp[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

const store = process.env['MONGO_URL'] ? undefined : await startDedicated('mongo');
const client = await MongoClient.connect(store?.url ?? process.env['MONGO_URL']!);
const db = client.db(`incident_list_${Date.now()}`);
const incidents = new MongoIncidentStore(db, () => {
  throw new Error('the bench writes no events');
});

const coordinator: Caller = { subject: 'cc', roles: ['coordinator'], agencyId: undefined, clearance: 'RED' };
const analyst: Caller = { subject: 'a', roles: ['agency_analyst'], agencyId: 'cert-7', clearance: 'AMBER' };

async function timed(op: () => Promise<unknown>): Promise<{ p50: number; max: number }> {
  await op();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await op();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)! };
}

try {
  await incidents.init();
  // One opening a second, ending around now: the default list's newest page is recent.
  const base = Date.now() - 6 * 3_600_000;
  let stored = 0;
  const rows: string[] = [];
  for (const size of SIZES) {
    const docs = [];
    for (let n = stored; n < size; n++) {
      const { incident } = openDirectly(
        {
          id: `inc_${n.toString(16).padStart(26, '0')}`,
          title: `Seeded incident ${n}`,
          tlp: LABELS[n % LABELS.length]!,
          classification: { rsitClass: 'fraud', rsitType: 'phishing' },
          sectors: ['energy'],
          jurisdictions: ['DE'],
          severityInputs: { ...NCISS_BASELINE },
          observables: [],
          affectedAssets: [],
          awareAt: new Date(base + n * 1_000),
        },
        new Date(base + n * 1_000),
      );
      // One in ten engages the analyst's agency.
      const engaged = n % 10 === 0 ? ['cert-7'] : [`cert-${n % 40}`];
      docs.push({
        _id: incident.id,
        ...incidentFields({ ...incident, engagedAgencyIds: engaged }),
        outbox: {},
      });
    }
    for (let i = 0; i < docs.length; i += 1_000)
      await incidents.collection.insertMany(docs.slice(i, i + 1_000));
    stored = size;
    // As a restart after seeding does (it enters the incidents stored without their openings).
    const entered = performance.now();
    await incidents.init();
    console.log(
      `${String(size).padStart(6)}  init after seeding      ${(performance.now() - entered).toFixed(0)} ms`,
    );
    const lastId = `inc_${(size - 1).toString(16).padStart(26, '0')}`;
    for (const [name, op] of [
      ['list, coordinator', () => incidents.list(incidentScope(coordinator), { limit: 20 })],
      ['list, agency analyst', () => incidents.list(incidentScope(analyst), { limit: 20 })],
      ['get by _id', () => incidents.get(lastId)],
    ] as const) {
      const { p50, max } = await timed(op);
      rows.push(
        `${String(size).padStart(6)}  ${name.padEnd(22)} p50 ${p50.toFixed(1).padStart(8)} ms  max ${max.toFixed(1).padStart(8)} ms`,
      );
      console.log(rows.at(-1));
    }
  }
} finally {
  await db.dropDatabase().catch(() => undefined);
  await client.close();
  await store?.stop();
}
