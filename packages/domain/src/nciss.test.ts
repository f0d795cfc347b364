import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inputValue,
  invalidNcissInputs,
  NCISS_BASELINE,
  NCISS_INPUTS,
  NCISS_WEIGHTS,
  scoreSeverity,
  type NcissInput,
  type NcissInputs,
} from './nciss.js';

const INPUTS = Object.keys(NCISS_INPUTS) as NcissInput[];
const arbitraryInputs = fc.record(
  Object.fromEntries(INPUTS.map((input) => [input, fc.constantFrom(...NCISS_INPUTS[input])])) as {
    [K in NcissInput]: fc.Arbitrary<NcissInputs[K]>;
  },
);

describe('NCISS-aligned severity', () => {
  it('has weights over all eight inputs that sum to one', () => {
    expect(Object.keys(NCISS_WEIGHTS).sort()).toEqual([...INPUTS].sort());
    expect(Object.values(NCISS_WEIGHTS).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it('scores the baseline as level 0 and the worst case as 100, Emergency', () => {
    expect(scoreSeverity(NCISS_BASELINE)).toEqual({ score: 1, level: 0, levelName: 'baseline' });
    const worst = Object.fromEntries(
      INPUTS.map((i) => [i, NCISS_INPUTS[i].at(-1)]),
    ) as unknown as NcissInputs;
    expect(scoreSeverity(worst)).toEqual({ score: 100, level: 5, levelName: 'emergency' });
  });

  it('scores a ransomware outage at a water utility by hand', () => {
    // 0.18·6/7 + 0.16·3/4 + 0.14·4/7 + 0.12·2/3 + 0.12·2/3 + 0.10·5/7 + 0.10·4/4 + 0.08·5/6 = 0.7526
    const severity = scoreSeverity({
      functionalImpact: 'significant-critical',
      potentialImpact: 'high',
      informationImpact: 'destruction-non-critical',
      recoverability: 'extended',
      crossSectorDependency: 'medium',
      location: 'critical-system-management',
      observedActivity: 'effect',
      actor: 'organised-crime',
    });
    expect(severity).toEqual({ score: 75, level: 4, levelName: 'severe' });
  });

  it('never scores lower when any one input gets worse (monotone)', () => {
    fc.assert(
      fc.property(arbitraryInputs, fc.constantFrom(...INPUTS), (inputs, input) => {
        const scale: readonly string[] = NCISS_INPUTS[input];
        const next = scale[scale.indexOf(inputs[input]) + 1];
        fc.pre(next !== undefined);
        const worse = { ...inputs, [input]: next } as NcissInputs;
        expect(scoreSeverity(worse).score).toBeGreaterThanOrEqual(scoreSeverity(inputs).score);
        expect(scoreSeverity(worse).level).toBeGreaterThanOrEqual(scoreSeverity(inputs).level);
      }),
    );
  });

  it('keeps every score within 0–100 and its level consistent with the thresholds', () => {
    fc.assert(
      fc.property(arbitraryInputs, (inputs) => {
        const { score, level } = scoreSeverity(inputs);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(100);
        expect(level).toBe([20, 40, 55, 70, 85].filter((floor) => score >= floor).length);
      }),
    );
  });

  it('names unknown or missing categories and refuses to value them', () => {
    expect(invalidNcissInputs({ ...NCISS_BASELINE, actor: 'aliens', location: undefined as never })).toEqual([
      'location',
      'actor',
    ]);
    expect(() => inputValue('actor', 'aliens' as never)).toThrow(RangeError);
  });
});

/**
 * Scores worked by hand, independent of the implementation. The method is CISA's published
 * NCISS: eight categories, each answer an ordered option, combined by a weighted arithmetic mean
 * into a score from 0 to 100 that maps to a level from 0 (Baseline) to 5 (Emergency); see
 * CISA's NCISS page (https://www.cisa.gov/nciss/demo, which leads to it) and its document,
 * https://www.cisa.gov/sites/default/files/2023-01/cisa_national_cyber_incident_scoring_system_s508c.pdf.
 * CISA does not publish the weights and level bands of its own configuration (its reference
 * tool at https://www.us-cert.gov/nciss/demo calls the example configuration notional), so the
 * figures are Beacon's, as its nciss.ts header documents them:
 *
 *   weight (points of 100)  options  one step up the options is worth
 *   functional impact   18    8    18/7 = 2.571
 *   potential impact    16    5    16/4 = 4
 *   information impact  14    8    14/7 = 2
 *   recoverability      12    4    12/3 = 4
 *   cross-sector dep.   12    4    12/3 = 4
 *   location            10    8    10/7 = 1.429
 *   observed activity   10    5    10/4 = 2.5
 *   actor                8    7     8/6 = 1.333
 *
 * and the level bands: Baseline below 20, Low from 20, Medium from 40, High from 55, Severe
 * from 70, Emergency from 85; the score is rounded to a whole number, halves up, before banding.
 *
 * The first rows raise one category to its worst option: each shows that category's weight on
 * its own, so swapping any two different weights changes two rows. Then each band boundary has
 * a row on either side of it (moving any boundary by a point fails one of them), then exact
 * halves, options from the middle of their scales, and incidents like the ones Beacon was tried
 * on.
 */
describe('NCISS scores worked by hand', () => {
  /** Every category at its first option; actor "none" (not "unknown") so the sum starts at 0. */
  const NOTHING: NcissInputs = {
    functionalImpact: 'none',
    observedActivity: 'none',
    location: 'unknown',
    actor: 'none',
    informationImpact: 'none',
    recoverability: 'regular',
    crossSectorDependency: 'none',
    potentialImpact: 'none',
  };
  const LEVEL_NAMES = ['baseline', 'low', 'medium', 'high', 'severe', 'emergency'];

  const rows: readonly [what: string, inputs: Partial<NcissInputs>, score: number, level: number][] = [
    ['nothing at all', {}, 0, 0],
    // One category at its worst: its weight.
    [
      'functional impact alone: denial of critical services = 18',
      { functionalImpact: 'denial-critical' },
      18,
      0,
    ],
    ['potential impact alone: very high = 16', { potentialImpact: 'very-high' }, 16, 0],
    [
      'information impact alone: destruction of a critical system = 14',
      { informationImpact: 'destruction-critical' },
      14,
      0,
    ],
    ['recoverability alone: not recoverable = 12', { recoverability: 'not-recoverable' }, 12, 0],
    ['cross-sector dependency alone: high = 12', { crossSectorDependency: 'high' }, 12, 0],
    ['location alone: safety systems = 10', { location: 'safety-systems' }, 10, 0],
    ['observed activity alone: effect = 10', { observedActivity: 'effect' }, 10, 0],
    ['actor alone: nation state = 8', { actor: 'nation-state' }, 8, 0],
    // Either side of each band boundary.
    [
      '18 + 1.429 (business DMZ) = 19.43: still Baseline',
      { functionalImpact: 'denial-critical', location: 'business-dmz' },
      19,
      0,
    ],
    [
      '12 (not recoverable) + 8 (medium dependency) = 20: Low',
      { recoverability: 'not-recoverable', crossSectorDependency: 'medium' },
      20,
      1,
    ],
    [
      '16 + 12 + 8 + 2 (suspected) + 1.429 = 39.43: still Low',
      {
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'medium',
        informationImpact: 'suspected',
        location: 'business-dmz',
      },
      39,
      1,
    ],
    [
      '16 + 12 + 12 = 40: Medium',
      { potentialImpact: 'very-high', recoverability: 'not-recoverable', crossSectorDependency: 'high' },
      40,
      2,
    ],
    [
      '16 + 12 + 12 + 14 = 54: still Medium',
      {
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        informationImpact: 'destruction-critical',
      },
      54,
      2,
    ],
    [
      '16 + 12 + 12 + 14 + 1.429 = 55.43: High',
      {
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        informationImpact: 'destruction-critical',
        location: 'business-dmz',
      },
      55,
      3,
    ],
    [
      '18 + 16 + 12 + 12 + 10 (critical systems data breach) + 1.429 = 69.43: still High',
      {
        functionalImpact: 'denial-critical',
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        informationImpact: 'critical-systems-data-breach',
        location: 'business-dmz',
      },
      69,
      3,
    ],
    [
      '18 + 16 + 12 + 12 + 12 (core credential compromise) = 70: Severe',
      {
        functionalImpact: 'denial-critical',
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        informationImpact: 'core-credential-compromise',
      },
      70,
      4,
    ],
    [
      '18 + 16 + 14 + 12 + 12 + 5 (engage) + 6.667 (organised crime) = 83.67: still Severe',
      {
        functionalImpact: 'denial-critical',
        potentialImpact: 'very-high',
        informationImpact: 'destruction-critical',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        observedActivity: 'engage',
        actor: 'organised-crime',
      },
      84,
      4,
    ],
    [
      '18 + 16 + 14 + 12 + 12 + 10 (effect) + 2.857 (business network) = 84.86: Emergency',
      {
        functionalImpact: 'denial-critical',
        potentialImpact: 'very-high',
        informationImpact: 'destruction-critical',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        observedActivity: 'effect',
        location: 'business-network',
      },
      85,
      5,
    ],
    // Exact halves round up, whichever inputs made them.
    [
      '8 (medium dependency) + 2.5 (prepare) = 10.5',
      { crossSectorDependency: 'medium', observedActivity: 'prepare' },
      11,
      0,
    ],
    [
      '16 + 12 + 12 + 12 + 2.5 (prepare) = 54.5: High',
      {
        potentialImpact: 'very-high',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        informationImpact: 'core-credential-compromise',
        observedActivity: 'prepare',
      },
      55,
      3,
    ],
    [
      '12 (high potential) + 8 (extended) + 12 + 7.5 (presence) = 39.5: Medium',
      {
        potentialImpact: 'high',
        recoverability: 'extended',
        crossSectorDependency: 'high',
        observedActivity: 'presence',
      },
      40,
      2,
    ],
    // Options from the middle of their scales: each step counts the same.
    [
      'significant impact to non-critical services: 4/7 of 18 = 10.29',
      { functionalImpact: 'significant-non-critical' },
      10,
      0,
    ],
    ['critical system DMZ: 4/7 of 10 = 5.71', { location: 'critical-system-dmz' }, 6, 0],
    ['hacktivist: 3/6 of 8 = 4', { actor: 'hacktivist' }, 4, 0],
    ['engage: 2/4 of 10 = 5', { observedActivity: 'engage' }, 5, 0],
    ['an unknown actor and nothing else: 1/6 of 8 = 1.33', { actor: 'unknown' }, 1, 0],
    // Incidents.
    [
      'phishing that reached no service: 2.571 + 5 + 2.857 + 2.667 + 2 + 4 = 19.10',
      {
        functionalImpact: 'no-impact-to-services',
        observedActivity: 'engage',
        location: 'business-network',
        actor: 'opportunistic',
        informationImpact: 'suspected',
        potentialImpact: 'low',
      },
      19,
      0,
    ],
    [
      'pipeline ransomware: 15.429 + 10 + 2.857 + 6.667 + 6 + 8 + 12 + 16 = 76.95',
      {
        functionalImpact: 'significant-critical',
        observedActivity: 'effect',
        location: 'business-network',
        actor: 'organised-crime',
        informationImpact: 'proprietary-breach',
        recoverability: 'extended',
        crossSectorDependency: 'high',
        potentialImpact: 'very-high',
      },
      77,
      4,
    ],
    [
      'a grid attack by a state: 18 + 10 + 8.571 + 8 + 14 + 8 + 12 + 16 = 94.57',
      {
        functionalImpact: 'denial-critical',
        observedActivity: 'effect',
        location: 'critical-systems',
        actor: 'nation-state',
        informationImpact: 'destruction-critical',
        recoverability: 'extended',
        crossSectorDependency: 'high',
        potentialImpact: 'very-high',
      },
      95,
      5,
    ],
    [
      'the worst of everything: 100',
      {
        functionalImpact: 'denial-critical',
        observedActivity: 'effect',
        location: 'safety-systems',
        actor: 'nation-state',
        informationImpact: 'destruction-critical',
        recoverability: 'not-recoverable',
        crossSectorDependency: 'high',
        potentialImpact: 'very-high',
      },
      100,
      5,
    ],
  ];

  it.each(rows)('%s', (_what, inputs, score, level) => {
    expect(scoreSeverity({ ...NOTHING, ...inputs })).toEqual({
      score,
      level,
      levelName: LEVEL_NAMES[level],
    });
  });

  it('agrees with the table above on every one of the 1,433,600 combinations, exact halves rounding up', () => {
    // The weights and option counts of the table, in 84ths of a point (84 is the least common
    // multiple of 7, 4, 6 and 3, the steps' denominators), so every sum is an exact integer and
    // a score of exactly x.5 is known to be one.
    const documented: Record<NcissInput, readonly [weight: number, options: number]> = {
      functionalImpact: [18, 8],
      potentialImpact: [16, 5],
      informationImpact: [14, 8],
      recoverability: [12, 4],
      crossSectorDependency: [12, 4],
      location: [10, 8],
      observedActivity: [10, 5],
      actor: [8, 7],
    };
    const bands = [20, 40, 55, 70, 85];
    const inputs = Object.keys(documented) as NcissInput[];
    for (const input of inputs) expect(NCISS_INPUTS[input]).toHaveLength(documented[input][1]);

    let checked = 0;
    let wrong = 0;
    const examples: string[] = [];
    const chosen: Record<string, string> = {};
    const walk = (depth: number, in84ths: number) => {
      if (depth === inputs.length) {
        checked += 1;
        const score = Math.floor((in84ths + 42) / 84);
        const level = bands.filter((floor) => score >= floor).length;
        const got = scoreSeverity(chosen as NcissInputs);
        if (got.score !== score || got.level !== level) {
          wrong += 1;
          if (examples.length < 3) examples.push(`${JSON.stringify(chosen)}: ${got.score}, not ${score}`);
        }
        return;
      }
      const input = inputs[depth]!;
      const [weight, options] = documented[input];
      NCISS_INPUTS[input].forEach((option, rank) => {
        chosen[input] = option;
        walk(depth + 1, in84ths + (weight * rank * 84) / (options - 1));
      });
    };
    walk(0, 0);
    expect(checked).toBe(1_433_600);
    expect({ wrong, examples }).toEqual({ wrong: 0, examples: [] });
  });
});
