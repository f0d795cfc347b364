import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE } from './nciss.js';
import {
  changedNcissInputs,
  givenNcissInputs,
  partialNcissInputs,
  raiseNcissInputs,
  withNcissInputs,
} from './nciss-proposals.js';

describe('proposed severity inputs', () => {
  it('reads only the inputs given, and names the categories that are not on their scale', () => {
    expect(
      partialNcissInputs({
        functionalImpact: 'denial-critical',
        location: '',
        actor: 'martians',
        potentialImpact: 'very-high',
        somethingElse: 'high',
      }),
    ).toEqual({
      inputs: { functionalImpact: 'denial-critical', potentialImpact: 'very-high' },
      invalid: ['actor'],
    });
    expect(partialNcissInputs({})).toEqual({ inputs: {}, invalid: [] });
  });

  it('lists what was given in NCISS order', () => {
    expect(givenNcissInputs({ potentialImpact: 'low', functionalImpact: 'none', actor: undefined })).toEqual([
      'functionalImpact',
      'potentialImpact',
    ]);
  });

  it('opens from the baseline with what the reporter gave, lower categories included', () => {
    expect(withNcissInputs(NCISS_BASELINE, { actor: 'none', location: 'critical-systems' })).toEqual({
      ...NCISS_BASELINE,
      actor: 'none',
      location: 'critical-systems',
    });
  });

  it('raises each input to the more severe category and never lowers one', () => {
    const current = {
      ...NCISS_BASELINE,
      functionalImpact: 'significant-critical',
      actor: 'nation-state',
    } as const;
    const { inputs, raised } = raiseNcissInputs(current, {
      functionalImpact: 'denial-critical',
      actor: 'opportunistic',
      potentialImpact: 'none',
      recoverability: 'extended',
    });
    expect(inputs).toEqual({
      ...current,
      functionalImpact: 'denial-critical',
      recoverability: 'extended',
    });
    expect(raised).toEqual(['functionalImpact', 'recoverability']);
    expect(raiseNcissInputs(current, {})).toEqual({ inputs: current, raised: [] });
  });

  it('names the inputs that differ', () => {
    expect(
      changedNcissInputs(NCISS_BASELINE, { ...NCISS_BASELINE, potentialImpact: 'high', actor: 'insider' }),
    ).toEqual(['actor', 'potentialImpact']);
  });
});
