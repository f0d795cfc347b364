import { getExternalWorkflowHandle, log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  followVictimCasesSignal,
  SEARCH_ATTRIBUTES,
  VICTIM_FOLLOW_UP_PRIORITY,
  victimFollowUpsWorkflowId,
  type VictimFollowUpsInput,
} from './definitions.js';
import { victimFollowUps } from './victim-follow-ups.js';

/** Case ids handed over in one start or signal. */
const CASES_PER_HAND_OVER = 1_000;

/** What a response keeps of its victim follow-ups (`victim-follow-ups`). */
export interface VictimHandOverState {
  /** Its cases are followed in one workflow for the incident; absent in responses from before. */
  victimFollowUps?: boolean;
  /** That workflow was started by this response, and may still run. */
  victimFollowUpsStarted?: boolean;
}

/**
 * Hands victim cases to the incident's `victimFollowUps`: a signal while it runs, else a new
 * one started (it ends once its cases are done, and a case may come later). One hand-over at a
 * time, so two cases heard of together never start it twice; cases heard of meanwhile go with
 * the next. The response waits for its handlers before it continues as new or ends, so nothing
 * queued here is left behind.
 */
export function victimHandOver(
  state: VictimHandOverState,
  input: () => Omit<VictimFollowUpsInput, 'caseIds' | 'resumed'>,
): (caseIds: readonly string[]) => Promise<void> {
  const queued: string[] = [];
  let handing = false;

  const signal = async (caseIds: readonly string[]) => {
    try {
      const { incidentId, tlp } = input();
      await getExternalWorkflowHandle(victimFollowUpsWorkflowId(incidentId)).signal(followVictimCasesSignal, {
        caseIds,
        tlp,
      });
      return true;
    } catch {
      // It has ended since: every case it knew was done.
      state.victimFollowUpsStarted = false;
      return false;
    }
  };

  const start = async (caseIds: readonly string[]) => {
    const args = { ...input(), caseIds };
    try {
      await startChild(victimFollowUps, {
        workflowId: victimFollowUpsWorkflowId(args.incidentId),
        priority: VICTIM_FOLLOW_UP_PRIORITY,
        args: [args],
        // Victims are followed up after the incident closes.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.IncidentId, value: args.incidentId }],
      });
      state.victimFollowUpsStarted = true;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        log.warn('victim follow-ups not started', { cases: caseIds.length, error: String(error) });
        return;
      }
      // Running though this response took it for ended: hand the cases to it after all.
      state.victimFollowUpsStarted = true;
      if (!(await signal(caseIds))) log.warn('victim follow-ups ended as they were handed cases');
    }
  };

  const handOver = async (caseIds: readonly string[]) => {
    if (!(state.victimFollowUpsStarted && (await signal(caseIds)))) await start(caseIds);
  };

  return async (caseIds) => {
    queued.push(...caseIds);
    if (handing) return;
    handing = true;
    try {
      while (queued.length > 0) await handOver(queued.splice(0, CASES_PER_HAND_OVER));
    } finally {
      handing = false;
    }
  };
}
