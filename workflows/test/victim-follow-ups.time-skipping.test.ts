/**
 * Victim follow-up on Temporal's time-skipping server, with the victims service faked in
 * memory: one `victimFollowUps` workflow per incident follows every case on its schedule,
 * escalates urgent ones once, hands a campaign's cases to new runs as its history grows, and is
 * started again for a case that comes after it ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@beacon/testkit';
import type { ResponseEvent } from '../src/activities/types.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import {
  followVictimCasesSignal,
  linkVictimCaseSignal,
  resolveUpdate,
  responseWorkflowId,
  victimCaseUpdatedSignal,
  victimFollowUpsWorkflowId,
} from '../src/workflows/definitions.js';
import type { incidentResponse, victimFollowUps } from '../src/workflows/index.js';
import {
  DAY,
  eventually,
  HOUR,
  LOW,
  outcomeAcrossRuns,
  saveHistories,
  startHarness,
  statusWhen,
  TASK_QUEUE,
  type Harness,
} from './support/time-skipping.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  h.fake.agencies = [];
  h.fake.victimCases = new Map();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const start = (incidentId: string, policy = DEFAULT_POLICY) =>
  h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
    taskQueue: TASK_QUEUE,
    workflowId: responseWorkflowId(incidentId),
    args: [{ incidentId, policy }],
  });

/**
 * The follow-ups of incident `id`, started as its response would start them (GREEN, the
 * response's id as parent), with the policy's schedule and history limit unless told.
 */
const startFollowUps = (
  id: string,
  caseIds: string[],
  options: { checkInDays?: readonly number[]; maxHistoryEvents?: number } = {},
) =>
  h.client.workflow.start<typeof victimFollowUps>('victimFollowUps', {
    taskQueue: TASK_QUEUE,
    workflowId: victimFollowUpsWorkflowId(id),
    args: [
      {
        incidentId: id,
        parentWorkflowId: responseWorkflowId(id),
        tlp: 'GREEN',
        checkInDays: options.checkInDays ?? DEFAULT_POLICY.victimCheckInDays,
        caseIds,
        maxHistoryEvents: options.maxHistoryEvents ?? DEFAULT_POLICY.maxHistoryEvents,
      },
    ],
  });

const followUps = (incidentId: string) =>
  h.client.workflow.getHandle<typeof victimFollowUps>(victimFollowUpsWorkflowId(incidentId));

const addCase = (incidentId: string, caseId: string, urgency: 'routine' | 'urgent' = 'routine') =>
  h.fake.victimCases!.set(caseId, { caseId, incidentId, urgency });

const checkInsOf = (prefix: string) => h.fake.checkIns.filter((c) => c.caseId.startsWith(prefix));
const escalatedEvents = (incidentId: string) =>
  h.fake.events.filter(
    (e): e is Extract<ResponseEvent, { type: 'victim-escalated' }> =>
      e.incidentId === incidentId && e.type === 'victim-escalated',
  );

/** The workflow types a history started as children. */
async function childTypes(workflowId: string): Promise<string[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events!.flatMap((e) => {
    const name = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name;
    return name ? [name] : [];
  });
}

