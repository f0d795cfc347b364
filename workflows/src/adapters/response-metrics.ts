import { REGIMES, type Regime } from '@beacon/domain';
import type { Metrics } from '@beacon/platform';
import type { ResponseEvent } from '../activities/types.js';

/** The kinds of escalation a response announces, as the `kind` label names them. */
export const ESCALATION_KINDS = [
  'engagement',
  'engagement_unacknowledged',
  'victim_case',
  'overdue_report',
] as const;
export type EscalationKind = (typeof ESCALATION_KINDS)[number];

/** What one published response event counts as, if anything. */
export type ResponseEventMetric =
  | { readonly metric: 'escalation'; readonly kind: EscalationKind }
  | { readonly metric: 'deadline-missed'; readonly regime: Regime | 'other' };

/**
 * Maps a response event to what it counts as: an engagement moved along the contact chain or
 * given up unacknowledged, a victim case escalated, an overdue report escalated (levels 1, 2…),
 * or a regulatory deadline missed (the overdue alarm itself, level 0, once per obligation).
 */
export function responseEventMetric(event: ResponseEvent): ResponseEventMetric | undefined {
  switch (event.type) {
    case 'engagement-escalated':
      return { metric: 'escalation', kind: 'engagement' };
    case 'engagement-unacknowledged':
      return { metric: 'escalation', kind: 'engagement_unacknowledged' };
    case 'victim-escalated':
      return { metric: 'escalation', kind: 'victim_case' };
    case 'report-overdue':
      return event.escalationLevel > 0
        ? { metric: 'escalation', kind: 'overdue_report' }
        : {
            metric: 'deadline-missed',
            regime: (REGIMES as readonly string[]).includes(event.regime)
              ? (event.regime as Regime)
              : 'other',
          };
    case 'report-due':
    case 'final-report':
      return undefined;
  }
}

/** Counts response events as the activity that publishes them succeeds. */
export interface ResponseEventCounter {
  published(event: ResponseEvent): void;
}

/**
 * `beacon_response_escalations_total{kind}` and
 * `beacon_response_regulatory_deadlines_missed_total{regime}`, counted by the activity after it
 * published the event — never in workflow code, which replays. An activity retried after its
 * publish succeeded (the worker died before reporting back) counts twice; the event itself is
 * deduplicated by JetStream, the counter is not.
 */
export function responseMetrics(metrics: Metrics): ResponseEventCounter {
  const escalations = metrics.counter(
    'beacon_response_escalations_total',
    'Escalations the response workflows announced, by kind.',
    ['kind'],
  );
  const missed = metrics.counter(
    'beacon_response_regulatory_deadlines_missed_total',
    'Regulatory reporting deadlines that passed without the report filed, by regime.',
    ['regime'],
  );
  // Every series from the start, at 0: an increase over a series that appears late loses its first step.
  const byKind = new Map(ESCALATION_KINDS.map((kind) => [kind, escalations.labels(kind)]));
  const byRegime = new Map([...REGIMES, 'other'].map((regime) => [regime, missed.labels(regime)]));
  for (const child of [...byKind.values(), ...byRegime.values()]) child.inc(0);
  return {
    published: (event) => {
      const counted = responseEventMetric(event);
      if (!counted) return;
      if (counted.metric === 'escalation') byKind.get(counted.kind)?.inc();
      else byRegime.get(counted.regime)?.inc();
    },
  };
}
