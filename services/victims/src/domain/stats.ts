import type { LossBand } from './model.js';
import { statusOf, type CaseState } from './victim-case.js';

/** Counts over cases: no identities, and nothing finer than one attribute at a time. */
export interface VictimStats {
  readonly cases: number;
  readonly urgent: number;
  readonly erased: number;
  readonly byStatus: ReadonlyMap<string, number>;
  readonly byNeed: ReadonlyMap<string, number>;
  readonly byJurisdiction: ReadonlyMap<string, number>;
  readonly byLanguage: ReadonlyMap<string, number>;
  readonly byScreeningResult: ReadonlyMap<string, number>;
  readonly referrals: ReadonlyMap<string, number>;
  /** Cases by currency and loss band of their total. */
  readonly losses: ReadonlyMap<string, ReadonlyMap<LossBand, number>>;
}

const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Adds cases up one at a time, so a campaign of any size is counted without holding it in
 * memory. Erased cases count like any other: erasure removes who, never how many or what.
 */
export class StatsAccumulator {
  #cases = 0;
  #urgent = 0;
  #erased = 0;
  readonly #byStatus = new Map<string, number>();
  readonly #byNeed = new Map<string, number>();
  readonly #byJurisdiction = new Map<string, number>();
  readonly #byLanguage = new Map<string, number>();
  readonly #byScreening = new Map<string, number>();
  readonly #referrals = new Map<string, number>();
  readonly #losses = new Map<string, Map<LossBand, number>>();

  add(state: CaseState): void {
    this.#cases += 1;
    if (state.assessment.urgent && !state.closedAt) this.#urgent += 1;
    if (state.erasedAt) this.#erased += 1;
    bump(this.#byStatus, statusOf(state));
    bump(this.#byJurisdiction, state.jurisdiction);
    bump(this.#byLanguage, state.language);
    for (const need of state.assessment.needs) {
      bump(this.#byNeed, need.kind);
      if (need.screeningResult) bump(this.#byScreening, need.screeningResult);
      if (need.lossBand && need.currency) {
        let bands = this.#losses.get(need.currency);
        if (!bands) this.#losses.set(need.currency, (bands = new Map<LossBand, number>()));
        bump(bands, need.lossBand);
      }
    }
    for (const referral of state.referrals) bump(this.#referrals, referral.state);
  }

  result(): VictimStats {
    return {
      cases: this.#cases,
      urgent: this.#urgent,
      erased: this.#erased,
      byStatus: this.#byStatus,
      byNeed: this.#byNeed,
      byJurisdiction: this.#byJurisdiction,
      byLanguage: this.#byLanguage,
      byScreeningResult: this.#byScreening,
      referrals: this.#referrals,
      losses: this.#losses,
    };
  }
}
