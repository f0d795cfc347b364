import { describe, expect, it } from 'vitest';
import { countryOf, isWithin, parseJurisdiction, type Jurisdiction } from './jurisdiction.js';
import { classification, isCriminal, isSector, RSIT, RSIT_CLASSES, SECTORS } from './taxonomy.js';

describe('RSIT', () => {
  it('has the eleven classes of the reference taxonomy', () => {
    expect(RSIT_CLASSES).toHaveLength(11);
    expect(Object.values(RSIT).flat()).toHaveLength(39);
  });

  it('accepts a type only under its own class', () => {
    expect(classification('fraud', 'phishing')).toEqual({ rsitClass: 'fraud', rsitType: 'phishing' });
    expect(classification('availability', 'phishing')).toBeUndefined();
    expect(classification('toString', 'phishing')).toBeUndefined();
    expect(classification('constructor', 'x')).toBeUndefined();
  });

  it('marks crimes for law enforcement and leaves plain vulnerabilities out', () => {
    expect(isCriminal({ rsitClass: 'malicious-code', rsitType: 'infected-system' })).toBe(true);
    expect(isCriminal({ rsitClass: 'availability', rsitType: 'ddos' })).toBe(true);
    expect(isCriminal({ rsitClass: 'availability', rsitType: 'outage' })).toBe(false);
    expect(isCriminal({ rsitClass: 'vulnerable', rsitType: 'weak-crypto' })).toBe(false);
  });
});

describe('CISA sectors', () => {
  it('lists the sixteen sectors', () => {
    expect(SECTORS).toHaveLength(16);
    expect(isSector('water-and-wastewater')).toBe(true);
    expect(isSector('hasOwnProperty')).toBe(false);
  });
});

describe('jurisdictions', () => {
  it('accepts ISO 3166-1 countries and ISO 3166-2-shaped subdivisions, canonically upper case', () => {
    expect(parseJurisdiction('de')).toBe('DE');
    expect(parseJurisdiction(' us-ca ')).toBe('US-CA');
    expect(parseJurisdiction('GB-ENG')).toBe('GB-ENG');
  });

  it.each(['XX', 'UK', 'EU', 'D', 'DEU', 'DE-', 'DE-BAYERN', 'XX-01'])('rejects %s', (code) => {
    expect(parseJurisdiction(code)).toBeUndefined();
  });

  it('knows a subdivision lies within its country', () => {
    const de = parseJurisdiction('DE')!;
    const by = parseJurisdiction('DE-BY')!;
    expect(countryOf(by)).toBe('DE');
    expect(isWithin(by, de)).toBe(true);
    expect(isWithin(de, by)).toBe(false);
    expect(isWithin(by, 'FR' as Jurisdiction)).toBe(false);
  });
});
