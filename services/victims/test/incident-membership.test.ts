import { describe, expect } from 'vitest';
import { parseJurisdiction, type Jurisdiction } from '@beacon/domain';
import { test } from '@beacon/testkit';
import { MongoCaseStore } from '../src/adapters/mongo/case-store.js';
import { BUCKET } from '../src/adapters/mongo/incident-membership.js';
import { assessNeeds } from '../src/domain/needs.js';
import { closeCase, openCase, type CaseState } from '../src/domain/victim-case.js';
import type { StoredCase } from '../src/app/ports.js';

const t0 = new Date('2026-03-10T12:00:00Z');
const caseId = (n: number) => `vc_${n.toString(16).padStart(32, '0')}`;

function opened(n: number, incidentIds: string[], org = 'vs-bayern', urgent = false): CaseState {
  return openCase(
    {
      id: caseId(n),
      ownerOrgId: org,
      incidentIds,
      reportIds: [],
      jurisdiction: parseJurisdiction('DE-BY') as Jurisdiction,
      language: 'de',
      victimKind: 'person',
      // Any risk flag makes a case urgent.
      assessment: assessNeeds([], urgent ? ['threat-to-life'] : [], t0),
      consents: [],
    },
    t0,
  ).state;
}

const stored = (state: CaseState): StoredCase => ({
  state,
  sealed: {},
  dataKey: undefined,
  emailHash: undefined,
  phoneHash: undefined,
  requestHash: undefined,
});

/** Every page of a listing, as ids. */
async function everyPage(
  store: MongoCaseStore,
  scope: Parameters<MongoCaseStore['list']>[0],
  filter: Parameters<MongoCaseStore['list']>[1],
  pageSize: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  do {
    const page = await store.list(scope, filter, after, pageSize);
    pages.push(page.items.map((c) => c.id));
    after = page.next;
  } while (after);
  return pages;
}

describe("an incident's cases by membership", () => {
  test('lists exactly what the scan of the cases lists, page by page and under every filter', async ({
    db,
  }) => {
    const store = new MongoCaseStore(db, () => crypto.randomUUID());
    await store.init();
    await store.membershipReady();
    // Another store on the same data, never initialised: it lists by filtering the collection.
    const scanning = new MongoCaseStore(db, () => crypto.randomUUID());
    const states = Array.from({ length: 23 }, (_, n) =>
      opened(
        n,
        n % 3 === 0 ? ['inc_a', 'inc_b'] : n % 3 === 1 ? ['inc_a'] : ['inc_b'],
        n % 2 ? 'vs-a' : 'vs-b',
        n % 4 === 0,
      ),
    );
    await store.insert(states.map((s) => ({ stored: stored(s), events: [] })));
    for (const n of [3, 4, 9]) {
      const closed = closeCase(states[n]!, 'resolved', t0).state;
      expect(await store.update(stored(closed), 1, [])).toBe(true);
    }
    const scopes = [{ incident: 'inc_a' }, { incident: 'inc_b' }, { org: 'vs-a' }, { incident: 'inc_none' }];
    const filters = [
      { urgentOnly: false, includeClosed: false },
      { urgentOnly: true, includeClosed: false },
      { urgentOnly: false, includeClosed: true },
      { urgentOnly: false, includeClosed: false, incidentId: 'inc_a' },
    ];
    for (const scope of scopes) {
      for (const filter of filters) {
        for (const pageSize of [1, 4, 50]) {
          const expected = await everyPage(scanning, scope, filter, pageSize);
          expect(
            await everyPage(store, scope, filter, pageSize),
            JSON.stringify({ scope, filter, pageSize }),
          ).toEqual(expected);
        }
      }
    }
    // The scan of an incident's cases for statistics agrees as well.
    const seen = (s: MongoCaseStore) => {
      const ids: string[] = [];
      return s
        .scan({ kind: 'organisation', orgId: 'vs-a' }, { incidentId: 'inc_b' }, (c) => ids.push(c.id))
        .then(() => ids.sort());
    };
    expect(await seen(store)).toEqual(await seen(scanning));
    expect((await seen(store)).length).toBeGreaterThan(0);
  });

  test('a crash between the membership write and the case write loses no case and invents none', async ({
    db,
  }) => {
    const store = new MongoCaseStore(db, () => crypto.randomUUID());
    await store.init();
    await store.membershipReady();
    const listed = async () =>
      (
        await store.list({ incident: 'inc_a' }, { urgentOnly: false, includeClosed: true }, undefined, 100)
      ).items.map((c) => c.id);
    // The membership write happened, then the process died before the case was written.
    await store.membership.add([{ id: caseId(1), incidentIds: ['inc_a'] }]);
    expect(await listed()).toEqual([]);
    // The caller retries: the case is written (its membership once more) and listed once.
    await store.insert([{ stored: stored(opened(1, ['inc_a'])), events: [] }]);
    expect(await listed()).toEqual([caseId(1)]);

    // The membership write fails: the case is not written either, so nothing is left unlisted.
    const add = store.membership.add.bind(store.membership);
    store.membership.add = () => Promise.reject(new Error('store unreachable'));
    await expect(store.insert([{ stored: stored(opened(2, ['inc_a'])), events: [] }])).rejects.toThrow(
      'store unreachable',
    );
    store.membership.add = add;
    expect(await store.get(caseId(2))).toBeUndefined();
    expect(await listed()).toEqual([caseId(1)]);
  });

  test('cases written before membership was kept are entered at the first start', async ({ db }) => {
    const old = new MongoCaseStore(db, () => crypto.randomUUID());
    // Written as an earlier release wrote them: no membership at all.
    await old.insert([{ stored: stored(opened(7, ['inc_a'])), events: [] }]);
    await db.collection('case_incidents').deleteMany({});
    const store = new MongoCaseStore(db, () => crypto.randomUUID());
    await store.init();
    await store.membershipReady();
    const page = await store.list(
      { incident: 'inc_a' },
      { urgentOnly: false, includeClosed: false },
      undefined,
      10,
    );
    expect(page.items.map((c) => c.id)).toEqual([caseId(7)]);
    // A second start does not enter them again.
    const again = new MongoCaseStore(db, () => crypto.randomUUID());
    await again.init();
    await again.membershipReady();
    await store.membershipReady();
    expect(await store.membership.caseIds('inc_a')).toEqual([caseId(7)]);
  });

  test('a large incident spreads over buckets and is read whole, each id once', async ({ db }) => {
    const store = new MongoCaseStore(db, () => crypto.randomUUID());
    const ids = Array.from({ length: BUCKET * 2 + 7 }, (_, n) => caseId(n));
    // Written in several batches, and one id twice (a retried insert).
    await store.membership.add(ids.slice(0, 300).map((id) => ({ id, incidentIds: ['inc_big'] })));
    await store.membership.add(ids.slice(300).map((id) => ({ id, incidentIds: ['inc_big'] })));
    await store.membership.add([{ id: ids[5]!, incidentIds: ['inc_big'] }]);
    expect(await db.collection('case_incidents').countDocuments({ caseIds: { $exists: true } })).toBe(3);
    expect(await store.membership.caseIds('inc_big')).toEqual(ids);
  });
});
