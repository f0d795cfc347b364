import { releaseCount, releasePartition, type ReleasedCount } from '@beacon/domain';
import type { LossBand } from './model.js';
import { statusOf, type CaseState } from './victim-case.js';

/**
 * Counts over cases: no identities, nothing finer than one attribute at a time, and no
 * per-person screening result (PHQ-4, K10 bands never leave the case).
 */
export interface VictimStats {
  readonly cases: number;
  readonly urgent: number;
  readonly erased: number;
  readonly byStatus: ReadonlyMap<string, number>;
  readonly byNeed: ReadonlyMap<string, number>;
  readonly byJurisdiction: ReadonlyMap<string, number>;
  readonly byLanguage: ReadonlyMap<string, number>;
  readonly referrals: ReadonlyMap<string, number>;
  /** Cases by currency and loss band of their total. */
  readonly losses: ReadonlyMap<string, ReadonlyMap<LossBand, number>>;
}

const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Adds cases up one at a time, so a campaign of any size is counted without holding it in
 * memory. An erased case counts in the totals only (`cases`, `erased`): erasure removes who,
 * and its attributes must not be left to single anyone out either.
 */
export class StatsAccumulator {
  #cases = 0;
  #urgent = 0;
  #erased = 0;
  readonly #byStatus = new Map<string, number>();
  readonly #byNeed = new Map<string, number>();
  readonly #byJurisdiction = new Map<string, number>();
  readonly #byLanguage = new Map<string, number>();
  readonly #referrals = new Map<string, number>();
  readonly #losses = new Map<string, Map<LossBand, number>>();

  add(state: CaseState): void {
    this.#cases += 1;
    if (state.erasedAt) {
      this.#erased += 1;
      return;
    }
    if (state.assessment.urgent && !state.closedAt) this.#urgent += 1;
    bump(this.#byStatus, statusOf(state));
    bump(this.#byJurisdiction, state.jurisdiction);
    bump(this.#byLanguage, state.language);
    for (const need of state.assessment.needs) {
      bump(this.#byNeed, need.kind);
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
      referrals: this.#referrals,
      losses: this.#losses,
    };
  }
}

/** Statistics as released: every count of people shown, or suppressed as too small. */
export interface ReleasedVictimStats {
  readonly threshold: number;
  readonly cases: ReleasedCount;
  readonly urgent: ReleasedCount;
  readonly erased: ReleasedCount;
  readonly byStatus: ReadonlyMap<string, ReleasedCount>;
  readonly byNeed: ReadonlyMap<string, ReleasedCount>;
  readonly byJurisdiction: ReadonlyMap<string, ReleasedCount>;
  readonly byLanguage: ReadonlyMap<string, ReleasedCount>;
  readonly referrals: ReadonlyMap<string, ReleasedCount>;
  readonly losses: ReadonlyMap<string, ReadonlyMap<LossBand, ReleasedCount>>;
}

const releaseEach = <K>(map: ReadonlyMap<K, number>, threshold: number) =>
  new Map([...map].map(([key, count]) => [key, releaseCount(count, threshold)] as const));

/**
 * Disclosure control (trust model, "People's data"): every count under the threshold is
 * suppressed. Status, jurisdiction and language each split the cases, erased ones as a part of
 * their own, so a lone suppressed part would be the total minus the rest: each is released as
 * a partition (`releasePartition`), and the erased count is suppressed in all of them when any
 * one needs it suppressed.
 */
export function releaseStats(stats: VictimStats, threshold: number): ReleasedVictimStats {
  const partitions = [stats.byStatus, stats.byJurisdiction, stats.byLanguage];
  let erasedSuppressed = releaseCount(stats.erased, threshold).suppressed;
  let released: ReleasedCount[][] = [];
  // At most twice: the second round forces the erased count suppressed in every partition.
  for (let round = 0; round < 2; round++) {
    released = partitions.map((p) =>
      releasePartition([stats.erased, ...p.values()], threshold, [erasedSuppressed]),
    );
    const needed = released.some((r) => r[0]!.suppressed);
    if (needed === erasedSuppressed) break;
    erasedSuppressed = true;
  }
  const rebuilt = (p: ReadonlyMap<string, number>, r: readonly ReleasedCount[]) =>
    new Map([...p.keys()].map((key, i) => [key, r[i + 1]!] as const));
  return {
    threshold,
    cases: releaseCount(stats.cases, threshold),
    urgent: releaseCount(stats.urgent, threshold),
    erased: erasedSuppressed ? { suppressed: true } : { suppressed: false, count: stats.erased },
    byStatus: rebuilt(stats.byStatus, released[0]!),
    byJurisdiction: rebuilt(stats.byJurisdiction, released[1]!),
    byLanguage: rebuilt(stats.byLanguage, released[2]!),
    byNeed: releaseEach(stats.byNeed, threshold),
    referrals: releaseEach(stats.referrals, threshold),
    losses: new Map(
      [...stats.losses].map(([currency, bands]) => [currency, releaseEach(bands, threshold)] as const),
    ),
  };
}
