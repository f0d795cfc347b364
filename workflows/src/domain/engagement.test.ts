import { describe, expect, it } from 'vitest';
import { incidentTouches, namedPlaces } from '@beacon/domain';
import {
  decideEngagements,
  engagementTouches,
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
  touches: namedPlaces(['water-and-wastewater'], ['DE-BY']),
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
    const reached = {
      ...high,
      touches: incidentTouches({ sectors: ['water-and-wastewater'], jurisdictions: ['DE-BY'] }, [
        { sector: 'energy', jurisdiction: 'DE-BY' },
      ]),
    };
    const grid = decideEngagements(reached, registry).engage.find((e) => e.agencyId === 'grid-operator');
    expect(grid?.reasons).toEqual(['operator in energy in DE-BY (reached by the cascade), NCISS level 3']);
  });

  it('engages by the places a cross-border cascade reaches, never by sector times jurisdiction', () => {
    // A satellite network's wiper: communications named in UA and DE; the cascade takes out
    // energy in DE only. Ukrainian energy operators are not engaged; the German one is.
    const wiper: EngagementFacts = {
      rsitClass: 'availability',
      rsitType: 'sabotage',
      touches: incidentTouches({ sectors: ['communications'], jurisdictions: ['UA', 'DE'] }, [
        { sector: 'communications', jurisdiction: 'UA' },
        { sector: 'energy', jurisdiction: 'DE-NI' },
      ]),
      ncissLevel: 3,
      tlp: 'AMBER',
      engagedAgencyIds: [],
    };
    const cross = [
      agency('ua-energy-1', 'operator', { jurisdictions: ['UA'], sectors: ['energy'] }),
      agency('ua-energy-2', 'operator', { jurisdictions: ['UA-30'], sectors: ['energy'] }),
      agency('de-wind', 'operator', { jurisdictions: ['DE-NI'], sectors: ['energy'] }),
      agency('ua-telecom', 'operator', { jurisdictions: ['UA'], sectors: ['communications'] }),
      agency('bnetza', 'regulator', { jurisdictions: ['DE'], sectors: ['energy', 'communications'] }),
      agency('cert-ua', 'csirt', { jurisdictions: ['UA'] }),
      agency('cert-nl', 'csirt', { jurisdictions: ['NL'] }),
    ];
    const { engage } = decideEngagements(wiper, cross);
    expect(ids([...engage])).toEqual(['bnetza', 'cert-ua', 'de-wind', 'ua-telecom']);
    expect(engage.find((e) => e.agencyId === 'bnetza')!.reasons).toEqual([
      'regulator for communications in DE; energy in DE-NI (reached by the cascade), NCISS level 3',
    ]);
    // The same facts as the old cross-product would have read them engage the UA operators.
    const crossProduct = {
      ...wiper,
      touches: namedPlaces(['communications', 'energy'], ['UA', 'DE']),
    };
    expect(ids([...decideEngagements(crossProduct, cross).engage])).toContain('ua-energy-1');
  });

  it('matches an assessment an older worker recorded (no places) as that worker did', () => {
    const incident = { sectors: ['communications'], jurisdictions: ['UA'] };
    expect(engagementTouches(incident, { sectorsReached: ['energy'] })).toEqual(
      namedPlaces(['communications', 'energy'], ['UA']),
    );
    expect(
      engagementTouches(incident, {
        sectorsReached: ['energy'],
        placesReached: [{ sector: 'energy', jurisdiction: 'DE' }],
      }),
    ).toEqual([
      { sector: 'communications', jurisdiction: 'UA', how: 'named' },
      { sector: 'energy', jurisdiction: 'DE', how: 'reached' },
    ]);
    expect(engagementTouches(incident, undefined)).toEqual(namedPlaces(['communications'], ['UA']));
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
    const national = { ...ransomware, touches: namedPlaces(['water-and-wastewater'], ['DE']) };
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
