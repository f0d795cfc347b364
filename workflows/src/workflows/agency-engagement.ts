import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Tlp } from '@beacon/domain';
import { ackTimeoutMs } from '../domain/policy.js';
import {
  acknowledgeSignal,
  engagementChangedSignal,
  escalateNowSignal,
  severityChangedSignal,
  type AcknowledgementInput,
  type AgencyEngagementInput,
  type AgencyEngagementOutcome,
  type EngagementChange,
} from './definitions.js';
import { classic, events, notify, quick, signalQuietly } from './proxies.js';

/**
 * Since v2 every step after the first also publishes `response.engagement-escalated`, so
 * coordinators' tools see an escalation as it happens; engagements started before the change
 * (histories without this marker) carry on without those events.
 */
export const ESCALATION_EVENTS_PATCH = 'engagement-escalation-events';

interface EngagementProgress {
  assigned: boolean;
  /** Pass over the chain, from 1, and step within it. */
  round: number;
  step: number;
  noticesSent: number;
  firstNoticeAtMs?: number;
  ncissLevel: number;
  acknowledgement?: AcknowledgementInput;
  /** The incident's label since it changed (a merge or a revision); the start's until then. */
  tlp?: Tlp;
}

/**
 * One agency's engagement on an incident (`incident-<id>-agency-<agencyId>`): engages it in
 * intake (so it may read the incident and acknowledge), then notifies each contact of its chain
 * in turn through notify, waiting at each for an acknowledgement as long as the incident's
 * severity allows, and ends at the national SPOC; repeats the chain as the policy says. Ends
 * on the first acknowledgement, with the time it took, or unacknowledged; removed when the
 * response cancels it. Reports each step to the response.
 */
export async function agencyEngagement(input: AgencyEngagementInput): Promise<AgencyEngagementOutcome> {
  const { incidentId, agencyId, chain, policy } = input;
  const progress: EngagementProgress = (input.resumed as EngagementProgress | undefined) ?? {
    assigned: input.assignedInIntake === true,
    round: 1,
    step: 0,
    noticesSent: 0,
    ncissLevel: input.ncissLevel,
  };
  let escalateRequested = false;
  let levelChanged = false;

  setHandler(acknowledgeSignal, (ack) => {
    // The first acknowledgement stands, as in notify.
    progress.acknowledgement ??= ack;
  });
  setHandler(escalateNowSignal, () => {
    escalateRequested = true;
  });
  setHandler(severityChangedSignal, ({ ncissLevel, tlp }) => {
    progress.ncissLevel = ncissLevel;
    if (tlp !== undefined) progress.tlp = tlp;
    levelChanged = true;
  });

  const report = (change: Omit<EngagementChange, 'agencyId' | 'noticesSent' | 'atMs'>) =>
    signalQuietly(
      () =>
        getExternalWorkflowHandle(input.parentWorkflowId).signal(engagementChangedSignal, {
          agencyId,
          noticesSent: progress.noticesSent,
          atMs: Date.now(),
          ...change,
        }),
      `response ${input.parentWorkflowId}`,
    );

  const acknowledged = async (): Promise<AgencyEngagementOutcome> => {
    const acknowledgement = progress.acknowledgement!;
    const timeToAcknowledgeMs =
      progress.firstNoticeAtMs === undefined
        ? 0
        : Math.max(0, acknowledgement.atMs - progress.firstNoticeAtMs);
    await report({ state: 'acknowledged', acknowledgement, timeToAcknowledgeMs });
    return {
      agencyId,
      state: 'acknowledged',
      noticesSent: progress.noticesSent,
      acknowledgement,
      timeToAcknowledgeMs,
    };
  };

  try {
    if (!progress.assigned) {
      await (input.lean ? quick : classic).intake.engageAgency(incidentId, agencyId);
      progress.assigned = true;
    }
    while (progress.round <= policy.engagement.rounds && !progress.acknowledgement) {
      const step = chain[progress.step];
      if (step) {
        const timeoutMs = ackTimeoutMs(policy, progress.ncissLevel);
        await notify.notifyEngagement({
          incidentId,
          agencyId: step.agencyId,
          contactRank: step.contactRank,
          regardingAgencyId: agencyId,
          round: progress.round,
          ncissLevel: progress.ncissLevel,
          acknowledgeByMs: Date.now() + timeoutMs,
        });
        const noticeAtMs = Date.now();
        progress.noticesSent += 1;
        progress.firstNoticeAtMs ??= noticeAtMs;
        const escalation = progress.noticesSent > 1;
        if (escalation && patched(ESCALATION_EVENTS_PATCH)) {
          await events.publishResponseEvent({
            type: 'engagement-escalated',
            incidentId,
            tlp: progress.tlp ?? input.tlp,
            agencyId,
            toAgencyId: step.agencyId,
            contactRank: step.contactRank,
            role: step.role,
            round: progress.round,
            atMs: noticeAtMs,
          });
        }
        await report({ state: 'notified', step, round: progress.round, notifiedAtMs: noticeAtMs });
        // Wait at this contact; a change of severity moves the deadline, a coordinator's
        // escalation or an acknowledgement ends the wait.
        for (;;) {
          if (progress.acknowledgement || escalateRequested) break;
          const remainingMs = noticeAtMs + ackTimeoutMs(policy, progress.ncissLevel) - Date.now();
          if (remainingMs <= 0) break;
          levelChanged = false;
          await condition(() => !!progress.acknowledgement || escalateRequested || levelChanged, remainingMs);
        }
        escalateRequested = false;
      }
      if (progress.acknowledgement) break;
      progress.step += 1;
      if (progress.step >= chain.length) {
        progress.step = 0;
        progress.round += 1;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof agencyEngagement>({ ...input, resumed: progress });
      }
    }
    if (progress.acknowledgement) return await acknowledged();

    const last = chain.at(-1);
    await events.publishResponseEvent({
      type: 'engagement-unacknowledged',
      incidentId,
      tlp: progress.tlp ?? input.tlp,
      agencyId,
      toAgencyId: last?.agencyId ?? agencyId,
      contactRank: last?.contactRank ?? 0,
      role: last?.role ?? '',
      round: policy.engagement.rounds,
      atMs: Date.now(),
    });
    await report({ state: 'unacknowledged' });
    return { agencyId, state: 'unacknowledged', noticesSent: progress.noticesSent };
  } catch (error) {
    if (!isCancellation(error)) throw error;
    log.info('engagement removed', { incidentId, agencyId });
    await CancellationScope.nonCancellable(() => report({ state: 'removed' }));
    return { agencyId, state: 'removed', noticesSent: progress.noticesSent };
  }
}
