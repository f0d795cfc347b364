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
    const snapshot = new AgencySnapshot(
      {
        all: async () => {
          loads++;
          if (fail) throw new Error('store away');
          if (loads === 2) await new Promise<void>((resolve) => (release = resolve));
          return list;
        },
      },
      1_000,
      () => now,
    );
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['a']);
    list = [agency('a'), agency('b')];
    now = 2_000;
    // expired: the reload runs behind the read, which gets the copy it has
    expect((await snapshot.all()).map((e) => e.agency.id)).toEqual(['a']);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await snapshot.get('b')).toBeDefined();

    fail = true;
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
});
