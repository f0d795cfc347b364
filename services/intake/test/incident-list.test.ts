import { Collection, type Db } from 'mongodb';
import { describe, expect, vi } from 'vitest';
import {
  inScope,
  NCISS_BASELINE,
  NCISS_LEVELS,
  readScope,
  TLP_LEVELS,
  type Jurisdiction,
  type NcissLevel,
  type Principal,
  type RsitClass,
  type RsitType,
  type Sector,
} from '@beacon/domain';
import { test } from '@beacon/testkit';
import { incidentFields } from '../src/adapters/mongo/documents.js';
import { BadCursorError, MongoIncidentStore } from '../src/adapters/mongo/incident-store.js';
import { recipientsOf } from '../src/domain/access.js';
import {
  matchesIncidentFilter,
  orderValue,
  parseIncidentFilter,
  parseIncidentOrder,
  type IncidentOrder,
} from '../src/domain/incident-filter.js';
import { INCIDENT_STATUSES, type Incident } from '../src/domain/incident.js';

/**
 * The store's query against the pure meaning of a filter (`matchesIncidentFilter`), on the
 * run's real Mongo-wire server: hand-picked filters, then generated ones; every order, paged.
 */

/** A small deterministic generator (mulberry32), so a failure names a filter that repeats. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const some = <T>(items: readonly T[]): T[] => items.filter(() => next() < 0.35);
  return { next, int, pick, some };
}

const SECTORS: Sector[] = [
  'energy',
  'communications',
  'water-and-wastewater',
  'healthcare-and-public-health',
];
const JURISDICTIONS = ['DE', 'DE-BY', 'DE-BE', 'FR', 'US-CA', 'DK'] as Jurisdiction[];
const CLASSES: [RsitClass, RsitType][] = [
  ['malicious-code', 'infected-system'],
  ['availability', 'ddos'],
  ['fraud', 'phishing'],
  ['intrusions', 'system-compromise'],
];
const TITLES = [
  'Pipeline ransomware',
  'Satellite modem WIPER',
  'Health service RANSOM note',
  'Grid (x.y) outage',
];
const AGENCIES = ['cert-de', 'cert-fr', undefined];
const BASE = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

function incidents(count: number): Incident[] {
  const r = random(21);
  return Array.from({ length: count }, (_, i) => {
    const level = r.int(6) as NcissLevel;
    // Hours drawn from a few values, so sort keys tie and `_id` must break the ties.
    const openedAt = new Date(BASE + r.int(8) * HOUR);
    const [rsitClass, rsitType] = r.pick(CLASSES);
    const source = r.pick(AGENCIES);
    return {
      id: `inc_${String(i).padStart(3, '0')}`,
      title: r.pick(TITLES),
      status: r.pick(INCIDENT_STATUSES),
      tlp: r.pick(TLP_LEVELS),
      classification: { rsitClass, rsitType },
      sectors: r.some(SECTORS),
      jurisdictions: r.some(JURISDICTIONS),
      severityInputs: NCISS_BASELINE,
      severity: { score: level * 15 + r.int(15), level, levelName: NCISS_LEVELS[level] },
      severityOrigins: {},
      severityProposals: [],
      reportIds: [],
      engagedAgencyIds: r.next() < 0.3 ? ['cert-dk'] : [],
      sourceAgencyId: source,
      reporterAgencyIds: source ? [source] : [],
      observables: [],
      affectedAssets: [],
      awareAt: new Date(openedAt.getTime() - r.int(3) * HOUR),
      openedAt,
      updatedAt: new Date(openedAt.getTime() + r.int(48) * HOUR),
      version: 1,
    };
  });
}

const HAND_PICKED = [
  'sectors:"energy" AND jurisdictions:"DE" AND nciss_level >= 3',
  'jurisdictions:"DE"',
  'jurisdictions:"DE-BY"',
  'NOT jurisdictions:"DE"',
  'jurisdictions:* AND -sectors:*',
  'title:"ransom"',
  'title:"(x.y)"',
  'title:"WIPER" OR title:"grid"',
  'label >= AMBER',
  'tlp = "AMBER+STRICT" OR label = CLEAR',
  'status = active OR status = triage',
  'status != closed AND rsit_class = fraud',
  'rsit_type = ddos',
  'nciss_level < 2 OR nciss_level = emergency',
  'nciss_score >= 40 AND nciss_score < 60',
  `opened_at >= "${new Date(BASE + 2 * HOUR).toISOString()}" AND opened_at < "${new Date(BASE + 5 * HOUR).toISOString()}"`,
  `updated_at > "${new Date(BASE + 24 * HOUR).toISOString()}"`,
  `aware_at <= "${new Date(BASE + HOUR).toISOString()}" OR aware_at != "${new Date(BASE).toISOString()}"`,
  'NOT (sectors:"energy" OR sectors:"communications") AND jurisdictions:"US"',
];

/** A random filter as text, `depth` levels of AND / OR / NOT deep at most. */
function generatedFilter(r: ReturnType<typeof random>, depth: number): string {
  const at = () => `"${new Date(BASE + r.int(60) * HOUR).toISOString()}"`;
  const restriction = r.pick([
    () => `sectors:"${r.pick(SECTORS)}"`,
    () => `jurisdictions:"${r.pick(JURISDICTIONS.concat(['US'] as Jurisdiction[]))}"`,
    () => `${r.pick(['sectors', 'jurisdictions'])}:*`,
    () => `nciss_level ${r.pick(['=', '!=', '<', '<=', '>', '>=', ':'])} ${r.int(6)}`,
    () => `nciss_score ${r.pick(['<', '>='])} ${r.int(90)}`,
    () => `label ${r.pick(['=', '!=', '<', '>='])} "${r.pick(TLP_LEVELS)}"`,
    () => `status ${r.pick(['=', '!='])} ${r.pick(INCIDENT_STATUSES)}`,
    () => `rsit_class ${r.pick(['=', '!='])} ${r.pick(CLASSES)[0]}`,
    () =>
      `${r.pick(['opened_at', 'updated_at', 'aware_at'])} ${r.pick(['<', '<=', '>', '>=', '=', '!='])} ${at()}`,
    () => `title:"${r.pick(['ransom', 'WIPER', 'x.y', 'note', 'nothing'])}"`,
  ]);
  if (depth === 0 || r.next() < 0.3) return restriction();
  const a = generatedFilter(r, depth - 1);
  const b = generatedFilter(r, depth - 1);
  return r.pick([() => `${a} AND ${b}`, () => `(${a}) OR (${b})`, () => `NOT (${a})`, () => `${a} (${b})`])();
}

