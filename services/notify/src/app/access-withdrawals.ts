import { compareTlp, type Tlp } from '@beacon/domain';
import type { Agency } from '../domain/agency.js';
import { type IncidentView, labelsAbove, withdrawnLabels } from '../domain/feed-access.js';
import type { AccessWithdrawalFeed, Clock, FeedPurger, WithdrawalReason } from './ports.js';

/**
 * Withdraws from an agency's feed what it may no longer read: the copies it retains of an
 * incident above GREEN once it is no longer named on it, or every copy above its clearance once
 * that dropped. Its feed then says so with a notice naming the incident by id only. Replays and
 * streams check every message again anyway; the purge is what makes the withdrawal hold for a
 * consumer the agency creates with NATS credentials, which reads the stream directly.
 *
 * Idempotent: a purge of what is gone purges nothing, and a notice is published under a
 * message id derived from what caused it, so a redelivered cause adds no second notice.
 */
export class AccessWithdrawals {
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: {
      readonly feeds: FeedPurger;
      readonly notices: AccessWithdrawalFeed;
      readonly clock: Clock;
      /**
       * When to purge once more, quietly: a replica whose copy of the registry is seconds old,
       * or that handles an older event of the incident late, may still publish a copy after the
       * first purge. Longer than the registry copies' age (5 s); 0 turns it off.
       */
      readonly repurgeAfterMs?: number;
      readonly onRepurgeError?: (error: unknown) => void;
    },
  ) {}

  /** Forgets the purges still planned (they are repeated by the next withdrawal anyway). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #purgeAgainLater(agencyId: string, incidentId: string, labels: readonly Tlp[]): void {
    const delay = this.deps.repurgeAfterMs ?? 10_000;
    if (delay <= 0) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.deps.feeds
        .purge(agencyId, incidentId, labels)
        .catch((error: unknown) => this.deps.onRepurgeError?.(error));
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * The incident changed (an agency unassigned, its label raised, incidents merged): purges what
   * `agency` may no longer read of it. `cause` identifies the change (e.g. the incident's
   * version). Resolves to whether anything was withdrawn.
   */
  async incidentChanged(
    agency: Pick<Agency, 'id' | 'clearance'>,
    incidentId: string,
    incident: IncidentView,
    reason: WithdrawalReason,
    cause: string,
  ): Promise<boolean> {
    const labels = withdrawnLabels(agency, incident);
    if (labels.length === 0) return false;
    const purged = await this.deps.feeds.purge(agency.id, incidentId, labels);
    this.#purgeAgainLater(agency.id, incidentId, labels);
    // An agency that never held a copy is told nothing: it had nothing to lose, and a notice
    // would tell it the incident exists.
    if (purged.length === 0 && reason !== 'unassigned') return false;
    await this.#notify(agency, incidentId, reason, labels, `${incidentId}.${cause}`);
    return true;
  }

  /**
   * The agency's clearance dropped from `before`: purges every copy above its new clearance,
   * of every incident, and tells it which incidents. Resolves to those incidents.
   */
  async clearanceLowered(
    agency: Pick<Agency, 'id' | 'clearance'>,
    before: Tlp,
    cause: string,
  ): Promise<string[]> {
    if (compareTlp(agency.clearance, before) >= 0) return [];
    const labels = labelsAbove(agency.clearance);
    const incidents = await this.deps.feeds.purge(agency.id, '*', labels);
    this.#purgeAgainLater(agency.id, '*', labels);
    for (const incidentId of incidents) {
      await this.#notify(agency, incidentId, 'clearance-lowered', labels, `${incidentId}.clearance.${cause}`);
    }
    return incidents;
  }

  async #notify(
    agency: Pick<Agency, 'id' | 'clearance'>,
    incidentId: string,
    reason: WithdrawalReason,
    labels: readonly Tlp[],
    dedupKey: string,
  ): Promise<void> {
    await this.deps.notices.publish({
      agencyId: agency.id,
      incidentId,
      reason,
      labels,
      // Nothing above what the agency is cleared for, not even the notice.
      tlp: agency.clearance === 'CLEAR' ? 'CLEAR' : 'GREEN',
      dedupKey,
      at: this.deps.clock.now(),
    });
  }
}
