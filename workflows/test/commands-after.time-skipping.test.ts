/**
 * Commands whose answer or effect changed for issue 21: an escalation answers with the
 * engagement after it, and a second ransom payment owes a report of its own, which the CIRCIA
 * clock reminds of and raises as overdue 24 hours after that payment, like the first. Services
 * faked in memory on Temporal's time-skipping server, so every due time is exact; with
 * RECORD_HISTORIES set, the response's and the clock's histories are saved for the replay test.
 */
import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEvent } from '../src/activities/types.js';
import {
  clockWorkflowId,
  escalateUpdate,
  fileReportUpdate,
  recordRansomPaymentUpdate,
  resolveUpdate,
  responseWorkflowId,
  timelineQuery,
} from '../src/workflows/definitions.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { agencyProfile } from './support/fake-services.js';
import {
  eventually,
  HOUR,
  saveHistories,
  startHarness,
  statusWhen,
  TASK_QUEUE,
  type Harness,
} from './support/time-skipping.js';

const MINUTE = 60_000;

/** NCISS level 1 (Low): the CSIRT is engaged; CIRCIA applies only by the ransom payments. */
const LOW: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'denial-non-critical',
  observedActivity: 'effect',
  location: 'business-network',
};

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

type ClockEvent = Extract<ResponseEvent, { type: 'report-due' | 'report-overdue' }>;
const overdue = (incidentId: string) =>
  h.fake.events
    .filter((e): e is ClockEvent => e.incidentId === incidentId && e.type === 'report-overdue')
    .map((e) => [e.obligation, e.dueAtMs]);

describe('commands answered after their effect', () => {
  it('an escalation answers with the next contact; each ransom payment owes and alarms its own report', async () => {
    const id = 'inc_payments';
    h.fake.agencies = [agencyProfile('cert-texas', 'csirt', { jurisdictions: ['US-TX'] })];
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident(
      {
        id,
        awareAtMs: t0,
        rsitClass: 'malicious-code',
        rsitType: 'infected-system',
        jurisdictions: ['US-TX'],
        sectors: ['energy'],
      },
      LOW,
    );
    const handle = await h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
      taskQueue: TASK_QUEUE,
      workflowId: responseWorkflowId(id),
      args: [{ incidentId: id }],
    });
    await statusWhen(
      handle,
      (s) => s.agencies.length === 1 && s.agencies[0]!.state === 'notified',
      'cert-texas notified',
    );

    const escalated = await handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'cert-texas' }] });
    expect(escalated.agencies[0]).toMatchObject({
      state: 'notified',
      contactRank: 1,
      role: 'deputy',
      noticesSent: 2,
    });

    const first = t0 - 3 * HOUR;
    const second = t0 + MINUTE;
    await h.env.sleep(2 * MINUTE);
    await handle.executeUpdate(recordRansomPaymentUpdate, { args: [{ paidAtMs: first }] });
    const paid = await handle.executeUpdate(recordRansomPaymentUpdate, { args: [{ paidAtMs: second }] });
    expect(paid.ransomPaymentsAtMs).toEqual([first, second]);
    expect(paid.obligations.map((o) => [o.id, o.dueAtMs, o.state])).toEqual([
      ['circia-ransom-payment-report', first + 24 * HOUR, 'open'],
      ['circia-ransom-payment-report-2', second + 24 * HOUR, 'open'],
    ]);

    // Each report falls overdue 24 hours after its own payment, the second one too.
    await h.env.sleep(24 * HOUR);
    expect(
      await eventually(() => {
        const found = overdue(id);
        return found.length === 2 && found;
      }, 'both ransom payment reports overdue'),
    ).toEqual([
      ['circia-ransom-payment-report', first + 24 * HOUR],
      ['circia-ransom-payment-report-2', second + 24 * HOUR],
    ]);
    const timeline = (await handle.query(timelineQuery)).map((e) => e.detail);
    expect(timeline).toContain('CIRCIA ransom payment report for payment 2 (24 h after payment) is overdue');

    for (const obligation of ['circia-ransom-payment-report', 'circia-ransom-payment-report-2'] as const) {
      await handle.executeUpdate(fileReportUpdate, {
        args: [{ obligation, reference: `ref-${obligation}` }],
      });
    }
    await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'restored from backups' }] });
    const outcome = await handle.result();
    expect(outcome.phase).toBe('closed');
    expect(outcome.obligations.map((o) => [o.id, o.state])).toEqual([
      ['circia-ransom-payment-report', 'filed'],
      ['circia-ransom-payment-report-2', 'filed'],
    ]);
    await saveHistories(h.env, 'payments', [responseWorkflowId(id), clockWorkflowId(id, 'CIRCIA')]);
  });
});
