import { setTimeout as delay } from 'node:timers/promises';
import { observableKey } from '@beacon/domain';
import { canJoin, revisesIncident, type Caller } from '../domain/access.js';
import type { Incident, Report } from '../domain/incident.js';
import { acceptsReports, openFromReport } from '../domain/rules.js';
import { IntakeError } from './errors.js';
import type {
  Clock,
  CorrelationHasher,
  IncidentStore,
  IndicatorClaim,
  IndicatorClaimStore,
  ReportPlan,
  ReportStore,
} from './ports.js';

export interface IndicatorClaimsDeps {
  readonly claims: IndicatorClaimStore;
  readonly incidents: IncidentStore;
  readonly reports: ReportStore;
  readonly clock: Clock;
  readonly hash: CorrelationHasher;
  readonly correlationWindowMs: number;
}

/**
 * How long a report waits, at most, for the incident another report claimed its indicator for
 * (that report is between its claim and its incident's insert: milliseconds, unless the store
 * failed it), and how often it looks.
 */
export const CLAIM_WAIT = { totalMs: 1_500, pollMs: 50 };

/** What one claim held by another report means for this one. */
type Verdict =
  | { readonly kind: 'mine' }
  /** Its incident will never take the report: closed, full, expired or abandoned. */
  | { readonly kind: 'stale' }
  /** Its incident is one the report may not join: the report opens its own, as if unmatched. */
  | { readonly kind: 'apart' }
  /** Its incident is not stored yet, and its report still plans to open it. */
  | { readonly kind: 'pending' }
  | { readonly kind: 'join'; readonly incident: Incident; readonly claim: IndicatorClaim };

/**
 * Claim-before-open: a report that plans to open an incident first claims each of its
 * indicators for that incident, so two first reports of a new indicator cannot open two
 * incidents (correlation finds an incident only once it is linked). The report is stored with
 * its plan before it claims, so every claim names a stored report that will open its incident,
 * by its retry or by the recovery sweep; a replay finds its own claims and goes on.
 */
export class IndicatorClaims {
  constructor(
    private readonly deps: IndicatorClaimsDeps,
    private readonly wait = CLAIM_WAIT,
  ) {}

  /**
   * Where a stored report that plans to open an incident goes: there, once its indicators are
   * claimed for it (or are claimed for incidents it may not join); else into the incident
   * another report claimed them for, replanned so. `caller` is the reporter, absent for the
   * recovery sweep, which cannot judge what the reporter may join and opens the planned
   * incident. Throws `unavailable` while a claimed incident the report may join is not stored.
   */
  async settle(
    caller: Caller | undefined,
    report: Report,
    plan: ReportPlan,
  ): Promise<{ report: Report; plan: ReportPlan }> {
    const hashes = [...new Set(report.observables.map((o) => this.deps.hash(observableKey(o))))];
    const mine = (hash: string): IndicatorClaim => ({
      hash,
      incidentId: plan.incidentId,
      reportId: report.id,
      at: this.deps.clock.now(),
    });
    const deadline = Date.now() + this.wait.totalMs;
    let held = await this.deps.claims.claim(hashes.map(mine));
    for (;;) {
      const verdicts = await this.#judge(caller, report, plan, held);
      const join = verdicts.find((v) => v.kind === 'join');
      if (join && caller) return this.#join(caller, report, plan, join, held);
      const waiting = verdicts.some((v) => v.kind === 'pending');
      const stale = verdicts.some((v) => v.kind === 'stale');
      if (!waiting && !stale) return { report, plan };
      // A stale claim is taken over at once; only a claimed incident not yet stored is waited for.
      if (!stale) {
        if (Date.now() >= deadline) {
          throw new IntakeError(
            'unavailable',
            'an incident for this indicator is being opened; retry the same request shortly',
          );
        }
        await delay(this.wait.pollMs);
      }
      held = await Promise.all(
        held.map(async (claim, i) => {
          const verdict = verdicts[i]?.kind;
          if (verdict === 'stale') return this.deps.claims.takeOver(claim, mine(claim.hash));
          if (verdict === 'pending') return (await this.deps.claims.claim([mine(claim.hash)]))[0] ?? claim;
          return claim;
        }),
      );
    }
  }

  /** Each held claim judged, with what the report may join decided as correlation decides it. */
  async #judge(
    caller: Caller | undefined,
    report: Report,
    plan: ReportPlan,
    held: readonly IndicatorClaim[],
  ): Promise<Verdict[]> {
    const expired = this.deps.clock.now().getTime() - this.deps.correlationWindowMs;
    const incidents = new Map<string, Promise<Incident | undefined>>();
    const incident = (id: string) => {
      const read = incidents.get(id) ?? this.deps.incidents.get(id);
      incidents.set(id, read);
      return read;
    };
    const joins = (target: Pick<Incident, 'tlp' | 'engagedAgencyIds' | 'sourceAgencyId'>) =>
      caller !== undefined && canJoin(caller, report.tlp, target);
    return Promise.all(
      held.map(async (claim): Promise<Verdict> => {
        if (claim.incidentId === plan.incidentId) return { kind: 'mine' };
        if (claim.at.getTime() < expired) return { kind: 'stale' };
        const found = await incident(claim.incidentId);
        if (found) {
          if (!acceptsReports(found)) return { kind: 'stale' };
          return joins(found) ? { kind: 'join', incident: found, claim } : { kind: 'apart' };
        }
        const opener = await this.deps.reports.get(claim.reportId);
        if (!opener?.plan.opensIncident || opener.plan.incidentId !== claim.incidentId)
          return { kind: 'stale' };
        // The incident its report will open decides, so that a report that may not join it
        // opens its own at once, as for an indicator seen nowhere, rather than waiting for it.
        const opened = openFromReport(opener.report, claim.incidentId, opener.report.submittedAt).incident;
        return caller && !joins(opened) ? { kind: 'apart' } : { kind: 'pending' };
      }),
    );
  }

  /**
   * Replans the report to join the claimed incident, then hands the indicators it had claimed
   * to that incident too: nothing will open the one it planned. A crash between the two leaves
   * claims whose report no longer opens their incident, which the next claimant takes over.
   */
  async #join(
    caller: Caller,
    report: Report,
    plan: ReportPlan,
    join: Extract<Verdict, { kind: 'join' }>,
    held: readonly IndicatorClaim[],
  ): Promise<{ report: Report; plan: ReportPlan }> {
    const joined: ReportPlan = {
      ...plan,
      incidentId: join.incident.id,
      opensIncident: false,
      revisesIncident: revisesIncident(caller, join.incident),
    };
    await this.deps.reports.replan(report.id, joined);
    await Promise.all(
      held
        .filter((claim) => claim.incidentId === plan.incidentId)
        .map((claim) => this.deps.claims.takeOver(claim, { ...join.claim, hash: claim.hash })),
    );
    return { report: { ...report, incidentId: join.incident.id }, plan: joined };
  }
}
