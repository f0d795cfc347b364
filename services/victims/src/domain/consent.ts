import type { ConsentPurpose, ConsentRecord } from './model.js';

/** The current consent per purpose; a purpose never asked about is absent. */
export type ConsentState = Readonly<Partial<Record<ConsentPurpose, ConsentRecord>>>;

/** Something was about to be done that the victim has not consented to. */
export class ConsentMissingError extends Error {
  override readonly name = 'ConsentMissingError';
  constructor(readonly purpose: ConsentPurpose) {
    super(`the victim has not consented to ${describe(purpose)}: record their consent first`);
  }
}

function describe(purpose: ConsentPurpose): string {
  switch (purpose) {
    case 'contact':
      return 'being contacted';
    case 'share-law-enforcement':
      return 'sharing their case with law enforcement';
    case 'share-support':
      return 'sharing their case with support organisations';
  }
}

/** Only an explicit, current grant counts: silence and withdrawal are both "no". */
export function hasConsent(state: ConsentState, purpose: ConsentPurpose): boolean {
  return state[purpose]?.granted === true;
}

export function requireConsent(state: ConsentState, purpose: ConsentPurpose): void {
  if (!hasConsent(state, purpose)) throw new ConsentMissingError(purpose);
}

export interface ConsentChange {
  readonly state: ConsentState;
  /** The purpose went from not granted to granted. */
  readonly granted: boolean;
  /** The purpose went from granted to withdrawn. */
  readonly withdrawn: boolean;
}

/**
 * Records a decision; the latest one per purpose stands. A change of wording alone (granted
 * again under a new version) is recorded but is neither a grant nor a withdrawal.
 */
export function applyConsent(state: ConsentState, record: ConsentRecord): ConsentChange {
  const before = hasConsent(state, record.purpose);
  return {
    state: { ...state, [record.purpose]: record },
    granted: !before && record.granted,
    withdrawn: before && !record.granted,
  };
}

/** Consent records kept per case (the history beyond the current state is for audit). */
export const CONSENT_HISTORY_KEPT = 100;
