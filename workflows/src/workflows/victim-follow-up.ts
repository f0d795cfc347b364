import { condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import {
  caseUpdatedSignal,
  victimCaseChangedSignal,
  type VictimCaseChange,
  type VictimFollowUpInput,
  type VictimFollowUpOutcome,
} from './definitions.js';
import { events, signalQuietly, victims } from './proxies.js';
import { caseUnavailable } from './victim-follow-ups.js';

const DAY_MS = 24 * 3_600_000;

/**
 * Follows up one victim case of an incident (`incident-<id>-victim-<caseId>`) through the
 * victims service: a check-in on each day of the schedule (the case's own, else the policy's,
 * e.g. days 1, 7 and 30 after the start). An urgent case — from the start, at a check-in, or
 * when the victims service says so — is escalated to its officer at once, once. Runs on after
 * the incident closes: victims' needs outlast the technical response.
 */
export async function victimFollowUp(input: VictimFollowUpInput): Promise<VictimFollowUpOutcome> {
  const { caseId, incidentId } = input;
  const startedAtMs = Date.now();
  let urgentSignalled = false;
  let escalated = false;
  let checkIns = 0;
  setHandler(caseUpdatedSignal, ({ urgency }) => {
    if (urgency === 'urgent') urgentSignalled = true;
  });

  const report = (change: Omit<VictimCaseChange, 'caseId' | 'atMs'>) =>
    signalQuietly(
      () =>
        getExternalWorkflowHandle(input.parentWorkflowId).signal(victimCaseChangedSignal, {
          caseId,
          atMs: Date.now(),
          ...change,
        }),
      `response ${input.parentWorkflowId}`,
    );
  const escalate = async (reason: string) => {
    if (escalated) return;
    escalated = true;
    await victims.escalateCase(caseId, reason);
    await events.publishResponseEvent({
      type: 'victim-escalated',
      incidentId,
      tlp: input.tlp,
      caseId,
      reason,
      atMs: Date.now(),
    });
    await report({ event: 'escalated', urgency: 'urgent', detail: reason });
  };

  let schedule: readonly number[];
  try {
    const victimCase = await victims.getCase(caseId);
    schedule = [...(victimCase.checkInDays ?? input.checkInDays)].sort((a, b) => a - b);
    await report({
      event: 'started',
      urgency: victimCase.urgency,
      detail: `check-ins on days ${schedule.join(', ')}`,
    });
    if (victimCase.urgency === 'urgent') await escalate('the case is urgent');
  } catch (error) {
    await report(caseUnavailable(caseId, error));
    return { caseId, checkIns, escalated };
  }

  for (const day of schedule) {
    const dueAtMs = startedAtMs + day * DAY_MS;
    // Wake at the check-in, or at once when the case is flagged urgent meanwhile.
    for (;;) {
      const remaining = dueAtMs - Date.now();
      if (remaining <= 0) break;
      const flagged = await condition(() => urgentSignalled && !escalated, remaining);
      if (flagged) await escalate('the victims service flagged the case urgent');
    }
    const result = await victims.recordCheckIn(caseId, { day, dueAtMs });
    checkIns += 1;
    await report({ event: 'check-in', urgency: result.urgency, day, detail: result.note ?? `day ${day}` });
    if (result.urgency === 'urgent') await escalate(`urgent at the day-${day} check-in`);
  }
  await report({
    event: 'completed',
    urgency: escalated ? 'urgent' : 'routine',
    detail: `${checkIns} check-ins`,
  });
  return { caseId, checkIns, escalated };
}
