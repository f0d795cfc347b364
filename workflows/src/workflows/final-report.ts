/** What the response publishes when it resolves, from its status. */
import type { ResponseStatus } from './definitions.js';

/** Beacon's own closing report: what happened, who answered how fast, what was filed when. */
export function finalReport(s: ResponseStatus): Record<string, unknown> {
  return {
    incidentId: s.incidentId,
    title: s.title,
    tlp: s.tlp,
    severity: { ncissScore: s.ncissScore, ncissLevel: s.ncissLevel },
    sectors: s.sectors,
    jurisdictions: s.jurisdictions,
    awareAt: new Date(s.awareAtMs).toISOString(),
    resolvedAt: s.resolvedAtMs === undefined ? undefined : new Date(s.resolvedAtMs).toISOString(),
    resolution: s.resolutionSummary,
    impact: s.impact,
    agencies: s.agencies.map((a) => ({
      agencyId: a.agencyId,
      outcome: a.state,
      noticesSent: a.noticesSent,
      timeToAcknowledgeMs: a.timeToAcknowledgeMs,
      via: a.via,
    })),
    reports: s.obligations.map((o) => ({
      obligation: o.id,
      dueAt: o.dueAtMs === undefined ? undefined : new Date(o.dueAtMs).toISOString(),
      filedAt: o.filedAtMs === undefined ? undefined : new Date(o.filedAtMs).toISOString(),
      late: o.filedAtMs !== undefined && o.dueAtMs !== undefined && o.filedAtMs > o.dueAtMs,
      reference: o.reference,
    })),
    victimCases: s.victimCases,
  };
}

/** Sorted, without repeats. */
export function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
