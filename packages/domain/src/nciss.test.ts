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
