import { describe, expect, it } from 'vitest';
import { RecentLookups } from './feed-access-check.js';

describe('RecentLookups', () => {
  it('reuses a lookup for a second, then reads again; shared by every caller', async () => {
    let now = 0;
    const loads: string[] = [];
    const recent = new RecentLookups(
      async (key) => {
        loads.push(key);
        return `${key}@${now}`;
      },
      { maxAgeMs: 1_000, now: () => now },
    );
    // Two feed streams asking about the same incident within the second: one read.
    expect(await Promise.all([recent.get('inc-1'), recent.get('inc-1')])).toEqual(['inc-1@0', 'inc-1@0']);
    now = 999;
    expect(await recent.get('inc-1')).toBe('inc-1@0');
    now = 1_000;
    expect(await recent.get('inc-1')).toBe('inc-1@1000');
    expect(loads).toEqual(['inc-1', 'inc-1']);
  });

  it('does not keep a failed lookup', async () => {
    let fail = true;
    const recent = new RecentLookups(async (key) => {
      if (fail) throw new Error('store down');
      return key;
    });
    await expect(recent.get('inc-1')).rejects.toThrow('store down');
    fail = false;
    expect(await recent.get('inc-1')).toBe('inc-1');
  });

  it('forgets the oldest key beyond 1,000', async () => {
    const loads: string[] = [];
    const recent = new RecentLookups(async (key) => {
      loads.push(key);
      return key;
    });
    for (let i = 0; i <= 1_000; i++) await recent.get(`inc-${i}`);
    await recent.get('inc-1000');
    await recent.get('inc-0');
    expect(loads.filter((k) => k === 'inc-1000')).toHaveLength(1);
    expect(loads.filter((k) => k === 'inc-0')).toHaveLength(2);
  });
});
