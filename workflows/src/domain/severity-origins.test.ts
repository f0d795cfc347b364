import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import type { IncidentSnapshot } from '../activities/types.js';
import { cascadeText, inputMoves, inputsBySource, proposalText, triageText } from './severity-origins.js';

const opened: IncidentSnapshot = {
  id: 'inc_1',
  title: 'Substations switched off remotely',
  status: 'reported',
  tlp: 'AMBER',
  rsitClass: 'availability',
  rsitType: 'sabotage',
  sectors: ['energy'],
  jurisdictions: ['UA'],
  severityInputs: {
    ...NCISS_BASELINE,
    functionalImpact: 'denial-critical',
    location: 'critical-systems',
  },
  ncissScore: 28,
  ncissLevel: 1,
  awareAtMs: 0,
  engagedAgencyIds: [],
  affectedAssets: [],
  version: 1,
  severityOrigins: {
    functionalImpact: { source: 'reporter', agencyId: 'oblenergo-a', reportId: 'rep_1' },
    location: { source: 'reporter', agencyId: 'oblenergo-a', reportId: 'rep_1' },
  },
};

const raised: IncidentSnapshot = {
  ...opened,
  severityInputs: { ...opened.severityInputs, potentialImpact: 'very-high', crossSectorDependency: 'low' },
  ncissScore: 48,
  ncissLevel: 2,
  version: 2,
  severityOrigins: {
    ...opened.severityOrigins,
    potentialImpact: { source: 'impact' },
    crossSectorDependency: { source: 'impact' },
  },
};

describe('where the severity came from, on the timeline', () => {
  it('names each input off the baseline with who set it, grouped', () => {
    expect(triageText(raised)).toBe(
      'NCISS level 2 (score 48), TLP:AMBER; inputs from reporter oblenergo-a (report rep_1): ' +
        "functional impact denial-critical, location critical-systems; from impact's cascade: " +
        'cross-sector dependency low, potential impact very-high',
    );
    expect(inputsBySource({ ...opened, severityInputs: NCISS_BASELINE, severityOrigins: {} })).toBe('');
  });

  it('says what moved and whose it is, and admits an origin an older intake did not record', () => {
    expect(inputMoves(opened, raised)).toBe(
      "cross-sector dependency none → low (impact's cascade); potential impact none → very-high (impact's cascade)",
    );
    expect(cascadeText(opened, raised)).toBe(
      "re-scored after the cascade: NCISS level 1 → 2: cross-sector dependency none → low (impact's cascade); " +
        "potential impact none → very-high (impact's cascade)",
    );
    expect(cascadeText(raised, raised)).toBeUndefined();
    const { severityOrigins: _none, ...older } = opened;
    expect(inputsBySource(older)).toBe(
      'inputs from no recorded source: functional impact denial-critical, location critical-systems',
    );
  });

  it('words another agency’s proposal as not applied', () => {
    expect(
      proposalText({ reportId: 'rep_2', agencyId: 'oblenergo-b', inputs: { actor: 'nation-state' } }),
    ).toBe(
      "proposed by reporter oblenergo-b (report rep_2), not applied (only the source agency's reports and " +
        'coordinators revise the severity): actor nation-state',
    );
  });
});
