import { tlpToProto } from '@beacon/platform';
import { responseV1 } from '@beacon/proto';
import type { EngagementsMemo } from '../domain/engagement-listing.js';
import type { ResponseStatus } from '../workflows/definitions.js';
import type { IncidentView } from './incident-access.js';

const PHASE: Record<ResponseStatus['phase'], responseV1.ResponsePhase> = {
  triage: responseV1.ResponsePhase.RESPONSE_PHASE_TRIAGE,
  active: responseV1.ResponsePhase.RESPONSE_PHASE_ACTIVE,
  resolved: responseV1.ResponsePhase.RESPONSE_PHASE_RESOLVED,
  closed: responseV1.ResponsePhase.RESPONSE_PHASE_CLOSED,
};
const ENGAGEMENT: Record<ResponseStatus['agencies'][number]['state'], responseV1.EngagementState> = {
  engaging: responseV1.EngagementState.ENGAGEMENT_STATE_ENGAGING,
  notified: responseV1.EngagementState.ENGAGEMENT_STATE_NOTIFIED,
  acknowledged: responseV1.EngagementState.ENGAGEMENT_STATE_ACKNOWLEDGED,
  unacknowledged: responseV1.EngagementState.ENGAGEMENT_STATE_UNACKNOWLEDGED,
  removed: responseV1.EngagementState.ENGAGEMENT_STATE_REMOVED,
};
const OBLIGATION: Record<ResponseStatus['obligations'][number]['state'], responseV1.ObligationState> = {
  open: responseV1.ObligationState.OBLIGATION_STATE_OPEN,
  overdue: responseV1.ObligationState.OBLIGATION_STATE_OVERDUE,
  filed: responseV1.ObligationState.OBLIGATION_STATE_FILED,
};
const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

export function statusToProto(s: ResponseStatus): responseV1.ResponseStatus {
  return {
    incidentId: s.incidentId,
    phase: PHASE[s.phase],
    title: s.title,
    tlp: tlpToProto(s.tlp),
    ncissScore: s.ncissScore,
    ncissLevel: s.ncissLevel,
    sectors: [...s.sectors],
    jurisdictions: [...s.jurisdictions],
    awareAt: date(s.awareAtMs),
    impact: s.impact
      ? {
          impactedAssets: s.impact.impactedAssets,
          populationAffected: String(s.impact.populationAffected),
          sectorsReached: [...s.impact.sectorsReached],
          jurisdictionsReached: [...s.impact.jurisdictionsReached],
        }
      : undefined,
    engagements: s.agencies.map((a) => ({
      agencyId: a.agencyId,
      state: ENGAGEMENT[a.state],
      reasons: [...a.reasons],
      contactRank: a.contactRank ?? 0,
      role: a.role ?? '',
      notifiedAgencyId: a.notifiedAgencyId ?? '',
      round: a.round ?? 0,
      noticesSent: a.noticesSent,
      acknowledgedAt: date(a.acknowledgedAtMs),
      timeToAcknowledgeSeconds: a.timeToAcknowledgeMs === undefined ? 0 : a.timeToAcknowledgeMs / 1000,
      via: a.via ?? '',
      startedAt: date(a.startedAtMs),
      notifiedAt: date(a.notifiedAtMs),
      acknowledgedBy: a.acknowledgedBy ?? '',
    })),
    regimes: s.regimes.map((r) => ({
      regime: r.regime,
      reasons: [...r.reasons],
      withdrawnReason: r.withdrawnReason ?? '',
      withdrawnAt: date(r.withdrawnAtMs),
    })),
    obligations: s.obligations.map((o) => ({
      id: o.id,
      regime: o.regime,
      title: o.title,
      dueAt: date(o.dueAtMs),
      state: OBLIGATION[o.state],
      filedAt: date(o.filedAtMs),
      reference: o.reference ?? '',
      mustFileBeforeResolving: o.mustFileBeforeResolving,
      escalationLevel: o.escalationLevel,
      draftJson: o.draft ? JSON.stringify(o.draft) : '',
    })),
    resolveBlockers: [...s.resolveBlockers],
    victimCases: s.victimCases.map((c) => ({
      caseId: c.caseId,
      state: c.state,
      urgency: c.urgency,
      lastCheckInDay: c.lastCheckInDay ?? 0,
    })),
    ransomPaidAt: date(s.ransomPaidAtMs),
    ransomPayments: s.ransomPaymentsAtMs.map((ms) => new Date(ms)),
    resolvedAt: date(s.resolvedAtMs),
    closedAt: date(s.closedAtMs),
    resolutionSummary: s.resolutionSummary ?? '',
    finalReportJson: s.finalReport ? JSON.stringify(s.finalReport) : '',
    runs: s.runs,
  };
}

/** One agency's engagement on one incident: its row of the response's memo, the incident as intake shows it. */
export function agencyEngagementToProto(
  incidentId: string,
  incident: IncidentView,
  memo: EngagementsMemo,
  row: EngagementsMemo['agencies'][number],
): responseV1.AgencyEngagement {
  return {
    incidentId,
    incidentTitle: incident.title,
    tlp: tlpToProto(incident.tlp),
    phase: PHASE[memo.phase],
    ncissLevel: memo.ncissLevel,
    state: ENGAGEMENT[row.state],
    reasons: [...row.reasons],
    startedAt: date(row.startedAtMs),
    escalation: {
      contactRank: row.contactRank ?? 0,
      role: row.role ?? '',
      notifiedAgencyId: row.notifiedAgencyId ?? '',
      round: row.round ?? 0,
      noticesSent: row.noticesSent,
      escalated: row.escalated,
      notifiedAt: date(row.notifiedAtMs),
    },
    acknowledgeBy: date(row.acknowledgeByMs),
    acknowledgement:
      row.acknowledgedAtMs === undefined
        ? undefined
        : {
            at: date(row.acknowledgedAtMs),
            via: row.via ?? '',
            by: row.acknowledgedBy ?? '',
            timeToAcknowledgeSeconds:
              row.timeToAcknowledgeMs === undefined ? 0 : row.timeToAcknowledgeMs / 1000,
          },
    regulatoryDeadlines: memo.deadlines.map((d) => ({
      obligation: d.obligation,
      regime: d.regime,
      title: d.title,
      dueAt: date(d.dueAtMs),
      state: OBLIGATION[d.state],
    })),
  };
}