/** The order's keys with `_id` last in the last key's direction, as the store pages. */
function sorted(list: readonly Incident[], order: IncidentOrder): Incident[] {
  const value = (i: Incident, field: IncidentOrder[number]['field']) => {
    const v = orderValue(i, field);
    return v instanceof Date ? v.getTime() : v;
  };
  const last = order.at(-1)!.descending ? -1 : 1;
  return [...list].sort((x, y) => {
    for (const { field, descending } of order) {
      const d = value(x, field) - value(y, field);
      if (d !== 0) return descending ? -d : d;
    }
    return x.id < y.id ? -last : x.id > y.id ? last : 0;
  });
}

/** A store over `db` that writes no events, its index started; the clock at `now` if given. */
async function emptyStore(db: Db, now?: Date): Promise<MongoIncidentStore> {
  const store = new MongoIncidentStore(
    db,
    () => {
      throw new Error('no events here');
    },
    now ? { now: () => now } : {},
  );
  await store.init();
  return store;
}

async function seeded(db: Db, all: readonly Incident[]): Promise<MongoIncidentStore> {
  const store = await emptyStore(db);
  await store.collection.insertMany(all.map((i) => ({ _id: i.id, ...incidentFields(i), outbox: {} })));
  return store;
}

const coordinator: Principal = {
  subject: 'cc',
  roles: ['coordinator'],
  agencyId: undefined,
  clearance: 'RED',
};
const agency: Principal = {
  subject: 'fr',
  roles: ['agency_analyst'],
  agencyId: 'cert-fr',
  clearance: 'AMBER',
};

