import { describe, expect, it } from 'vitest';
import { copyIds, variantId } from './pipeline-seed.js';

describe('the ids of a seeded copy', () => {
  const incident = 'inc_0f3c9a7e5b2d4c1a8e6f0b9d7c5a3e1f';
  const notices = [0, 1, 2].map((k) => `incident-${incident}-agency-cert-fr/run-7f0e/${k}`);
  const family = [incident, ...notices, 'rep_5e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b'];

  it('never contain the template’s id, so a second seed of the same templates copies no copy', () => {
    for (const n of [0, 1, 9_999]) {
      const ids = copyIds(family, incident, n);
      expect([...ids.values()].filter((id) => id.includes(incident))).toEqual([]);
      expect(ids.get(incident)).toBe(variantId(incident, n));
      expect(ids.get(notices[1]!)).toBe(notices[1]!.replace(incident, variantId(incident, n)));
    }
  });

  it('differ within a copy and between copies', () => {
    const all = [0, 1, 2].flatMap((n) => [...copyIds(family, incident, n).values()]);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(family.length * 3);
  });
});
