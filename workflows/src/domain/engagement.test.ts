import { describe, expect, it } from 'vitest';
import {
  decideEngagements,
  escalationChain,
  type AgencyProfile,
  type EngagementFacts,
} from './engagement.js';

const agency = (
  id: string,
  kind: AgencyProfile['kind'],
  overrides: Partial<AgencyProfile> = {},
): AgencyProfile => ({
  id,
  name: id,
  kind,
  jurisdictions: ['DE-BY'],
  sectors: ['energy', 'water-and-wastewater'],
  clearance: 'RED',
  contacts: [
    { role: 'duty-officer', name: 'Duty' },
    { role: 'deputy', name: 'Deputy' },
    { role: 'head', name: 'Head' },
  ],
  ...overrides,
});

const ransomware: EngagementFacts = {
  rsitClass: 'malicious-code',
  rsitType: 'infected-system',
  sectors: ['water-and-wastewater'],
  sectorsReached: [],
  jurisdictions: ['DE-BY'],
  ncissLevel: 2,
  tlp: 'AMBER',
  engagedAgencyIds: [],
};

const registry = [
  agency('cert-bayern', 'csirt'),
  agency('lka-bayern', 'law-enforcement'),
  agency('bnetza', 'regulator', { jurisdictions: ['DE'] }),
  agency('grid-operator', 'operator', { sectors: ['energy'] }),
  agency('weisser-ring', 'victim-support'),
  agency('cert-fr', 'csirt', { jurisdictions: ['FR'] }),
];

const ids = (d: { agencyId: string }[]) => d.map((e) => e.agencyId);

describe('which agencies an incident engages', () => {
  it('engages the CSIRT in remit, law enforcement for a crime and the regulator when significant', () => {
    const { engage, notCleared } = decideEngagements(ransomware, registry);
    expect(ids([...engage])).toEqual(['bnetza', 'cert-bayern', 'lka-bayern']);
    expect(engage.find((e) => e.agencyId === 'lka-bayern')!.reasons[0]).toContain('suspected crime');
    expect(notCleared).toEqual([]);
  });

  it('leaves law enforcement out of an outage, and regulators out below the threshold', () => {
    const outage = { ...ransomware, rsitClass: 'availability', rsitType: 'outage', ncissLevel: 1 };
    expect(ids([...decideEngagements(outage, registry).engage])).toEqual(['cert-bayern']);
  });

  it('warns operators of sectors the cascade reaches once the incident is high', () => {
    const high = { ...ransomware, ncissLevel: 3 };
    expect(ids([...decideEngagements(high, registry).engage])).not.toContain('grid-operator');
    const reached = { ...high, sectorsReached: ['energy'] };
    expect(ids([...decideEngagements(reached, registry).engage])).toContain('grid-operator');
  });

  it('calls victim support for fraud against the public', () => {
    const phishing = { ...ransomware, rsitClass: 'fraud', rsitType: 'phishing', ncissLevel: 1 };
    expect(ids([...decideEngagements(phishing, registry).engage])).toEqual([
      'cert-bayern',
      'lka-bayern',
      'weisser-ring',
    ]);
  });

  it('keeps whomever the coordinator engaged, and never an agency not cleared for the label', () => {
    const red = { ...ransomware, tlp: 'RED' as const, engagedAgencyIds: ['cert-fr'] };
    const withGreen = [...registry, agency('lka-green', 'law-enforcement', { clearance: 'GREEN' })];
    const { engage, notCleared } = decideEngagements(red, withGreen);
    expect(ids([...engage])).toContain('cert-fr');
    expect(notCleared).toEqual([
      {
        agencyId: 'lka-green',
        reasons: [
          expect.stringContaining('suspected crime'),
          'not cleared for TLP:RED (clearance TLP:GREEN)',
        ],
      },
    ]);
  });

  it('reads DE as covering DE-BY, but not the other way round', () => {
    const national = { ...ransomware, jurisdictions: ['DE'] };
    expect(ids([...decideEngagements(national, registry).engage])).toEqual(['bnetza']);
  });
});

describe('escalation chains', () => {
  const spoc = agency('bsi', 'csirt', {
    jurisdictions: ['DE'],
    contacts: [
      { role: 'duty-officer', name: 'BSI duty' },
      { role: 'national-spoc', name: 'BSI SPOC' },
    ],
  });

  it('walks the agency’s contacts in order, then its country’s national SPOC', () => {
    expect(escalationChain(registry[1]!, [...registry, spoc])).toEqual([
      { agencyId: 'lka-bayern', contactRank: 0, role: 'duty-officer' },
      { agencyId: 'lka-bayern', contactRank: 1, role: 'deputy' },
      { agencyId: 'lka-bayern', contactRank: 2, role: 'head' },
      { agencyId: 'bsi', contactRank: 1, role: 'national-spoc', onBehalfOf: 'lka-bayern' },
    ]);
  });

  it('ends at the agency’s own SPOC when it has one, and at its last contact when no SPOC exists', () => {
    expect(escalationChain(spoc, [...registry, spoc]).map((s) => s.agencyId)).toEqual(['bsi', 'bsi']);
    expect(escalationChain(registry[0]!, registry)).toHaveLength(3);
  });
});
