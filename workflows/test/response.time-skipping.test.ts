/**
 * The response workflows on Temporal's time-skipping server: regulatory clocks of 24 h, 72 h
 * and a month, escalation chains, acknowledgements, coordinators' commands and continue-as-new
 * — with the services behind the activities faked in memory (victim follow-up has a file of
 * its own). Workflow time moves only when a test sleeps the environment, so every assertion
 * about "when" is exact.
 */
import { addMonthsUtc, scoreSeverity } from '@beacon/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEvent } from '../src/activities/types.js';
import { ackTimeoutMs, DEFAULT_POLICY } from '../src/domain/policy.js';
import {
  acknowledgedSignal,
  acknowledgeUpdate,
  addAgencyUpdate,
  agencyUnassignedSignal,
  changeSeverityUpdate,
  clockWorkflowId,
  escalateUpdate,
  fileReportUpdate,
  removeAgencyUpdate,
  resolveUpdate,
  responseWorkflowId,
  statusQuery,
  timelineQuery,
} from '../src/workflows/definitions.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { agencyProfile } from './support/fake-services.js';
import {
  DAY,
  eventually,
  HIGH,
  HOUR,
  LOW,
  outcomeAcrossRuns,
  rejection,
  saveHistories,
  startHarness,
  statusWhen,
  TASK_QUEUE,
  type Harness,
} from './support/time-skipping.js';

let h: Harness;

