import { describe, expect, test } from 'vitest';
import type { StoredAgency } from './ports.js';
import { AgencySnapshot } from './agency-snapshot.js';

const agency = (id: string) => ({ agency: { id } as StoredAgency, subscriptions: [] });

describe('AgencySnapshot', () => {
  test('serves the stale copy while reloading, a change made here at once, and survives a failed reload', async () => {
    let now = 0;
    let loads = 0;
    let fail = false;
    let release: () => void = () => {};
    let list = [agency('a')];
    let revision = 1;
    const snapshot = new AgencySnapshot(
      {
        all: async () => {
          loads++;
          if (fail) throw new Error('store away');
          if (loads === 2) await new Promise<void>((resolve) => (release = resolve));
          return list;
        },
        revision: async () => revision,
      },
      1_000,
      () => now,
    );
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['a']);
    list = [agency('a'), agency('b')];
    revision = 2;
    now = 2_000;
    // expired: the reload runs behind the read, which gets the copy it has
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['a']);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await snapshot.get('b')).toBeDefined();

    fail = true;
    revision = 3;
    now = 4_000;
    // a failing background reload neither throws at the reader nor crashes the process
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['a', 'b']);
    await new Promise((resolve) => setImmediate(resolve));
    // a change made here waits for the fresh copy, and reports the failure
    snapshot.invalidate();
    await expect(snapshot.all()).rejects.toThrow('store away');
    fail = false;
    list = [agency('c')];
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['c']);
  });

  test('reads the registry again only when its revision moved, and in any case after twelve periods', async () => {
    let now = 0;
    let loads = 0;
    let revision = 7;
    let list = [agency('a')];
    const snapshot = new AgencySnapshot(
      {
        all: async () => {
          loads++;
          return list;
        },
        revision: async () => revision,
      },
      1_000,
      () => now,
    );
    const ids = async () => (await snapshot.all()).map((e) => e.agency.id);
    const settled = () => new Promise((resolve) => setImmediate(resolve));
    expect(await ids()).toEqual(['a']);
    expect(loads).toBe(1);

    // Periods pass with the revision unchanged: the copy is kept, at the cost of one small read.
    for (now = 1_500; now <= 6_000; now += 1_500) {
      await snapshot.all();
      await settled();
    }
    expect(loads).toBe(1);

    // Another replica's change raises the revision: seen within a period.
    list = [agency('a'), agency('b')];
    revision = 8;
    now = 7_600;
    expect(await ids()).toEqual(['a']);
    await settled();
    expect(await ids()).toEqual(['a', 'b']);
    expect(loads).toBe(2);

    // A change stored without its revision (a replica died between the two) shows at the latest
    // twelve periods after the last full read.
    list = [agency('c')];
    for (now = 8_700; now <= 7_600 + 12_000; now += 1_100) {
      await snapshot.all();
      await settled();
    }
    expect(loads).toBe(2);
    now = 7_600 + 12_001 + 1_100;
    await snapshot.all();
    await settled();
    expect(await ids()).toEqual(['c']);
    expect(loads).toBe(3);
  });
});
