import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../domain/failures.js';
import {
  followVictimCasesSignal,
  victimCasesChangedSignal,
  victimCaseUpdatedSignal,
  type FollowedVictimCase,
  type VictimCaseChange,
  type VictimFollowUpsInput,
  type VictimFollowUpsOutcome,
} from './definitions.js';
import { events, failureType, signalQuietly, victims } from './proxies.js';

/** Responses from here on follow their victim cases in one workflow, not one child per case. */
export const VICTIM_FOLLOW_UPS_PATCH = 'victim-follow-ups';

const DAY_MS = 24 * 3_600_000;
/** Calls to the victims service at once: a campaign's thousand cases go in steps, not at once. */
const CALLS_AT_ONCE = 50;
/** Changes told to the response in one signal. */
const CHANGES_PER_SIGNAL = 500;
/** A run stops telling a response that is gone (closed): its next signals could only fail. */
export const QUIET_AFTER_RESPONSE_PATCH = 'follow-ups-quiet-after-response';

/**
 * Follows up every victim case of one incident (`incident-<id>-victims`) through the victims
 * service: a check-in on each day of a case's schedule (its own, else the policy's, e.g. days
 * 1, 7 and 30 after its start); an urgent case — from the start, at a check-in, or when the
 * victims service says so — is escalated to its officer at once, once. One timer, for the
 * earliest check-in due, however many cases; the response is told what happened in batches.
 * Ends once every case it knows is done, and runs on after the incident closes: victims' needs
 * outlast the technical response (a run tells a closed response once, then nothing more). A
 * campaign's thousand cases are one workflow: one child per case (`victimFollowUp`, before) kept
 * thousands of children pending on one response.
 */
