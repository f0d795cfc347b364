/**
 * The response's regulatory clocks count from when the affected entity became aware of the
 * incident, not from when Beacon opened it: an incident reported 20 hours after awareness has
 * 4 hours left for a 24-hour report. A clock counted from the opening (the response's start)
 * went unnoticed because every other scenario opens its incident at the moment of awareness.
 * Services faked in memory on Temporal's time-skipping server, so every due time is exact.
 */
import { NCISS_HIGH, waitFor } from '@beacon/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEvent } from '../src/activities/types.js';
import {
  recordRansomPaymentUpdate,
  responseWorkflowId,
  statusQuery,
  timelineQuery,
  type ResponseStatus,
} from '../src/workflows/definitions.js';
import type { incidentResponse } from '../src/workflows/index.js';
import {
  eventually,
  HOUR,
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

const iso = (ms: number) => new Date(ms).toISOString();

/** A month later on the calendar (UTC), worked out without the domain's helper. */
function aMonthAfter(ms: number): number {
  const d = new Date(ms);
  const next = new Date(ms);
  next.setUTCMonth(d.getUTCMonth() + 1);
  // The 31st of a month followed by a shorter one ends on that month's last day.
  if (next.getUTCDate() !== d.getUTCDate()) next.setUTCDate(0);
  return next.getTime();
}

type ClockEvent = Extract<ResponseEvent, { type: 'report-due' | 'report-overdue' }>;

/** The reminders or overdue alarms the incident's clocks published. */
const clockEvents = (incidentId: string, type: ClockEvent['type']) =>
  h.fake.events.filter((e): e is ClockEvent => e.incidentId === incidentId && e.type === type);

const dueTimes = (status: ResponseStatus) =>
  Object.fromEntries(status.obligations.map((o) => [o.id, o.dueAtMs]));

describe('an incident reported long after its awareness time', () => {
  it('has every regulatory deadline counted from awareness, in the status, the timeline and the alarms', async () => {
    const id = 'inc_late_report';
    h.fake.agencies = [];
    const openedAtMs = await h.env.currentTimeMs();
    const awareAtMs = openedAtMs - 20 * HOUR;
    // A pipeline operator in Bavaria and Texas: NIS2, CER and CIRCIA all run.
    h.fake.addIncident({ id, awareAtMs, sectors: ['energy'], jurisdictions: ['DE-BY', 'US-TX'] }, NCISS_HIGH);
    const handle = await h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
      taskQueue: TASK_QUEUE,
      workflowId: responseWorkflowId(id),
      args: [{ incidentId: id }],
    });

    const active = await statusWhen(
      handle,
      (s) => s.phase === 'active' && s.regimes.length === 3,
      'response active under three regimes',
    );
    expect(active.regimes.map((r) => r.regime)).toEqual(['NIS2', 'CIRCIA', 'CER']);
    expect(active.awareAtMs).toBe(awareAtMs);
    // 24 h and 72 h from awareness, 4 h and 52 h from now; the month-long reports a month
    // after the notifications are due; the NIS2 final report once the incident is resolved.
    expect(dueTimes(active)).toEqual({
      'nis2-early-warning': awareAtMs + 24 * HOUR,
      'cer-initial-notification': awareAtMs + 24 * HOUR,
      'nis2-incident-notification': awareAtMs + 72 * HOUR,
      'circia-incident-report': awareAtMs + 72 * HOUR,
      'cer-detailed-report': aMonthAfter(awareAtMs + 24 * HOUR),
      'nis2-progress-report': aMonthAfter(awareAtMs + 72 * HOUR),
      'nis2-final-report': undefined,
    });
    expect(active.obligations.every((o) => o.state === 'open')).toBe(true);
    expect(active.resolveBlockers).toContain(
      `NIS2 early warning (24 h) is not filed (due ${iso(awareAtMs + 24 * HOUR)})`,
    );

    // The clocks started 20 h into the 24-hour deadlines: the 12-hours-before reminders are
    // already late, so each is raised at once, naming the deadline from awareness.
    const late = await eventually(() => {
      const due = clockEvents(id, 'report-due');
      return due.length >= 2 && due;
    }, 'the late 24 h reminders');
    expect(late.map((e) => [e.obligation, e.dueAtMs]).sort()).toEqual([
      ['cer-initial-notification', awareAtMs + 24 * HOUR],
      ['nis2-early-warning', awareAtMs + 24 * HOUR],
    ]);
    for (const e of late) {
      expect(e.atMs - openedAtMs).toBeLessThan(MINUTE);
      expect(e.draft).toMatchObject({ incidentId: id, awareAt: iso(awareAtMs) });
    }
    const reminders = await waitFor(
      async () => {
        const entries = (await handle.query(timelineQuery)).filter((e) => e.kind === 'reminder');
        if (entries.length < 2) throw new Error(`${entries.length} reminders on the timeline`);
        return entries;
      },
      { what: 'reminders on the timeline', timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(reminders.map((e) => e.detail).sort()).toEqual([
      `CER incident notification (24 h) due ${iso(awareAtMs + 24 * HOUR)}`,
      `NIS2 early warning (24 h) due ${iso(awareAtMs + 24 * HOUR)}`,
    ]);

    // A ransom paid two hours before the report: CIRCIA's 24 hours run from the payment.
    const paidAtMs = openedAtMs - 2 * HOUR;
    const paid = await handle.executeUpdate(recordRansomPaymentUpdate, { args: [{ paidAtMs }] });
    expect(dueTimes(paid)).toMatchObject({
      'circia-ransom-payment-report': paidAtMs + 24 * HOUR,
      'circia-incident-report': awareAtMs + 72 * HOUR,
    });

    // Four hours on, the 24-hour reports are overdue, at awareness + 24 h to the minute.
    await h.env.sleep(4 * HOUR + MINUTE);
    const overdue = await eventually(() => {
      const found = clockEvents(id, 'report-overdue');
      return found.length >= 2 && found;
    }, 'the 24 h reports overdue');
    expect(overdue.map((e) => [e.obligation, e.dueAtMs, e.escalationLevel]).sort()).toEqual([
      ['cer-initial-notification', awareAtMs + 24 * HOUR, 0],
      ['nis2-early-warning', awareAtMs + 24 * HOUR, 0],
    ]);
    for (const e of overdue) {
      expect(e.atMs).toBeGreaterThanOrEqual(awareAtMs + 24 * HOUR);
      expect(e.atMs).toBeLessThan(awareAtMs + 24 * HOUR + MINUTE);
    }
    const status = await statusWhen(
      handle,
      (s) => s.obligations.filter((o) => o.state === 'overdue').length === 2,
      'two reports overdue',
    );
    expect(
      Object.fromEntries(
        status.obligations.filter((o) => o.dueAtMs !== undefined).map((o) => [o.id, o.state]),
      ),
    ).toEqual({
      'nis2-early-warning': 'overdue',
      'cer-initial-notification': 'overdue',
      'circia-ransom-payment-report': 'open',
      'nis2-incident-notification': 'open',
      'circia-incident-report': 'open',
      'cer-detailed-report': 'open',
      'nis2-progress-report': 'open',
    });

    // The ransom payment report falls overdue 24 h after the payment, the 72-hour reports at
    // awareness + 72 h.
    await h.env.sleep(awareAtMs + 72 * HOUR - (await h.env.currentTimeMs()) + MINUTE);
    const later = await eventually(() => {
      const found = clockEvents(id, 'report-overdue').filter(
        (e) =>
          e.escalationLevel === 0 &&
          e.obligation !== 'nis2-early-warning' &&
          e.obligation !== 'cer-initial-notification',
      );
      return found.length >= 3 && found;
    }, 'the ransom payment and 72 h reports overdue');
    expect(later.map((e) => [e.obligation, e.dueAtMs]).sort()).toEqual([
      ['circia-incident-report', awareAtMs + 72 * HOUR],
      ['circia-ransom-payment-report', paidAtMs + 24 * HOUR],
      ['nis2-incident-notification', awareAtMs + 72 * HOUR],
    ]);
    for (const e of later) {
      expect(e.atMs).toBeGreaterThanOrEqual(e.dueAtMs);
      expect(e.atMs).toBeLessThan(e.dueAtMs + MINUTE);
    }
    expect((await handle.query(statusQuery)).awareAtMs).toBe(awareAtMs);
    await handle.terminate();
  });
});
