import { describe, expect, it } from 'vitest';
import {
  completedAt,
  expectedEngagements,
  jurisdictionOf,
  stormAgencies,
  stormCounts,
  stormReports,
  unexpected,
} from './pipeline-storm-plan.js';

describe('stormCounts', () => {
  it('is issue 22’s storm at scale 1', () => {
    expect(stormCounts(1)).toEqual({ incidents: 1_000, reports: 10_000, agencies: 200, victims: 50_000 });
  });

  it('shrinks every count in proportion', () => {
    expect(stormCounts(0.05)).toEqual({ incidents: 50, reports: 500, agencies: 10, victims: 2_500 });
    expect(stormCounts(0.02)).toEqual({ incidents: 20, reports: 200, agencies: 4, victims: 1_000 });
  });

  it('keeps the storm whole at the smallest scales', () => {
    expect(stormCounts(0.0001)).toEqual({ incidents: 1, reports: 1, agencies: 3, victims: 5 });
  });

  it('refuses a scale that is not positive', () => {
    expect(() => stormCounts(0)).toThrow(/scale/);
    expect(() => stormCounts(Number.NaN)).toThrow(/scale/);
  });
});

describe('stormAgencies', () => {
  it('makes groups of a CSIRT, the police, victim support and a regulator per jurisdiction', () => {
    const agencies = stormAgencies(200);
    expect(new Set(agencies.map((a) => a.id)).size).toBe(200);
    expect(agencies.slice(0, 5).map((a) => [a.id, a.kind, a.jurisdiction])).toEqual([
      ['storm-csirt-at-1', 'AGENCY_KIND_CSIRT', 'AT-1'],
      ['storm-police-at-1', 'AGENCY_KIND_LAW_ENFORCEMENT', 'AT-1'],
      ['storm-support-at-1', 'AGENCY_KIND_VICTIM_SUPPORT', 'AT-1'],
      ['storm-regulator-at-1', 'AGENCY_KIND_REGULATOR', 'AT-1'],
      ['storm-csirt-be-1', 'AGENCY_KIND_CSIRT', 'BE-1'],
    ]);
    expect(new Set(agencies.map((a) => a.jurisdiction)).size).toBe(50);
  });

  it('goes round the member states, then their next regions', () => {
    expect(jurisdictionOf(26)).toBe('SK-1');
    expect(jurisdictionOf(27)).toBe('AT-2');
  });
});

describe('expectedEngagements', () => {
  it('names the three engaging agencies of the incident’s jurisdiction, never the regulator', () => {
    const agencies = stormAgencies(200);
    expect(expectedEngagements(0, agencies)).toEqual([
      'storm-csirt-at-1',
      'storm-police-at-1',
      'storm-support-at-1',
    ]);
    // 50 groups: incident 51 is the second group's again.
    expect(expectedEngagements(51, agencies)).toEqual(expectedEngagements(1, agencies));
    const counts = new Map<string, number>();
    for (let k = 0; k < 1_000; k += 1)
      for (const id of expectedEngagements(k, agencies)) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.size).toBe(150);
    expect(new Set(counts.values())).toEqual(new Set([20]));
  });

  it('names what a partial last group has', () => {
    const agencies = stormAgencies(5);
    expect(expectedEngagements(1, agencies)).toEqual(['storm-csirt-be-1']);
  });
});

describe('stormReports', () => {
  const counts = stormCounts(0.05);
  const plan = stormReports(counts, 3);

  it('opens each incident once and shares the joins among them', () => {
    expect(plan).toHaveLength(500);
    const opens = plan.filter((r) => r.kind === 'open').map((r) => r.incident);
    expect(opens).toEqual(Array.from({ length: 50 }, (_, k) => k));
    const joins = new Map<number, number>();
    for (const r of plan.filter((r) => r.kind === 'join'))
      joins.set(r.incident, (joins.get(r.incident) ?? 0) + 1);
    expect(new Set(joins.values())).toEqual(new Set([9]));
  });

  it('sends each join only after the opening reports of the next `lag` incidents', () => {
    const openedAt = new Map(plan.flatMap((r, i) => (r.kind === 'open' ? [[r.incident, i] as const] : [])));
    for (const [i, r] of plan.entries()) {
      if (r.kind !== 'join') continue;
      const laterOpen = openedAt.get(Math.min(r.incident + 3, 49))!;
      expect(i).toBeGreaterThan(laterOpen);
    }
  });

  it('spreads joins that do not divide evenly over the first incidents', () => {
    const uneven = stormReports({ incidents: 3, reports: 8, agencies: 3, victims: 1 }, 1);
    const joins = [0, 1, 2].map((k) => uneven.filter((r) => r.kind === 'join' && r.incident === k).length);
    expect(joins).toEqual([2, 2, 1]);
  });

  it('has reports sent by agencies of the incident’s jurisdiction, in turn', () => {
    const agencies = stormAgencies(counts.agencies);
    for (const r of plan) expect(agencies[r.reporter]!.group).toBe(r.incident % 3);
    const reporters = new Set(plan.filter((r) => r.incident === 0).map((r) => r.reporter));
    expect(reporters).toEqual(new Set([0, 1, 2, 3]));
  });
});

describe('completedAt', () => {
  const expected = new Map([
    ['a', ['x', 'y']],
    ['b', ['x']],
    ['c', ['y']],
  ]);
  const seen = new Map([
    [
      'a',
      new Map([
        ['x', 10],
        ['y', 30],
        ['z', 5],
      ]),
    ],
    ['b', new Map([['y', 7]])],
  ]);

  it('is when the last expected agency was seen, for incidents with all of them', () => {
    expect(completedAt(expected, seen)).toEqual(new Map([['a', 30]]));
  });

  it('counts the agencies seen beyond those expected', () => {
    expect(unexpected(expected, seen)).toBe(2);
  });
});
