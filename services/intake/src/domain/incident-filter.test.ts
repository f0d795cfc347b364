import { describe, expect, it } from 'vitest';
import { FilterError, NCISS_BASELINE, type Jurisdiction, type Sector } from '@beacon/domain';
import type { Incident } from './incident.js';
import {
  DEFAULT_INCIDENT_ORDER,
  matchesIncidentFilter,
  orderValue,
  parseIncidentFilter,
  parseIncidentOrder,
} from './incident-filter.js';

const at = (iso: string) => new Date(iso);

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    title: 'Pipeline RANSOMWARE outage',
    status: 'active',
    tlp: 'AMBER',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: ['energy'] as Sector[],
    jurisdictions: ['DE-BY', 'FR'] as Jurisdiction[],
    severityInputs: NCISS_BASELINE,
    severity: { score: 57, level: 3, levelName: 'high' },
    severityOrigins: {},
    severityProposals: [],
    reportIds: [],
    engagedAgencyIds: [],
    sourceAgencyId: undefined,
    reporterAgencyIds: [],
    observables: [],
    affectedAssets: [],
    awareAt: at('2026-01-10T06:00:00Z'),
    openedAt: at('2026-01-10T08:00:00Z'),
    updatedAt: at('2026-01-12T08:00:00Z'),
    version: 3,
    ...overrides,
  };
}

const matches = (filter: string, overrides: Partial<Incident> = {}) =>
  matchesIncidentFilter(incident(overrides), parseIncidentFilter(filter));

function failure(filter: string): string {
  try {
    parseIncidentFilter(filter);
  } catch (error) {
    if (error instanceof FilterError) return error.message;
    throw error;
  }
  throw new Error(`"${filter}" parsed`);
}