export async function victimFollowUps(input: VictimFollowUpsInput): Promise<VictimFollowUpsOutcome> {
  const { incidentId } = input;
  const cases = new Map((input.resumed?.cases ?? []).map((c) => [c.caseId, { ...c }]));
  const totals = { ...(input.resumed?.totals ?? { followed: 0, checkIns: 0, escalated: 0 }) };
  const waiting = new Set<string>();
  /** Taken from `waiting`, their case not read yet: a second hand-over of them is ignored too. */
  const starting = new Set<string>();
  const flagged = new Set([...cases.values()].filter((c) => c.flagged).map((c) => c.caseId));
  const changes: VictimCaseChange[] = [];
  const take = (caseIds: readonly string[]) => {
    for (const caseId of caseIds) if (!cases.has(caseId) && !starting.has(caseId)) waiting.add(caseId);
  };
  /** The incident's label for the events: the response's, as it last handed cases over. */
  let tlp = input.tlp;
  take(input.caseIds);
  setHandler(followVictimCasesSignal, (handed) => {
    if (handed.tlp) tlp = handed.tlp;
    take(handed.caseIds);
  });
  setHandler(victimCaseUpdatedSignal, ({ caseId, urgency }) => {
    const followed = cases.get(caseId);
    if (urgency !== 'urgent' || !followed || followed.escalated) return;
    followed.flagged = true;
    flagged.add(caseId);
  });

  /** The response ended (a signal to it failed): the cases go on, untold. */
  let responseGone = false;
  const change = (caseId: string, fields: Omit<VictimCaseChange, 'caseId' | 'atMs'>) => {
    if (!responseGone) changes.push({ caseId, atMs: Date.now(), ...fields });
  };
  const tellResponse = async () => {
    while (changes.length > 0) {
      const batch = changes.splice(0, CHANGES_PER_SIGNAL);
      const told = await signalQuietly(
        () =>
          getExternalWorkflowHandle(input.parentWorkflowId).signal(victimCasesChangedSignal, {
            changes: batch,
          }),
        `response ${input.parentWorkflowId}`,
      );
      if (!told && patched(QUIET_AFTER_RESPONSE_PATCH)) {
        responseGone = true;
        changes.length = 0;
      }
    }
  };

  const escalate = async (followed: FollowedVictimCase, reason: string) => {
    if (followed.escalated) return;
    followed.escalated = true;
    followed.flagged = false;
    flagged.delete(followed.caseId);
    totals.escalated += 1;
    await victims.escalateCase(followed.caseId, reason);
    await events.publishResponseEvent({
      type: 'victim-escalated',
      incidentId,
      tlp,
      caseId: followed.caseId,
      reason,
      atMs: Date.now(),
    });
    change(followed.caseId, { event: 'escalated', urgency: 'urgent', detail: reason });
  };

  const dueAtMs = (followed: FollowedVictimCase) =>
    followed.done < followed.schedule.length
      ? followed.startedAtMs + followed.schedule[followed.done]! * DAY_MS
      : Number.POSITIVE_INFINITY;

  const finishIfDone = (followed: FollowedVictimCase) => {
    if (followed.done < followed.schedule.length) return;
    cases.delete(followed.caseId);
    flagged.delete(followed.caseId);
    change(followed.caseId, {
      event: 'completed',
      urgency: followed.escalated ? 'urgent' : 'routine',
      detail: `${followed.done} check-ins`,
    });
  };

  const start = async (caseId: string) => {
    let victimCase: Awaited<ReturnType<typeof victims.getCase>>;
    try {
      victimCase = await victims.getCase(caseId);
    } catch (error) {
      change(caseId, caseUnavailable(caseId, error));
      return;
    } finally {
      starting.delete(caseId);
    }
    const schedule = [...(victimCase.checkInDays ?? input.checkInDays)].sort((x, y) => x - y);
    const followed: FollowedVictimCase = {
      caseId,
      startedAtMs: Date.now(),
      schedule,
      done: 0,
      escalated: false,
    };
    cases.set(caseId, followed);
    totals.followed += 1;
    change(caseId, {
      event: 'started',
      urgency: victimCase.urgency,
      detail: `check-ins on days ${schedule.join(', ')}`,
    });
    if (victimCase.urgency === 'urgent') await escalate(followed, 'the case is urgent');
    finishIfDone(followed);
  };

  const checkIn = async (followed: FollowedVictimCase) => {
    const day = followed.schedule[followed.done]!;
    const result = await victims.recordCheckIn(followed.caseId, { day, dueAtMs: dueAtMs(followed) });
    followed.done += 1;
    totals.checkIns += 1;
    change(followed.caseId, {
      event: 'check-in',
      urgency: result.urgency,
      day,
      detail: result.note ?? `day ${day}`,
    });
    if (result.urgency === 'urgent') await escalate(followed, `urgent at the day-${day} check-in`);
    finishIfDone(followed);
  };

  /** Hands everything on to a new run once the history is long: what is told, what is known. */
  const continueIfLong = async () => {
    const info = workflowInfo();
    if (!info.continueAsNewSuggested && info.historyLength < input.maxHistoryEvents) return;
    // Nothing to hand on: the loop ends this run.
    if (cases.size === 0 && waiting.size === 0) return;
    await tellResponse();
    await continueAsNew<typeof victimFollowUps>({
      ...input,
      tlp,
      caseIds: [...waiting],
      resumed: { cases: [...cases.values()], totals },
    });
  };

  /** `work` for each, `CALLS_AT_ONCE` at a time, the response told after each step. */
  const inSteps = async <T>(items: readonly T[], work: (item: T) => Promise<void>) => {
    for (let i = 0; i < items.length; i += CALLS_AT_ONCE) {
      await Promise.all(items.slice(i, i + CALLS_AT_ONCE).map(work));
      await tellResponse();
      await continueIfLong();
    }
  };

  for (;;) {
    while (waiting.size > 0) {
      const batch = [...waiting].slice(0, CALLS_AT_ONCE);
      for (const caseId of batch) {
        waiting.delete(caseId);
        starting.add(caseId);
      }
      await inSteps(batch, start);
    }
    await inSteps(
      [...flagged].flatMap((caseId) => cases.get(caseId) ?? []),
      (followed) => escalate(followed, 'the victims service flagged the case urgent'),
    );
    const now = Date.now();
    await inSteps(
      [...cases.values()].filter((c) => dueAtMs(c) <= now),
      checkIn,
    );
    await tellResponse();
    await continueIfLong();
    if (cases.size === 0 && waiting.size === 0) break;
    if (waiting.size > 0 || flagged.size > 0) continue;
    const wait = Math.min(...[...cases.values()].map(dueAtMs)) - Date.now();
    // Wake at the earliest check-in, or at once for a new case or one flagged urgent.
    if (wait > 0) await condition(() => waiting.size > 0 || flagged.size > 0, wait);
  }
  return totals;
}

/**
 * What the response is told of a case the victims service could not give (it is not followed
 * up): without the service nothing can be, and the response says so.
 */
export function caseUnavailable(caseId: string, error: unknown): Omit<VictimCaseChange, 'caseId' | 'atMs'> {
  const type = failureType(error);
  log.warn('victim case unavailable', { caseId, type });
  return {
    event: 'unavailable',
    urgency: 'unknown',
    detail:
      type === FailureType.VictimsServiceUnavailable
        ? 'the victims service is not connected to this worker'
        : `the victims service did not answer (${type ?? 'error'})`,
  };
}