async function everyPage(
  store: MongoIncidentStore,
  caller: Principal,
  options: { filter?: string; order?: string; pageSize: number },
): Promise<string[]> {
  const filter = parseIncidentFilter(options.filter ?? '');
  const order = parseIncidentOrder(options.order ?? '');
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.list(readScope(caller), {
      limit: options.pageSize,
      ...(cursor ? { cursor } : {}),
      ...(filter ? { filter } : {}),
      order,
    });
    ids.push(...page.incidents.map((i) => i.id));
    if (!page.next) return ids;
    cursor = page.next;
  }
  throw new Error('the pages never ended');
}

describe('listing incidents with a filter and an order', () => {
  test('selects exactly what the filter means, hand-picked and generated', async ({ db }) => {
    const all = incidents(40);
    const store = await seeded(db, all);
    const r = random(160);
    const filters = [...HAND_PICKED, ...Array.from({ length: 120 }, () => generatedFilter(r, 3))];
    let nonTrivial = 0;
    for (const text of filters) {
      const filter = parseIncidentFilter(text);
      const expected = sorted(
        all.filter((i) => matchesIncidentFilter(i, filter)),
        parseIncidentOrder(''),
      ).map((i) => i.id);
      if (expected.length > 0 && expected.length < all.length) nonTrivial += 1;
      const page = await store.list(readScope(coordinator), { limit: 100, ...(filter ? { filter } : {}) });
      expect(
        page.incidents.map((i) => i.id),
        text,
      ).toEqual(expected);
    }
    // The generated filters are not all empty or all-matching, or the comparison proves little.
    expect(nonTrivial).toBeGreaterThan(filters.length / 2);
  });

  test('pages through every order without repeating or skipping, ties broken by id', async ({ db }) => {
    const all = incidents(40);
    const store = await seeded(db, all);
    const orders = [
      '',
      'opened_at',
      'nciss_level desc, opened_at',
      'label, nciss_score desc',
      'updated_at desc',
      'aware_at, nciss_level desc, label',
    ];
    for (const order of orders) {
      for (const pageSize of [2, 7]) {
        const filter = 'NOT status = closed';
        const expected = sorted(
          all.filter((i) => i.status !== 'closed'),
          parseIncidentOrder(order),
        ).map((i) => i.id);
        expect(
          await everyPage(store, coordinator, { filter, order, pageSize }),
          `${order} / ${pageSize}`,
        ).toEqual(expected);
      }
    }
  });

  test('never widens the read scope, whatever the filter', async ({ db }) => {
    const all = incidents(40);
    const store = await seeded(db, all);
    const scope = readScope(agency);
    const visible = all.filter((i) => inScope(scope, recipientsOf(i)));
    // The agency reads some but not all, or the test proves nothing.
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.length).toBeLessThan(all.length);
    const r = random(7);
    const filters = [
      '',
      'label = RED OR NOT label = RED',
      'label >= AMBER',
      'jurisdictions:* OR NOT jurisdictions:*',
      ...Array.from({ length: 30 }, () => generatedFilter(r, 2)),
    ];
    for (const text of filters) {
      const filter = parseIncidentFilter(text);
      const expected = sorted(
        visible.filter((i) => matchesIncidentFilter(i, filter)),
        parseIncidentOrder('nciss_level desc'),
      ).map((i) => i.id);
      expect(
        await everyPage(store, agency, { filter: text, order: 'nciss_level desc', pageSize: 4 }),
        text,
      ).toEqual(expected);
    }
    // The centre, cleared for everything, is served everything by the widest of those filters.
    expect(
      (await everyPage(store, coordinator, { filter: 'label = RED OR NOT label = RED', pageSize: 50 }))
        .length,
    ).toBe(all.length);
  });

  test('a page token answers only the question it was issued for', async ({ db }) => {
    const store = await seeded(db, incidents(12));
    const scope = readScope(coordinator);
    const filter = parseIncidentFilter('nciss_level >= 1')!;
    const order = parseIncidentOrder('nciss_level desc');
    const first = await store.list(scope, { limit: 2, filter, order });
    expect(first.next).toBeDefined();
    // The same question continues.
    await expect(store.list(scope, { limit: 5, filter, order, cursor: first.next! })).resolves.toBeDefined();
    // Another filter, order or status is refused, as is a token that is not one.
    const other = parseIncidentFilter('nciss_level >= 2')!;
    for (const options of [
      { filter: other, order },
      { filter, order: parseIncidentOrder('nciss_level') },
      { filter, order, status: 'active' as const },
      { order },
    ]) {
      await expect(store.list(scope, { limit: 2, ...options, cursor: first.next! })).rejects.toThrow(
        'the page token was issued for another filter, order_by or status',
      );
    }
    await expect(store.list(scope, { limit: 2, cursor: 'bm90IGEgdG9rZW4' })).rejects.toBeInstanceOf(
      BadCursorError,
    );
    // A token from before filters existed still continues the newest-first list it came from.
    const newest = await store.list(scope, { limit: 3 });
    const last = newest.incidents.at(-1)!;
    const legacy = Buffer.from(
      JSON.stringify({ openedAt: last.openedAt.toISOString(), id: last.id }),
    ).toString('base64url');
    const continued = await store.list(scope, { limit: 3, cursor: legacy });
    const both = await store.list(scope, { limit: 6 });
    expect([...newest.incidents, ...continued.incidents].map((i) => i.id)).toEqual(
      both.incidents.map((i) => i.id),
    );
  });
  test('openings entered at once share the index’s writes, and the first page lists each', async ({ db }) => {
    const all = incidents(40);
    const store = await emptyStore(db, new Date(BASE + 9 * HOUR));
    const updates = vi.spyOn(Collection.prototype, 'updateOne');
    try {
      await Promise.all(all.map((incident) => store.insert({ incident, events: [] })));
      const secondWrites = updates.mock.calls.filter(
        ([filter], i) =>
          (updates.mock.contexts[i] as Collection).collectionName === 'incidents_newest' &&
          String((filter as { _id?: unknown })._id).startsWith('s:'),
      );
      // The first opening goes alone; the rest wait for it and go together, one write per second.
      const seconds = new Set(all.map((i) => i.openedAt.getTime())).size;
      expect(secondWrites.length).toBeGreaterThan(0);
      expect(secondWrites.length).toBeLessThanOrEqual(1 + seconds);
    } finally {
      updates.mockRestore();
    }
    const visible = sorted(all, parseIncidentOrder('')).map((i) => i.id);
    const page = await store.list(readScope(coordinator), { limit: 40, order: parseIncidentOrder('') });
    expect(page.incidents.map((i) => i.id)).toEqual(visible);
  });
  test('the default first page comes from the openings by hour, as the query would answer it', async ({
    db,
  }) => {
    const all = incidents(40);
    const store = await emptyStore(db, new Date(BASE + 9 * HOUR));
    // Half opened through the store, half stored by hand before a restart enters them.
    for (const incident of all.slice(0, 20)) await store.insert({ incident, events: [] });
    await store.collection.insertMany(
      all.slice(20).map((i) => ({ _id: i.id, ...incidentFields(i), outbox: {} })),
    );
    await store.init();
    const queries = vi.spyOn(store.collection, 'find');
    for (const caller of [coordinator, agency]) {
      const visible = sorted(
        all.filter((i) => inScope(readScope(caller), recipientsOf(i))),
        parseIncidentOrder(''),
      ).map((i) => i.id);
      const first = await store.list(readScope(caller), { limit: 4, order: parseIncidentOrder('') });
      expect(first.incidents.map((i) => i.id)).toEqual(visible.slice(0, 4));
      // Only lookups by `_id`: no query over the collection.
      expect(queries.mock.calls.filter(([filter]) => filter && !('_id' in filter))).toEqual([]);
      // The page token continues with the query, exactly where the first page ended.
      expect(await everyPage(store, caller, { pageSize: 4 })).toEqual(visible);
      queries.mockClear();
    }
  });
});