describe('the incident filter', () => {
  it('matches the issue’s example and refuses its near misses', () => {
    const example = 'sectors:"energy" AND jurisdictions:"DE" AND nciss_level >= 3';
    expect(matches(example)).toBe(true);
    expect(matches(example, { severity: { score: 45, level: 2, levelName: 'medium' } })).toBe(false);
    expect(matches(example, { jurisdictions: ['FR'] as Jurisdiction[] })).toBe(false);
    expect(matches(example, { sectors: ['communications'] as Sector[] })).toBe(false);
  });

  it('lets a country hold its subdivisions, and a subdivision only itself', () => {
    expect(matches('jurisdictions:"DE"')).toBe(true);
    expect(matches('jurisdictions:"de"')).toBe(true);
    expect(matches('jurisdictions:"DE-BY"')).toBe(true);
    expect(matches('jurisdictions:"DE-BY"', { jurisdictions: ['DE'] as Jurisdiction[] })).toBe(false);
    expect(matches('jurisdictions:"DE-BE"')).toBe(false);
    expect(matches('jurisdictions:"DK"')).toBe(false);
    expect(matches('jurisdictions:*')).toBe(true);
    expect(matches('jurisdictions:*', { jurisdictions: [] })).toBe(false);
  });

  it('reads status and label in their usual spellings; labels compare along TLP’s order', () => {
    for (const text of ['active', 'ACTIVE', 'INCIDENT_STATUS_ACTIVE'])
      expect(matches(`status = ${text}`)).toBe(true);
    expect(matches('status != active')).toBe(false);
    for (const text of ['AMBER', 'amber', 'TLP:AMBER', 'TLP_AMBER'])
      expect(matches(`label = "${text}"`)).toBe(true);
    expect(matches('tlp >= GREEN AND tlp < "AMBER+STRICT"')).toBe(true);
    expect(matches('label > AMBER')).toBe(false);
    expect(matches('label = TLP_AMBER_STRICT', { tlp: 'AMBER+STRICT' })).toBe(true);
  });

  it('compares NCISS levels by number or name, and scores', () => {
    expect(matches('nciss_level = 3 AND severity.level = high')).toBe(true);
    expect(matches('nciss_level < 3')).toBe(false);
    expect(matches('nciss_level >= severe')).toBe(false);
    expect(matches('nciss_score > 56 AND nciss_score <= 57')).toBe(true);
  });

  it('reads RSIT classes and types', () => {
    expect(matches('rsit_class = malicious-code')).toBe(true);
    expect(matches('classification.rsit_type = infected-system')).toBe(true);
    expect(matches('rsit_class != malicious-code')).toBe(false);
  });

  it('bounds opened, updated and awareness times at both ends', () => {
    expect(matches('opened_at >= "2026-01-10T08:00:00Z" AND opened_at < "2026-01-11T00:00:00Z"')).toBe(true);
    expect(matches('opened_at > "2026-01-10T08:00:00Z"')).toBe(false);
    expect(matches('opened_at >= "2026-01-10T09:00:00+01:00"')).toBe(true);
    expect(matches('updated_at > "2026-01-11T00:00:00Z" AND aware_at < "2026-01-10T07:00:00Z"')).toBe(true);
  });

  it('finds title text as a substring, ignoring case', () => {
    expect(matches('title:"ransom"')).toBe(true);
    expect(matches("title:'PIPELINE ransomware'")).toBe(true);
    expect(matches('title:"wiper"')).toBe(false);
  });

  it('combines with OR, NOT and parentheses; NOT of a list means the list does not hold it', () => {
    expect(matches('sectors:"water-and-wastewater" OR jurisdictions:"FR"')).toBe(true);
    expect(matches('NOT sectors:"energy"')).toBe(false);
    expect(matches('-sectors:"energy"', { sectors: [] })).toBe(true);
    expect(matches('(status = closed OR label = RED) AND title:"ransom"')).toBe(false);
    expect(matches('NOT (status = closed OR label = RED) AND title:"ransom"')).toBe(true);
  });

  it('checks every value against its field, naming the position and the values expected', () => {
    expect(failure('sectors:"enrgy"')).toBe(
      'position 9: expected a CISA sector identifier such as "energy", found "enrgy"',
    );
    expect(failure('sectors = "energy"')).toBe(
      'position 9: expected a comparator that sectors takes (":"), found "="',
    );
    expect(failure('jurisdictions:"Bavaria"')).toContain('position 15: expected an ISO 3166 code');
    expect(failure('status = open')).toBe(
      'position 10: expected a status (reported, triage, active, contained, resolved, closed), found "open"',
    );
    expect(failure('label = PURPLE')).toContain(
      'position 9: expected a TLP label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)',
    );
    expect(failure('nciss_level >= 6')).toContain('position 16: expected an NCISS level, 0 to 5 or its name');
    expect(failure('opened_at > 2026-01-10')).toContain('position 13: expected an RFC 3339 timestamp');
    expect(failure('opened_at : "2026-01-10T00:00:00Z"')).toContain(
      'position 11: expected a comparator that opened_at takes',
    );
    expect(failure(`title:"${'x'.repeat(201)}"`)).toContain(
      'position 7: expected text of 1 to 200 characters',
    );
    expect(failure('rsit_class = ransomware')).toContain('position 14: expected an RSIT class');
    expect(failure('sector:"energy"')).toBe(
      'position 1: expected a field (one of status, label, sectors, jurisdictions, rsit_class, rsit_type, ' +
        'nciss_level, nciss_score, opened_at, updated_at, aware_at, title), found "sector"',
    );
  });
});

describe('the incident order', () => {
  it('is newest first unless asked otherwise', () => {
    expect(parseIncidentOrder('')).toEqual(DEFAULT_INCIDENT_ORDER);
    expect(DEFAULT_INCIDENT_ORDER).toEqual([{ field: 'opened_at', descending: true }]);
    expect(parseIncidentOrder('nciss_level desc, tlp')).toEqual([
      { field: 'nciss_level', descending: true },
      { field: 'label', descending: false },
    ]);
  });

  it('refuses fields it cannot order by, naming the position', () => {
    expect(() => parseIncidentOrder('opened_at, title')).toThrow(
      /^position 12: expected a field to order by/,
    );
  });

  it('sorts by each field’s value', () => {
    const i = incident();
    expect(orderValue(i, 'opened_at')).toEqual(i.openedAt);
    expect(orderValue(i, 'nciss_level')).toBe(3);
    expect(orderValue(i, 'nciss_score')).toBe(57);
    expect(orderValue(i, 'label')).toBe(2);
  });
});