beforeAll(async () => {
  expect(scoreSeverity(LOW).level).toBe(1);
  expect(scoreSeverity(HIGH).level).toBe(3);
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const start = (incidentId: string, policy = DEFAULT_POLICY, harness = h) =>
  harness.client.workflow.start<typeof incidentResponse>('incidentResponse', {
    taskQueue: TASK_QUEUE,
    workflowId: responseWorkflowId(incidentId),
    args: [{ incidentId, policy }],
  });

const eventsOf = (incidentId: string, type?: ResponseEvent['type'], harness = h) =>
  harness.fake.events.filter((e) => e.incidentId === incidentId && (type === undefined || e.type === type));

describe('regulatory clocks', () => {
  it('remind before 24 h and 72 h, turn overdue and escalate; resolving waits for the reports; final reports a month on', async () => {
    const id = 'inc_clocks';
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident(
      { id, awareAtMs: t0, sectors: ['water-and-wastewater'], jurisdictions: ['DE-BY'] },
      HIGH,
    );
    const handle = await start(id);
    const active = await statusWhen(handle, (s) => s.phase === 'active', 'response active');
    expect(active.regimes.map((r) => r.regime)).toEqual(['NIS2', 'CER']);
    // Counted from awareness; the one-month reports from when the notifications are due.
    expect(active.obligations.map((o) => [o.id, o.dueAtMs])).toEqual([
      ['nis2-early-warning', t0 + 24 * HOUR],
      ['cer-initial-notification', t0 + 24 * HOUR],
      ['nis2-incident-notification', t0 + 72 * HOUR],
      ['cer-detailed-report', addMonthsUtc(t0 + 24 * HOUR, 1)],
      ['nis2-progress-report', addMonthsUtc(t0 + 72 * HOUR, 1)],
      ['nis2-final-report', undefined],
    ]);

    // Resolving is refused with the reasons while the initial reports are unfiled.
    const refused = await rejection(
      handle.executeUpdate(resolveUpdate, { args: [{ summary: 'contained' }] }),
    );
    expect(refused).toContain('cannot resolve yet');
    expect(refused).toContain('NIS2 early warning (24 h) is not filed');
    expect(refused).toContain('CER incident notification (24 h) is not filed');
    expect(refused).toContain('NIS2 incident notification (72 h) is not filed');

    // 12 h before the 24 h deadlines: one reminder each, with a draft.
    await h.env.sleep(12 * HOUR);
    const reminders = await eventually(() => {
      const due = eventsOf(id, 'report-due');
      return due.length >= 2 && due;
    }, '24 h reminders');
    for (const e of reminders) {
      if (e.type !== 'report-due') throw new Error('unreachable');
      expect(e.dueAtMs - t0).toBe(24 * HOUR);
      expect(e.atMs - t0).toBeGreaterThanOrEqual(12 * HOUR);
      expect(e.atMs - t0).toBeLessThan(12 * HOUR + 60_000);
      expect(e.draft).toMatchObject({ incidentId: id, awareAt: new Date(t0).toISOString() });
    }
    expect(reminders.map((e) => (e.type === 'report-due' ? e.obligation : '')).sort()).toEqual([
      'cer-initial-notification',
      'nis2-early-warning',
    ]);

    // The 24 h deadlines pass unfiled: overdue.
    await h.env.sleep(12 * HOUR);
    await eventually(() => eventsOf(id, 'report-overdue').length >= 2, 'overdue at 24 h');
    let status = await handle.query(statusQuery);
    expect(status.obligations.find((o) => o.id === 'nis2-early-warning')!.state).toBe('overdue');

    await handle.executeUpdate(fileReportUpdate, {
      args: [{ obligation: 'nis2-early-warning', reference: 'BSI-2026-0001' }],
    });
    // A report is filed once.
    expect(
      await rejection(
        handle.executeUpdate(fileReportUpdate, {
          args: [{ obligation: 'nis2-early-warning', reference: 'again' }],
        }),
      ),
    ).toContain('already filed');

    // A day after the missed CER deadline it escalates; the 72 h notification gets its 24 h reminder.
    await h.env.sleep(24 * HOUR);
    const escalation = await eventually(
      () =>
        eventsOf(id, 'report-overdue').find((e) => e.type === 'report-overdue' && e.escalationLevel === 1),
      'CER escalation 1',
    );
    expect(escalation).toMatchObject({ obligation: 'cer-initial-notification', escalationLevel: 1 });
    expect(escalation.atMs - t0).toBeGreaterThanOrEqual(48 * HOUR);
    await eventually(
      () =>
        eventsOf(id, 'report-due').some(
          (e) => e.type === 'report-due' && e.obligation === 'nis2-incident-notification',
        ),
      '72 h reminder',
    );
    // The early warning, filed, raised nothing more.
    expect(
      eventsOf(id).filter((e) => e.type === 'report-overdue' && e.obligation === 'nis2-early-warning'),
    ).toHaveLength(1);

    const filedAt = (await h.env.currentTimeMs()) - 1_000;
    for (const obligation of ['cer-initial-notification', 'nis2-incident-notification'] as const) {
      await handle.executeUpdate(fileReportUpdate, {
        args: [{ obligation, reference: `ref-${obligation}`, filedAtMs: filedAt }],
      });
    }
    status = await handle.query(statusQuery);
    expect(status.resolveBlockers).toEqual([]);
    const resolved = await handle.executeUpdate(resolveUpdate, {
      args: [{ summary: 'SCADA restored from backups' }],
    });
    expect(resolved.phase).toBe('active'); // the update records the request; the response then moves on
    status = await statusWhen(handle, (s) => s.phase === 'resolved', 'resolved');
    await eventually(() => eventsOf(id, 'final-report').length === 1, 'final report published');
    // Resolved within the month: the final reports are due a month after the notifications were filed.
    const finals = status.obligations.filter((o) => o.phase === 'final');
    expect(finals.map((o) => [o.id, o.dueAtMs])).toEqual([
      ['nis2-final-report', addMonthsUtc(filedAt, 1)],
      ['cer-detailed-report', addMonthsUtc(filedAt, 1)],
    ]);

    // A week before: reminders; then overdue; the response stays resolved until they are filed.
    await h.env.sleep(25 * DAY);
    await eventually(
      () =>
        eventsOf(id, 'report-due').some(
          (e) => e.type === 'report-due' && e.obligation === 'nis2-final-report',
        ),
      'final report reminder',
    );
    await h.env.sleep(7 * DAY + HOUR);
    await eventually(
      () =>
        eventsOf(id, 'report-overdue').filter(
          (e) =>
            e.type === 'report-overdue' &&
            (e.obligation === 'nis2-final-report' || e.obligation === 'cer-detailed-report'),
        ).length >= 2,
      'final reports overdue',
    );
    expect((await handle.query(statusQuery)).phase).toBe('resolved');
    for (const obligation of ['nis2-final-report', 'cer-detailed-report'] as const) {
      await handle.executeUpdate(fileReportUpdate, {
        args: [{ obligation, reference: `final-${obligation}` }],
      });
    }
    const outcome = await handle.result();
    expect(outcome.phase).toBe('closed');
    expect(outcome.obligations.every((o) => o.state === 'filed')).toBe(true);
    expect(h.fake.transitions.filter(([i]) => i === id).map(([, to]) => to)).toEqual([
      'triage',
      'active',
      'resolved',
      'closed',
    ]);
    await saveHistories(h.env, 'clocks', [
      responseWorkflowId(id),
      clockWorkflowId(id, 'NIS2'),
      clockWorkflowId(id, 'CER'),
    ]);
  });
});

describe('agency engagement', () => {
  it('walks the whole escalation chain to the national SPOC, twice, when nobody acknowledges', async () => {
    const id = 'inc_chain';
    h.fake.agencies = [
      agencyProfile('cert-bayern', 'csirt'),
      agencyProfile('bsi', 'regulator', {
        jurisdictions: ['DE'],
        contacts: [
          { role: 'duty-officer', name: 'BSI duty' },
          { role: 'national-spoc', name: 'BSI national SPOC' },
        ],
      }),
    ];
    h.fake.addIncident({ id, awareAtMs: await h.env.currentTimeMs() }, LOW);
    const handle = await start(id);
    await statusWhen(handle, (s) => s.phase === 'active' && s.agencies.length === 1, 'engaging cert-bayern');
    await h.env.sleep(33 * HOUR);
    const status = await statusWhen(
      handle,
      (s) => s.agencies[0]?.state === 'unacknowledged',
      'engagement unacknowledged',
    );
    const notices = h.fake.notices.filter((n) => n.incidentId === id);
    expect(notices.map((n) => [n.agencyId, n.contactRank, n.round])).toEqual([
      ['cert-bayern', 0, 1],
      ['cert-bayern', 1, 1],
      ['cert-bayern', 2, 1],
      ['bsi', 1, 1],
      ['cert-bayern', 0, 2],
      ['cert-bayern', 1, 2],
      ['cert-bayern', 2, 2],
      ['bsi', 1, 2],
    ]);
    expect(notices.every((n) => n.regardingAgencyId === 'cert-bayern')).toBe(true);
    // Each contact had the level-1 wait, four hours, before the next was notified.
    for (let i = 1; i < notices.length; i++) {
      const gap = notices[i]!.acknowledgeByMs - notices[i - 1]!.acknowledgeByMs;
      expect(gap).toBeGreaterThanOrEqual(4 * HOUR);
      expect(gap).toBeLessThan(4 * HOUR + 30_000);
    }
    expect(new Set(notices.map((n) => n.key)).size).toBe(8);
    // Every step after the first is published as an escalation.
    expect(
      eventsOf(id, 'engagement-escalated').map((e) =>
        e.type === 'engagement-escalated' ? [e.toAgencyId, e.contactRank, e.round] : [],
      ),
    ).toEqual(notices.slice(1).map((n) => [n.agencyId, n.contactRank, n.round]));
    expect(eventsOf(id, 'engagement-unacknowledged')).toMatchObject([
      { agencyId: 'cert-bayern', toAgencyId: 'bsi' },
    ]);
    expect(status.agencies[0]).toMatchObject({
      agencyId: 'cert-bayern',
      state: 'unacknowledged',
      noticesSent: 8,
    });
    expect(h.fake.engagedInIntake).toContainEqual([id, 'cert-bayern']);
    const timeline = await handle.query(timelineQuery);
    expect(timeline.filter((e) => e.kind === 'escalated')).toHaveLength(7);
    expect(timeline.some((e) => e.detail.includes('victims service is not connected'))).toBe(true);

    // A late acknowledgement still counts.
    await handle.executeUpdate(acknowledgeUpdate, {
      args: [{ agencyId: 'cert-bayern', note: 'sorry', via: 'coordinator' }],
    });
    await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'service restored' }] });
    const outcome = await handle.result();
    expect(outcome.phase).toBe('closed');
    expect(outcome.agencies[0]).toMatchObject({ state: 'acknowledged', via: 'coordinator' });
    await saveHistories(h.env, 'unacknowledged', [responseWorkflowId(id)]);
  });
});

