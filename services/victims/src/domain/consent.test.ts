import { describe, expect, it } from 'vitest';
import {
  applyConsent,
  ConsentMissingError,
  hasConsent,
  requireConsent,
  type ConsentState,
} from './consent.js';
import type { ConsentPurpose, ConsentRecord } from './model.js';

const at = new Date('2026-03-10T12:00:00Z');
const record = (purpose: ConsentPurpose, granted: boolean, wordingVersion = 'v1'): ConsentRecord => ({
  purpose,
  granted,
  wordingVersion,
  recordedAt: at,
  recordedBy: 'officer-1',
});

describe('consent', () => {
  it('counts only an explicit, current grant, per purpose', () => {
    let state: ConsentState = {};
    expect(hasConsent(state, 'contact')).toBe(false);
    state = applyConsent(state, record('contact', true)).state;
    expect(hasConsent(state, 'contact')).toBe(true);
    expect(hasConsent(state, 'share-support')).toBe(false);
    expect(hasConsent(state, 'share-law-enforcement')).toBe(false);
    state = applyConsent(state, record('share-support', false)).state;
    expect(hasConsent(state, 'share-support')).toBe(false);
  });

  it('refuses what was not consented to, naming the purpose', () => {
    const state = applyConsent({}, record('contact', true)).state;
    expect(() => requireConsent(state, 'contact')).not.toThrow();
    expect(() => requireConsent(state, 'share-support')).toThrow(ConsentMissingError);
    expect(() => requireConsent(state, 'share-law-enforcement')).toThrow(
      /sharing their case with law enforcement/,
    );
  });

  it('tells a grant and a withdrawal from a re-grant under new wording, and keeps the latest record', () => {
    const granted = applyConsent({}, record('share-support', true, 'v1'));
    expect(granted).toMatchObject({ granted: true, withdrawn: false });
    const reworded = applyConsent(granted.state, record('share-support', true, 'v2'));
    expect(reworded).toMatchObject({ granted: false, withdrawn: false });
    expect(reworded.state['share-support']?.wordingVersion).toBe('v2');
    const withdrawn = applyConsent(reworded.state, record('share-support', false, 'v2'));
    expect(withdrawn).toMatchObject({ granted: false, withdrawn: true });
    expect(applyConsent(withdrawn.state, record('share-support', false))).toMatchObject({
      granted: false,
      withdrawn: false,
    });
  });
});
