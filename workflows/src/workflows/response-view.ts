/**
 * The response as coordinators and regulators see it, computed from its state alone: the
 * obligations with their deadlines as things stand, the report drafts, what still blocks a
 * resolution, and the status the query and every update answer with.
 */
import {
  classification as classify,
  draftReport,
  isCriminal,
  mustFileBeforeResolving,
  ransomPayments,
  scheduleObligations,
  type DraftFacts,
} from '@beacon/domain';
import type { ObligationStatus, ResponseStatus } from './definitions.js';
import { union } from './final-report.js';
import { ransomFacts } from './ransom-payments.js';
import type { ResponseState } from './response-state.js';

/** Every applicable obligation with its deadline as things stand, soonest first. */
export function schedules(state: ResponseState) {
  return state.regimes
    .flatMap((r) =>
      // A withdrawn regime owes nothing more; what was filed under it stays on record.
      scheduleObligations(r.withdrawn ? r.obligations.filter((o) => state.filed[o]) : r.obligations, {
        awareAtMs: state.incident?.awareAtMs ?? 0,
        filedAtMs: Object.fromEntries(Object.entries(state.filed).map(([id, f]) => [id, f!.atMs])),
        ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
        ...ransomFacts(state),
      }),
    )
    .sort((x, y) => (x.dueAtMs ?? Infinity) - (y.dueAtMs ?? Infinity));
}

/** What a report draft says of the incident (the incident must have been read). */
export function draftFacts(incidentId: string, state: ResponseState): DraftFacts {
  const i = state.incident!;
  const c = classify(i.rsitClass, i.rsitType);
  return {
    incidentId,
    title: i.title,
    rsitClass: i.rsitClass,
    rsitType: i.rsitType,
    sectors: i.sectors,
    jurisdictions: i.jurisdictions,
    ncissScore: i.ncissScore,
    ncissLevel: i.ncissLevel,
    tlp: i.tlp,
    awareAtMs: i.awareAtMs,
    criminalSuspected: c !== undefined && isCriminal(c),
    ...(state.impact
      ? {
          impact: {
            impactedAssets: state.impact.impactedAssets,
            populationAffected: state.impact.populationAffected,
            sectorsReached: state.impact.sectorsReached,
            jurisdictionsReached: state.impact.jurisdictionsReached,
          },
        }
      : {}),
    ...ransomFacts(state),
    engagedAgencyIds: Object.values(state.agencies)
      .filter((a) => a.state !== 'removed')
      .map((a) => a.agencyId),
    ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
    ...(state.resolution ? { resolutionSummary: state.resolution.summary } : {}),
  };
}

function obligationStatuses(
  incidentId: string,
  state: ResponseState,
  withDrafts: boolean,
  now: number,
): ObligationStatus[] {
  const facts = withDrafts && state.incident ? draftFacts(incidentId, state) : undefined;
  return schedules(state).map((o) => {
    const filed = state.filed[o.id];
    const alarm = state.alarms[o.id];
    const overdue = !filed && o.dueAtMs !== undefined && o.dueAtMs <= now;
    return {
      id: o.id,
      regime: o.regime,
      title: o.title,
      phase: o.phase,
      ...(o.dueAtMs === undefined ? {} : { dueAtMs: o.dueAtMs }),
      state: filed ? 'filed' : overdue ? 'overdue' : 'open',
      ...(filed ? { filedAtMs: filed.atMs, reference: filed.reference } : {}),
      mustFileBeforeResolving: mustFileBeforeResolving(o, now),
      escalationLevel: alarm?.escalationLevel ?? 0,
      ...(facts ? { draft: draftReport(o.id, facts) } : {}),
    };
  });
}

/** The reports that must be filed before the incident may be resolved, each as a sentence. */
export function resolveBlockers(state: ResponseState, now: number): string[] {
  return schedules(state)
    .filter((o) => !state.filed[o.id] && mustFileBeforeResolving(o, now))
    .map(
      (o) =>
        `${o.title} is not filed` +
        (o.dueAtMs === undefined ? '' : ` (due ${new Date(o.dueAtMs).toISOString()})`),
    );
}

export function allReportsFiled(state: ResponseState): boolean {
  return schedules(state).every((o) => state.filed[o.id] !== undefined);
}

/**
 * The response as it stands. Updates return it without the report drafts: an update's result
 * is stored in the history, and drafts are the bulk of it; the status query has them.
 */
export function responseStatus(
  incidentId: string,
  state: ResponseState,
  withDrafts: boolean,
  now: number,
): ResponseStatus {
  const i = state.incident;
  return {
    incidentId,
    phase: state.phase,
    title: i?.title ?? '',
    tlp: i?.tlp ?? 'RED',
    ncissScore: i?.ncissScore ?? 0,
    ncissLevel: i?.ncissLevel ?? 0,
    sectors: i ? union(i.sectors, state.impact?.sectorsReached ?? []) : [],
    jurisdictions: i ? union(i.jurisdictions, state.impact?.jurisdictionsReached ?? []) : [],
    awareAtMs: i?.awareAtMs ?? 0,
    ...(state.impact ? { impact: state.impact } : {}),
    agencies: Object.values(state.agencies).sort((a, b) => a.agencyId.localeCompare(b.agencyId)),
    notCleared: state.notCleared,
    regimes: state.regimes.map((r) => ({
      regime: r.regime,
      reasons: r.reasons,
      ...(r.withdrawn ? { withdrawnReason: r.withdrawn.reason, withdrawnAtMs: r.withdrawn.atMs } : {}),
    })),
    obligations: obligationStatuses(incidentId, state, withDrafts, now),
    resolveBlockers: state.phase === 'active' || state.phase === 'triage' ? resolveBlockers(state, now) : [],
    victimCases: Object.values(state.victimCases),
    ...(state.ransomPaidAtMs === undefined ? {} : { ransomPaidAtMs: state.ransomPaidAtMs }),
    ransomPaymentsAtMs: ransomPayments(state),
    ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
    ...(state.closedAtMs === undefined ? {} : { closedAtMs: state.closedAtMs }),
    ...(state.resolution ? { resolutionSummary: state.resolution.summary } : {}),
    ...(state.finalReport ? { finalReport: state.finalReport } : {}),
    runs: state.runs,
  };
}