describe('coordinators’ commands', () => {
  it('stops at the first acknowledgement and carries out coordinators’ validated commands', async () => {
    const id = 'inc_commands';
    h.fake.agencies = [
      agencyProfile('cert-bayern', 'csirt'),
      agencyProfile('lka-bayern', 'law-enforcement'),
      agencyProfile('bsi', 'regulator', {
        jurisdictions: ['DE'],
        sectors: ['energy'],
        contacts: [{ role: 'national-spoc', name: 'BSI national SPOC' }],
      }),
    ];
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident({ id, awareAtMs: t0, rsitClass: 'malicious-code', rsitType: 'infected-system' }, LOW);
    const handle = await start(id);
    await statusWhen(
      handle,
      (s) => s.agencies.length === 2 && s.agencies.every((a) => a.state === 'notified'),
      'both agencies notified',
    );

    // Past the four-hour wait both move to their deputies; then cert-bayern acknowledges
    // through its feed (the consumer signals the response, which ends the engagement inside it).
    await h.env.sleep(4 * HOUR + 60_000);
    await eventually(
      () => h.fake.notices.filter((n) => n.incidentId === id).length === 4,
      'deputies notified',
    );
    const ackAt = await h.env.currentTimeMs();
    await handle.signal(acknowledgedSignal, {
      agencyId: 'cert-bayern',
      via: 'feed',
      note: 'on it',
      atMs: ackAt,
    });
    let status = await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'cert-bayern')?.state === 'acknowledged',
      'cert-bayern acknowledged',
    );
    const cert = status.agencies.find((a) => a.agencyId === 'cert-bayern')!;
    expect(cert).toMatchObject({ via: 'feed', noticesSent: 2 });
    // From the first notice to the acknowledgement: the four-hour wait and a minute.
    expect(cert.timeToAcknowledgeMs).toBeGreaterThanOrEqual(4 * HOUR);
    expect(cert.timeToAcknowledgeMs).toBeLessThan(4 * HOUR + 120_000);

    // Escalate lka-bayern at once: its head hears now, not in four hours.
    await handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'lka-bayern' }] });
    await eventually(
      () =>
        h.fake.notices.some((n) => n.incidentId === id && n.agencyId === 'lka-bayern' && n.contactRank === 2),
      'lka-bayern head notified',
    );
    expect(
      await rejection(handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'cert-bayern' }] })),
    ).toBe('the engagement of cert-bayern is acknowledged');
    expect(
      await rejection(handle.executeUpdate(addAgencyUpdate, { args: [{ agencyId: 'nobody', reason: 'x' }] })),
    ).toBe('no agency nobody in the registry');
    expect(
      await rejection(
        handle.executeUpdate(addAgencyUpdate, { args: [{ agencyId: 'Not An Id', reason: 'x' }] }),
      ),
    ).toBe('agencyId is not an agency id');

    // Removing an agency ends its engagement: no more notices.
    await handle.executeUpdate(removeAgencyUpdate, {
      args: [{ agencyId: 'lka-bayern', reason: 'handled by BKA' }],
    });
    expect(h.fake.disengagedInIntake).toEqual([[id, 'lka-bayern']]);
    const lkaNotices = h.fake.notices.filter(
      (n) => n.incidentId === id && n.agencyId === 'lka-bayern',
    ).length;

    // Raising the severity engages the energy regulator and starts the NIS2 and CER clocks.
    expect(
      await rejection(
        handle.executeUpdate(changeSeverityUpdate, {
          args: [{ inputs: { ...HIGH, actor: 'martians' as 'unknown' } }],
        }),
      ),
    ).toBe('invalid severity inputs: actor');
    status = await handle.executeUpdate(changeSeverityUpdate, { args: [{ inputs: HIGH }] });
    expect(status.ncissLevel).toBe(3);
    expect(status.regimes.map((r) => r.regime)).toEqual(['NIS2', 'CER']);
    // The regulator's engagement may already have sent its first notice by the time the update
    // returns: the child runs while the handler awaits its start.
    expect(status.agencies.map((a) => [a.agencyId, a.state])).toEqual([
      ['bsi', expect.stringMatching(/^(engaging|notified)$/)],
      ['cert-bayern', 'acknowledged'],
      ['lka-bayern', 'removed'],
    ]);
    expect(
      await rejection(
        handle.executeUpdate(fileReportUpdate, {
          args: [{ obligation: 'circia-incident-report', reference: 'x' }],
        }),
      ),
    ).toBe('circia-incident-report does not apply to this incident');
    await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'bsi')?.state === 'notified',
      'bsi notified',
    );
    await handle.executeUpdate(acknowledgeUpdate, {
      args: [{ agencyId: 'bsi', note: 'by phone', via: 'coordinator' }],
    });
    await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'bsi')?.state === 'acknowledged',
      'bsi acknowledged',
    );

    // File everything, resolve and close.
    for (const obligation of [
      'nis2-early-warning',
      'cer-initial-notification',
      'nis2-incident-notification',
    ] as const) {
      await handle.executeUpdate(fileReportUpdate, { args: [{ obligation, reference: obligation }] });
    }
    await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'malware removed' }] });
    await statusWhen(handle, (s) => s.phase === 'resolved', 'resolved');
    for (const obligation of ['nis2-final-report', 'cer-detailed-report'] as const) {
      await handle.executeUpdate(fileReportUpdate, { args: [{ obligation, reference: obligation }] });
    }
    const outcome = await handle.result();
    expect(outcome.phase).toBe('closed');
    expect(outcome.agencies.map((a) => [a.agencyId, a.state])).toEqual([
      ['bsi', 'acknowledged'],
      ['cert-bayern', 'acknowledged'],
      ['lka-bayern', 'removed'],
    ]);
    expect(h.fake.notices.filter((n) => n.incidentId === id && n.agencyId === 'lka-bayern')).toHaveLength(
      lkaNotices,
    );
    await saveHistories(h.env, 'commands', [responseWorkflowId(id)]);
  });
});

