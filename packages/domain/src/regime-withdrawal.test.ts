import { describe, expect, it } from 'vitest';
import { whyRegimeNoLongerApplies } from './regime-withdrawal.js';

const germanEnergy = { jurisdictions: ['DE-BY'], sectors: ['energy'], ncissLevel: 3 };

describe('why a regime no longer applies', () => {
  it('says nothing while the regime still applies', () => {
    expect(whyRegimeNoLongerApplies('NIS2', germanEnergy)).toBeUndefined();
    expect(whyRegimeNoLongerApplies('CER', germanEnergy)).toBeUndefined();
  });

  it('names the severity a re-score took below the threshold', () => {
    expect(whyRegimeNoLongerApplies('NIS2', { ...germanEnergy, ncissLevel: 1 })).toBe(
      'not significant: NCISS level 1 < 2',
    );
    expect(whyRegimeNoLongerApplies('CER', { ...germanEnergy, ncissLevel: 2 })).toBe(
      'no significant disruption: NCISS level 2 < 3 and functional impact unknown',
    );
  });

  it('names a territory or sector the incident no longer touches, by place when places are known', () => {
    expect(whyRegimeNoLongerApplies('NIS2', { ...germanEnergy, jurisdictions: ['UA'] })).toBe(
      'it touches no NIS2 sector in an EU member state',
    );
    // Energy reached in Ukraine only, chemicals in Germany: CER's sectors are nowhere in the EU.
    const places = [
      { sector: 'chemical', jurisdiction: 'DE' },
      { sector: 'energy', jurisdiction: 'UA-30' },
    ];
    expect(whyRegimeNoLongerApplies('CER', { ...germanEnergy, places })).toBe(
      'it touches no CER sector in an EU member state',
    );
    expect(whyRegimeNoLongerApplies('NIS2', { ...germanEnergy, places })).toBeUndefined();
  });

  it('keeps CIRCIA for a ransom payment whatever the level, and names both conditions when neither holds', () => {
    const us = { jurisdictions: ['US-TX'], sectors: ['energy'], ncissLevel: 1 };
    expect(whyRegimeNoLongerApplies('CIRCIA', { ...us, ransomPaidAtMs: 1 })).toBeUndefined();
    expect(whyRegimeNoLongerApplies('CIRCIA', { ...us, jurisdictions: ['CA'] })).toBe(
      'it touches no critical-infrastructure sector in the United States; not covered: NCISS level 1 < 3 and no ransom was paid',
    );
  });
});
