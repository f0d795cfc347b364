/**
 * The victim cases linked to the incident, followed up after it closes: in the incident's one
 * `victimFollowUps` workflow, or (responses from before it) one `victimFollowUp` child each.
 */
import { log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES, VICTIM_FOLLOW_UP_PRIORITY, victimFollowUpWorkflowId } from './definitions.js';
import type { ResponseContext } from './response-context.js';
import { victimFollowUp } from './victim-follow-up.js';
import { victimHandOver } from './victim-hand-over.js';

export interface ResponseVictims {
  /** One `victimFollowUp` child for the case, unless it is followed up already. */
  readonly followUpVictim: (caseId: string) => Promise<void>;
  /** Follows up the cases not followed yet, wherever this response follows them. */
  readonly followUpVictims: (caseIds: readonly string[]) => Promise<void>;
}

export function responseVictims(ctx: ResponseContext): ResponseVictims {
  const { incidentId, state, ledger, note, policy } = ctx;

  const followUpVictim = async (caseId: string) => {
    const following = ledger.followingUp(caseId);
    if (!following) return;
    note(following);
    try {
      await startChild(victimFollowUp, {
        workflowId: victimFollowUpWorkflowId(incidentId, caseId),
        priority: VICTIM_FOLLOW_UP_PRIORITY,
        args: [
          {
            incidentId,
            caseId,
            parentWorkflowId: ctx.self,
            tlp: state.incident?.tlp ?? 'RED',
            checkInDays: policy.victimCheckInDays,
          },
        ],
        // Victims are followed up after the incident closes.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.IncidentId, value: incidentId }],
      });
    } catch (error) {
      log.warn('victim follow-up not started', { caseId, error: String(error) });
    }
  };

  const handOverVictims = victimHandOver(state, () => ({
    incidentId,
    parentWorkflowId: ctx.self,
    tlp: state.incident?.tlp ?? 'RED',
    checkInDays: policy.victimCheckInDays,
    maxHistoryEvents: policy.maxHistoryEvents,
  }));

  const followUpVictims = async (caseIds: readonly string[]) => {
    if (!state.victimFollowUps) {
      await Promise.all(caseIds.map(followUpVictim));
      return;
    }
    const { fresh, note: following } = ledger.followingUpAll(caseIds);
    if (!following) return;
    note(following);
    await handOverVictims(fresh);
  };

  return { followUpVictim, followUpVictims };
}
