import { describe, expect, it } from 'vitest';
import { Metrics } from '@beacon/platform';
import type { ResponseEvent } from '../activities/types.js';
import { responseEventMetric, responseMetrics } from './response-metrics.js';

const base = { incidentId: 'inc_1', tlp: 'AMBER' as const, atMs: 0 };
const deadline = (escalationLevel: number, regime = 'NIS2'): ResponseEvent => ({
  ...base,
  type: 'report-overdue',
  regime,
  obligation: 'nis2-early-warning',
  dueAtMs: 0,
  escalationLevel,
  draft: {},
});
const engagement = (type: 'engagement-escalated' | 'engagement-unacknowledged'): ResponseEvent => ({
  ...base,
  type,
  agencyId: 'cert-de',
  toAgencyId: 'cert-de',
  contactRank: 1,
  role: 'duty officer',
  round: 1,
});

describe('responseEventMetric', () => {
  it('counts the overdue alarm as a missed deadline and its escalations as escalations', () => {
    expect(responseEventMetric(deadline(0))).toEqual({ metric: 'deadline-missed', regime: 'NIS2' });
    expect(responseEventMetric(deadline(2))).toEqual({ metric: 'escalation', kind: 'overdue_report' });
    expect(responseEventMetric(deadline(0, 'SOMETHING-NEW'))).toEqual({
      metric: 'deadline-missed',
      regime: 'other',
    });
    expect(responseEventMetric({ ...(deadline(0) as object), type: 'report-due' } as ResponseEvent)).toBe(
      undefined,
    );
  });

  it('counts engagement and victim escalations by kind', () => {
    expect(responseEventMetric(engagement('engagement-escalated'))).toEqual({
      metric: 'escalation',
      kind: 'engagement',
    });
    expect(responseEventMetric(engagement('engagement-unacknowledged'))).toEqual({
      metric: 'escalation',
      kind: 'engagement_unacknowledged',
    });
    expect(
      responseEventMetric({ ...base, type: 'victim-escalated', caseId: 'c1', reason: 'urgent' }),
    ).toEqual({ metric: 'escalation', kind: 'victim_case' });
  });

  it('moves the counters in the registry', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const counter = responseMetrics(metrics);
    counter.published(deadline(0, 'CER'));
    counter.published(engagement('engagement-escalated'));
    counter.published(engagement('engagement-escalated'));
    const text = await metrics.render();
    expect(text).toContain('beacon_response_regulatory_deadlines_missed_total{regime="CER"} 1');
    expect(text).toContain('beacon_response_escalations_total{kind="engagement"} 2');
    expect(text).toContain('beacon_response_escalations_total{kind="victim_case"} 0');
  });
});
