/**
 * Commands whose answer or effect changed for issue 21: an escalation answers with the
 * engagement after it, and a second ransom payment owes a report of its own, which the CIRCIA
 * clock reminds of and raises as overdue 24 hours after that payment, like the first. Services
 * faked in memory on Temporal's time-skipping server, so every due time is exact; with
 * RECORD_HISTORIES set, the response's and the clock's histories are saved for the replay test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEvent } from '../src/activities/types.js';
import {
  acknowledgeUpdate,
  changeSeverityUpdate,
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
  HIGH,
  HOUR,
  LOW,
  rejection,
  saveHistories,
  startHarness,
  statusWhen,
  TASK_QUEUE,
  type Harness,
} from './support/time-skipping.js';

const MINUTE = 60_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

type ClockEvent = Extract<ResponseEvent, { type: 'report-due' | 'report-overdue' }>;
const start = (incidentId: string) =>
  h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
    taskQueue: TASK_QUEUE,
    workflowId: responseWorkflowId(incidentId),
    args: [{ incidentId }],
  });
const clockEvents = (incidentId: string) =>
  h.fake.events.filter(
    (e): e is ClockEvent =>
      e.incidentId === incidentId && (e.type === 'report-overdue' || e.type === 'report-due'),
  );
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

describe('a response still in triage', () => {
  it('lets an agency it has notified be escalated and acknowledge at once; the rest waits for triage', async () => {
    const id = 'inc_triage_commands';
    h.fake.agencies = [agencyProfile('cert-bayern', 'csirt'), agencyProfile('lka-bayern', 'law-enforcement')];
    h.fake.addIncident(
      { id, awareAtMs: await h.env.currentTimeMs(), rsitClass: 'fraud', rsitType: 'phishing' },
      LOW,
    );
    let release!: () => void;
    h.fake.holdTransitions.set('active', new Promise<void>((resolve) => (release = resolve)));
    try {
      const handle = await start(id);
      await statusWhen(
        handle,
        (s) =>
          s.phase === 'triage' && s.agencies.every((a) => a.state === 'notified') && s.agencies.length === 2,
        'both agencies notified in triage',
      );
      const escalated = await handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'cert-bayern' }] });
      expect(escalated.phase).toBe('triage');
      expect(escalated.agencies.find((a) => a.agencyId === 'cert-bayern')).toMatchObject({
        state: 'notified',
        noticesSent: 2,
      });
      await handle.executeUpdate(acknowledgeUpdate, {
        args: [{ agencyId: 'lka-bayern', note: 'on it', via: 'coordinator' }],
      });
      await statusWhen(
        handle,
        (s) =>
          s.phase === 'triage' &&
          s.agencies.find((a) => a.agencyId === 'lka-bayern')?.state === 'acknowledged',
        'lka-bayern acknowledged in triage',
      );
      // Commands on the response as a whole still wait for triage to finish.
      expect(await rejection(handle.executeUpdate(resolveUpdate, { args: [{ summary: 'too early' }] }))).toBe(
        'the response is still in triage; try again in a moment',
      );
      release();
      await statusWhen(handle, (s) => s.phase === 'active', 'active once triage ends');
      await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'phishing site down' }] });
      expect((await handle.result()).phase).toBe('closed');
    } finally {
      release();
      h.fake.holdTransitions.delete('active');
    }
  });
});

describe('regimes that stop applying', () => {
  it('are withdrawn with the reason, owe nothing more while withdrawn, and come back when they apply again', async () => {
    const id = 'inc_withdrawn';
    h.fake.agencies = [];
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident(
      { id, awareAtMs: t0, sectors: ['water-and-wastewater'], jurisdictions: ['DE-BY'] },
      HIGH,
    );
    const handle = await start(id);
    await statusWhen(
      handle,
      (s) => s.phase === 'active' && s.regimes.map((r) => r.regime).join() === 'NIS2,CER',
      'NIS2 and CER apply',
    );
    await handle.executeUpdate(fileReportUpdate, {
      args: [{ obligation: 'nis2-early-warning', reference: 'csirt-ew-1' }],
    });

    // Re-scored low: neither regime applies; the report filed under NIS2 stays on record.
    const lowered = await handle.executeUpdate(changeSeverityUpdate, { args: [{ inputs: LOW }] });
    expect(lowered.ncissLevel).toBe(1);
    expect(lowered.regimes.map((r) => [r.regime, r.withdrawnReason])).toEqual([
      ['NIS2', 'not significant: NCISS level 1 < 2'],
      ['CER', 'no significant disruption: NCISS level 1 < 3 and functional impact denial-non-critical'],
    ]);
    expect(lowered.obligations.map((o) => [o.id, o.state])).toEqual([['nis2-early-warning', 'filed']]);
    expect(lowered.resolveBlockers).toEqual([]);
    const details = (await handle.query(timelineQuery)).map((e) => e.detail);
    expect(details).toContain('NIS2 withdrawn: it no longer applies (not significant: NCISS level 1 < 2)');

    // Past every 24 h and 72 h deadline: the withdrawn clocks raise nothing.
    const before = clockEvents(id).length;
    await h.env.sleep(80 * HOUR);
    expect(clockEvents(id).length).toBe(before);

    // Raised again: both apply again and the deadlines they missed meanwhile are overdue at once.
    const raised = await handle.executeUpdate(changeSeverityUpdate, { args: [{ inputs: HIGH }] });
    expect(raised.regimes.map((r) => [r.regime, r.withdrawnReason ?? ''])).toEqual([
      ['NIS2', ''],
      ['CER', ''],
    ]);
    // Overdue at once (with the escalations they missed meanwhile): nothing owed was forgotten.
    const late = await eventually(() => {
      const found = [...new Set(overdue(id).map(([obligation]) => obligation))].sort();
      return found.length >= 2 && found;
    }, 'overdue alarms once the regimes apply again');
    expect(late).toEqual(['cer-initial-notification', 'nis2-incident-notification']);
    expect((await handle.query(timelineQuery)).map((e) => e.detail)).toContain(
      'NIS2 applies again: EU member state(s) DE; NIS2 sector(s) water-and-wastewater; significant: NCISS level 3 ≥ 2',
    );
    await handle.terminate();
  });
});