/**
 * Continue-as-new on the time-skipping test server (1.40) leaves its time-skipping lock held
 * afterwards (a later `env.sleep` never returns), so the scenario that continues as new has a
 * server of its own and moves no time after it.
 */
describe('an agency unassigned in intake directly', () => {
  it('leaves the response, unless intake lists it again by the time the response checks', async () => {
    const id = 'inc_unassigned';
    h.fake.agencies = [agencyProfile('cert-bayern', 'csirt'), agencyProfile('lka-bayern', 'law-enforcement')];
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident({ id, awareAtMs: t0, rsitClass: 'malicious-code', rsitType: 'infected-system' }, LOW);
    const handle = await start(id);
    await statusWhen(
      handle,
      (s) =>
        s.phase === 'active' && s.agencies.length === 2 && s.agencies.every((a) => a.state === 'notified'),
      'both agencies notified',
    );
    // Intake now lists cert-bayern (assigned again since its announcement) but not lka-bayern.
    h.fake.incidents.set(id, { ...h.fake.incidents.get(id)!, engagedAgencyIds: ['cert-bayern'] });
    await handle.signal(agencyUnassignedSignal, { agencyId: 'cert-bayern' });
    await handle.signal(agencyUnassignedSignal, { agencyId: 'lka-bayern' });
    const status = await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'lka-bayern')?.state === 'removed',
      'lka-bayern removed',
    );
    expect(status.agencies.find((a) => a.agencyId === 'cert-bayern')?.state).toBe('notified');
    // Its engagement ended: past the four-hour wait only cert-bayern's deputy hears.
    const before = h.fake.notices.filter((n) => n.incidentId === id).length;
    await h.env.sleep(4 * HOUR + 60_000);
    await eventually(
      () => h.fake.notices.filter((n) => n.incidentId === id).length === before + 1,
      'cert-bayern deputy notified',
    );
    // Both engagements start together, so their first notices come in either order.
    const notices = h.fake.notices
      .filter((n) => n.incidentId === id)
      .map((n) => [n.regardingAgencyId, n.contactRank]);
    expect(notices.slice(0, 2)).toEqual(
      expect.arrayContaining([
        ['cert-bayern', 0],
        ['lka-bayern', 0],
      ]),
    );
    expect(notices.slice(2)).toEqual([['cert-bayern', 1]]);
    // Not a removal the response asked intake for.
    expect(h.fake.disengagedInIntake.filter(([incident]) => incident === id)).toEqual([]);
    await handle.terminate();
  });
});