describe('victim follow-ups', () => {
  it('check in on days 1, 7 and 30, escalate an urgent case at once, and start again for a case after they ended', async () => {
    const id = 'inc_victims';
    addCase(id, 'v-case-a');
    addCase(id, 'v-case-b', 'urgent');
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident({ id, awareAtMs: t0, rsitClass: 'fraud', rsitType: 'phishing' }, LOW);
    const handle = await start(id);
    await statusWhen(handle, (s) => s.victimCases.length === 2, 'two cases followed up');
    // The urgent case is escalated before any check-in.
    await eventually(() => h.fake.caseEscalations.some((e) => e.caseId === 'v-case-b'), 'v-case-b escalated');
    expect(checkInsOf('v-case-b')).toEqual([]);
    const firstRun = (await followUps(id).describe()).runId;

    await h.env.sleep(DAY + HOUR);
    await eventually(() => checkInsOf('v-case-').filter((c) => c.day === 1).length === 2, 'day-1 check-ins');
    // Day 3: the victims service flags v-case-a urgent; it escalates then, not at day 7.
    await h.env.sleep(2 * DAY);
    await followUps(id).signal(victimCaseUpdatedSignal, { caseId: 'v-case-a', urgency: 'urgent' });
    await eventually(() => h.fake.caseEscalations.some((e) => e.caseId === 'v-case-a'), 'v-case-a escalated');
    expect(checkInsOf('v-case-').filter((c) => c.day === 7)).toEqual([]);

    await h.env.sleep(28 * DAY);
    await eventually(() => checkInsOf('v-case-').length === 6, 'all check-ins');
    for (const c of checkInsOf('v-case-')) expect(c.dueAtMs - t0).toBeGreaterThanOrEqual(c.day * DAY);
    expect(
      checkInsOf('v-case-')
        .map((c) => `${c.caseId}@${c.day}`)
        .sort(),
    ).toEqual(['v-case-a@1', 'v-case-a@30', 'v-case-a@7', 'v-case-b@1', 'v-case-b@30', 'v-case-b@7']);
    expect(h.fake.caseEscalations.filter((e) => e.caseId.startsWith('v-case-')).map((e) => e.caseId)).toEqual(
      ['v-case-b', 'v-case-a'],
    );
    expect(escalatedEvents(id).map((e) => e.caseId)).toEqual(['v-case-b', 'v-case-a']);
    // Every case done, the follow-ups end; the response knows each case's end.
    expect(await outcomeAcrossRuns(followUps(id))).toEqual({ followed: 2, checkIns: 6, escalated: 2 });
    let status = await statusWhen(
      handle,
      (s) => s.victimCases.every((c) => c.lastCheckInDay === 30),
      'cases at day 30',
    );
    expect(status.victimCases.map((c) => [c.caseId, c.state, c.urgency])).toEqual([
      ['v-case-a', 'escalated', 'urgent'],
      ['v-case-b', 'escalated', 'urgent'],
    ]);

    // A case opened later: the response starts the follow-ups again, and it is followed alone.
    addCase(id, 'v-case-c');
    await handle.signal(linkVictimCaseSignal, { caseId: 'v-case-c' });
    status = await statusWhen(
      handle,
      (s) => s.victimCases.some((c) => c.caseId === 'v-case-c'),
      'v-case-c followed up',
    );
    const secondRun = await waitFor(
      async () => {
        const { runId, status: run } = await followUps(id).describe();
        if (run.name !== 'RUNNING' || runId === firstRun) throw new Error(`${run.name}, run ${runId}`);
        return runId;
      },
      { what: 'the follow-ups started again', timeoutMs: 20_000, intervalMs: 50 },
    );
    await h.env.sleep(31 * DAY);
    await eventually(() => checkInsOf('v-case-c').length === 3, 'v-case-c checked in three times');
    expect(await outcomeAcrossRuns(followUps(id))).toEqual({ followed: 1, checkIns: 3, escalated: 0 });
    status = await statusWhen(
      handle,
      (s) => s.victimCases.find((c) => c.caseId === 'v-case-c')?.state === 'completed',
      'v-case-c completed',
    );
    expect(status.victimCases.find((c) => c.caseId === 'v-case-c')).toMatchObject({
      urgency: 'routine',
      lastCheckInDay: 30,
    });
    // One workflow per incident at a time, never one per case.
    expect(await childTypes(responseWorkflowId(id))).toEqual(['victimFollowUps', 'victimFollowUps']);

    await handle.executeUpdate(resolveUpdate, { args: [{ summary: 'phishing site taken down' }] });
    expect((await handle.result()).phase).toBe('closed');
    await saveHistories(h.env, 'victims', [
      responseWorkflowId(id),
      { workflowId: victimFollowUpsWorkflowId(id), runId: firstRun },
      { workflowId: victimFollowUpsWorkflowId(id), runId: secondRun },
    ]);
  });

  it('follow a campaign’s cases in one workflow, handed to new runs as its history grows, each check-in once', async () => {
    const id = 'inc_campaign';
    const caseIds = Array.from({ length: 120 }, (_, i) => `camp-${String(i).padStart(3, '0')}`);
    h.fake.addIncident(
      { id, awareAtMs: await h.env.currentTimeMs(), rsitClass: 'fraud', rsitType: 'phishing' },
      LOW,
    );
    const handle = await start(id);
    await statusWhen(handle, (s) => s.phase === 'active', 'the response active');
    caseIds.forEach((caseId, i) => addCase(id, caseId, i % 10 === 0 ? 'urgent' : 'routine'));
    // The follow-ups as the response starts them, with a short history: they continue as new
    // several times. (The response keeps its default: its own hand-over is tested elsewhere.)
    const started = await startFollowUps(id, caseIds.slice(0, 60), { maxHistoryEvents: 150 });
    // The rest as the response hears of them, some twice.
    await started.signal(followVictimCasesSignal, { caseIds: caseIds.slice(50, 90) });
    await started.signal(followVictimCasesSignal, { caseIds: caseIds.slice(80) });
    await statusWhen(handle, (s) => s.victimCases.length === 120, 'every case reported to the response');
    await eventually(() => escalatedEvents(id).length === 12, 'the urgent cases escalated');
    await h.env.sleep(31 * DAY);
    await eventually(() => checkInsOf('camp-').length === 360, 'every check-in');
    expect(await outcomeAcrossRuns(followUps(id))).toEqual({ followed: 120, checkIns: 360, escalated: 12 });
    // The first run handed on to a new one, whose input carries the cases it knew.
    const first = await h.client.workflow
      .getHandle(victimFollowUpsWorkflowId(id), started.firstExecutionRunId)
      .fetchHistory();
    const nextRun = first.events!.flatMap(
      (e) => e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? [],
    )[0];
    expect(nextRun).toBeTruthy();
    // Each case on each of its days, once, however many runs it went through; each urgent one
    // escalated once.
    const byCase = new Map<string, number[]>();
    for (const c of checkInsOf('camp-')) byCase.set(c.caseId, [...(byCase.get(c.caseId) ?? []), c.day]);
    expect([...byCase.keys()].sort()).toEqual(caseIds);
    for (const days of byCase.values()) expect(days).toEqual([1, 7, 30]);
    expect(
      escalatedEvents(id)
        .map((e) => e.caseId)
        .sort(),
    ).toEqual(caseIds.filter((_, i) => i % 10 === 0));
    // The response learnt each case's end from the batched reports.
    const status = await statusWhen(
      handle,
      (s) => s.victimCases.every((c) => c.state !== 'following-up' && c.lastCheckInDay === 30),
      'every case ended in the response',
    );
    expect(status.victimCases.filter((c) => c.state === 'escalated')).toHaveLength(12);
    expect(status.victimCases.filter((c) => c.state === 'completed')).toHaveLength(108);
    await saveHistories(h.env, 'campaign', [
      { workflowId: victimFollowUpsWorkflowId(id), runId: started.firstExecutionRunId },
      { workflowId: victimFollowUpsWorkflowId(id), runId: nextRun! },
    ]);
  });

  it('follow a case handed over again while it is being read once', async () => {
    const id = 'inc_twice';
    h.fake.addIncident(
      { id, awareAtMs: await h.env.currentTimeMs(), rsitClass: 'fraud', rsitType: 'phishing' },
      LOW,
    );
    const handle = await start(id);
    await statusWhen(handle, (s) => s.phase === 'active', 'the response active');
    addCase(id, 'tw-1');
    let release!: () => void;
    h.fake.holdCaseReads.set('tw-1', new Promise<void>((resolve) => (release = resolve)));
    const followUp = await startFollowUps(id, ['tw-1'], { checkInDays: [1] });
    await eventually(() => h.fake.caseReads.includes('tw-1'), 'the case being read');
    // Handed over again meanwhile, and the signal taken in by the workflow before the read ends.
    await followUp.signal(followVictimCasesSignal, { caseIds: ['tw-1'] });
    await waitFor(
      async () => {
        const events = (await followUp.fetchHistory()).events!;
        const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
        if (signalled < 0 || !events.slice(signalled).some((e) => e.workflowTaskCompletedEventAttributes))
          throw new Error('signal not taken in yet');
      },
      { what: 'the second hand-over taken in', timeoutMs: 20_000, intervalMs: 50 },
    );
    release();
    await h.env.sleep(DAY + HOUR);
    expect(await outcomeAcrossRuns(followUps(id))).toEqual({ followed: 1, checkIns: 1, escalated: 0 });
    expect(h.fake.caseReads.filter((c) => c === 'tw-1')).toEqual(['tw-1']);
    expect(checkInsOf('tw-1').map((c) => c.day)).toEqual([1]);
  });

  it('label the events of a case handed over later with the label the response handed over with it', async () => {
    const id = 'inc_relabel';
    h.fake.addIncident(
      { id, awareAtMs: await h.env.currentTimeMs(), rsitClass: 'fraud', rsitType: 'phishing' },
      LOW,
    );
    const handle = await start(id);
    await statusWhen(handle, (s) => s.phase === 'active', 'the response active');
    addCase(id, 'lab-1', 'urgent');
    addCase(id, 'lab-2', 'urgent');
    const followUp = await startFollowUps(id, ['lab-1'], { checkInDays: [1] });
    await eventually(() => escalatedEvents(id).length === 1, 'lab-1 escalated');
    // The label was raised since: the case handed over now is escalated under the new one.
    await followUp.signal(followVictimCasesSignal, { caseIds: ['lab-2'], tlp: 'AMBER' });
    await eventually(() => escalatedEvents(id).length === 2, 'lab-2 escalated');
    expect(escalatedEvents(id).map((e) => [e.caseId, e.tlp])).toEqual([
      ['lab-1', 'GREEN'],
      ['lab-2', 'AMBER'],
    ]);
  });
});

describe('victim follow-ups after the response ended', () => {
  it('go on checking in, and tell a response that is gone once, not at every step', async () => {
    const id = 'inc_gone';
    // The response ended (here: never ran): every signal to it fails.
    addCase(id, 'gone-1');
    addCase(id, 'gone-2', 'urgent');
    const followUp = await startFollowUps(id, ['gone-1', 'gone-2'], { checkInDays: [1, 7] });
    await h.env.sleep(8 * DAY);
    expect(await followUp.result()).toEqual({ followed: 2, checkIns: 4, escalated: 1 });
    expect(
      checkInsOf('gone-')
        .map((c) => `${c.caseId}@${c.day}`)
        .sort(),
    ).toEqual(['gone-1@1', 'gone-1@7', 'gone-2@1', 'gone-2@7']);
    const events = (await followUp.fetchHistory()).events!;
    const signals = events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes);
    const failed = events.filter((e) => e.signalExternalWorkflowExecutionFailedEventAttributes);
    expect(signals).toHaveLength(1);
    expect(failed).toHaveLength(1);
    await saveHistories(h.env, 'gone', [victimFollowUpsWorkflowId(id)]);
  });
});