describe('continue-as-new', () => {
  let c: Harness;
  beforeAll(async () => {
    c = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('hands a long response to a new run that keeps its state and its engagements', async () => {
    const id = 'inc_long';
    c.fake.agencies = [agencyProfile('cert-bayern', 'csirt'), agencyProfile('lka-bayern', 'law-enforcement')];
    c.fake.addIncident(
      { id, awareAtMs: await c.env.currentTimeMs(), rsitClass: 'fraud', rsitType: 'phishing' },
      LOW,
    );
    // Past triage (whose timeline flushes are history too), within the escalations below.
    const handle = await start(id, { ...DEFAULT_POLICY, maxHistoryEvents: 60 }, c);
    await statusWhen(
      handle,
      (s) => s.agencies.length === 2 && s.agencies.every((a) => a.state === 'notified'),
      'both agencies notified',
    );
    // An hour into lka-bayern's wait at its first contact, which the hand-over must keep.
    await c.env.sleep(HOUR);
    // Each escalation is an update, a notice and its report: history.
    let status = await handle.query(statusQuery);
    for (let rank = 1; status.runs === 1 && rank < 4; rank++) {
      await handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'cert-bayern' }] });
      status = await statusWhen(
        handle,
        (s) => s.agencies.find((a) => a.agencyId === 'cert-bayern')?.noticesSent === rank + 1,
        `cert-bayern at step ${rank}`,
      );
    }
    expect(status.runs).toBeGreaterThan(1);
    const { runId } = await handle.describe();
    // The new run knows what the old one did, and carries on the engagements it was running.
    expect(status.agencies.map((a) => [a.agencyId, a.state])).toEqual([
      ['cert-bayern', 'notified'],
      ['lka-bayern', 'notified'],
    ]);
    // lka-bayern waits on at its first contact, not paged again, for what remained of the wait.
    const lka = status.agencies.find((a) => a.agencyId === 'lka-bayern')!;
    expect(lka.noticesSent).toBe(1);
    expect(c.fake.notices.filter((n) => n.incidentId === id && n.agencyId === 'lka-bayern')).toHaveLength(1);
    const waitMs = ackTimeoutMs(DEFAULT_POLICY, status.ncissLevel);
    const remainingMs = lka.notifiedAtMs! + waitMs - (await c.env.currentTimeMs());
    expect(remainingMs).toBeLessThanOrEqual(waitMs - HOUR);
    const timersMs = (await handle.fetchHistory()).events!.flatMap((e) => {
      const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
      return timeout ? [Number(timeout.seconds) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
    });
    expect(timersMs.some((ms) => ms <= waitMs - HOUR && ms >= remainingMs - 60_000)).toBe(true);
    // And it still answers a coordinator in the new run.
    await handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'lka-bayern' }] });
    status = await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'lka-bayern')?.noticesSent === 2,
      'lka-bayern escalated in the new run',
    );
    await handle.signal(acknowledgedSignal, {
      agencyId: 'lka-bayern',
      via: 'feed',
      note: '',
      atMs: await c.env.currentTimeMs(),
    });
    await statusWhen(
      handle,
      (s) => s.agencies.find((a) => a.agencyId === 'lka-bayern')?.state === 'acknowledged',
      'lka-bayern acknowledged in the new run',
    );
    await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'phishing kit taken down' }] });
    const outcome = await outcomeAcrossRuns(handle);
    expect(outcome.phase).toBe('closed');
    expect(outcome.runs).toBe(status.runs);
    expect(runId).not.toBe(handle.firstExecutionRunId);
    const timeline = await handle.query(timelineQuery);
    expect(timeline.filter((e) => e.kind === 'continued-as-new').length).toBe(status.runs - 1);
    expect(timeline[0]!.kind).toBe('triage'); // the first run's entries travelled along
    // The store has every entry once, numbered 1, 2, 3, ... across the runs, in order.
    const stored = c.fake.timelines.get(id) ?? [];
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((e) => e.kind)).toEqual(timeline.map((e) => e.kind));
    expect(stored.filter((e) => e.kind === 'continued-as-new')).toHaveLength(status.runs - 1);
    expect(stored.at(-1)?.kind).toBe('closed');
    await saveHistories(c.env, 'continue-as-new', [
      { workflowId: responseWorkflowId(id), runId: handle.firstExecutionRunId },
      responseWorkflowId(id),
    ]);
    // About 2 s alone; each of its three escalations may wait up to 10 s for the engagement's
    // report (`escalation.ts`).
  }, 90_000);
});
