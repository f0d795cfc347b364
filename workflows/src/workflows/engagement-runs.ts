import {
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Tlp } from '@beacon/domain';
import type { ResponsePolicy } from '../domain/policy.js';
import { agencyEngagement } from './agency-engagement.js';
import {
  acknowledgeSignal,
  engagementWorkflowId,
  escalateNowSignal,
  SEARCH_ATTRIBUTES,
  severityChangedSignal,
  type AcknowledgementInput,
  type AgencyEngagementInput,
  type AgencyEngagementStatus,
  type EngagementChange,
  type TimelineEntry,
} from './definitions.js';
import { acknowledgedFields } from './engagement-visibility.js';
import { Engagement, initialProgress, type EngagementProgress } from './engagement-run.js';

/**
 * Responses from here on run their engagements inside themselves (`ResponseState.inline`):
 * no workflow, history or signals of their own per agency, only the response's timers and the
 * activities. Responses from before keep their `agencyEngagement` children.
 */
export const INLINE_ENGAGEMENTS_PATCH = 'inline-engagements';

/** An engagement running inside its response, as a run hands it to the next. */
export interface InlineEngagementState {
  readonly input: Omit<AgencyEngagementInput, 'policy' | 'resumed'>;
  readonly progress: EngagementProgress;
}

/**
 * The response's engagements, wherever they run. Each call makes its command (if any) as it is
 * made, so histories recorded with the children's calls written out in the response replay.
 */
export interface EngagementRuns {
  start(input: Omit<AgencyEngagementInput, 'policy' | 'resumed'>): Promise<unknown>;
  acknowledge(agencyId: string, ack: AcknowledgementInput): Promise<void>;
  escalateNow(agencyId: string): Promise<void>;
  severityChanged(agencyId: string, change: { ncissLevel: number; tlp?: Tlp }): Promise<void>;
  /** Ends an engagement (it reports itself removed). */
  cancel(agencyId: string): Promise<void>;
  /** No engagement is in a call: the response may hand them all to a new run. */
  quiet(): boolean;
}

/** One `agencyEngagement` child per agency, reached by workflow id (before `inline-engagements`). */
export function childEngagements(incidentId: string, policy: ResponsePolicy): EngagementRuns {
  const handle = (agencyId: string) => getExternalWorkflowHandle(engagementWorkflowId(incidentId, agencyId));
  return {
    start: (input) =>
      startChild(agencyEngagement, {
        workflowId: engagementWorkflowId(incidentId, input.agencyId),
        args: [{ ...input, policy }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A removed agency may be engaged again later under the same id.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.IncidentId, value: incidentId },
          { key: SEARCH_ATTRIBUTES.Tlp, value: input.tlp },
        ],
      }),
    acknowledge: (agencyId, ack) => handle(agencyId).signal(acknowledgeSignal, ack),
    escalateNow: (agencyId) => handle(agencyId).signal(escalateNowSignal),
    severityChanged: (agencyId, change) => handle(agencyId).signal(severityChangedSignal, change),
    cancel: (agencyId) => handle(agencyId).cancel(),
    quiet: () => true,
  };
}

/**
 * Engagements inside the response: each one's steps in a cancellation scope of its own, its
 * reports applied to the response's state at once, its progress in `records` (the response's
 * state), so a new run resumes each where it waits.
 */
export function inlineEngagements(options: {
  readonly policy: ResponsePolicy;
  readonly records: Record<string, InlineEngagementState>;
  /** Applies an engagement's change to the response (what a child's signal did). */
  readonly apply: (change: EngagementChange) => void;
  /** An engagement failed for another reason than its removal; it no longer runs. */
  readonly failed: (agencyId: string, error: unknown) => void;
}): EngagementRuns {
  const { policy, records } = options;
  const running = new Map<string, { engagement: Engagement; scope: CancellationScope }>();

  const launch = (agencyId: string) => {
    const record = records[agencyId]!;
    const engagement = new Engagement({ ...record.input, policy }, record.progress);
    const scope = new CancellationScope();
    running.set(agencyId, { engagement, scope });
    const ended = () => {
      if (running.get(agencyId)?.engagement !== engagement) return;
      running.delete(agencyId);
      delete records[agencyId];
    };
    scope
      .run(() =>
        engagement.run({
          resumesWaits: true,
          escalationEvents: () => true,
          report: async (change) => {
            // An engagement ended and started again: only the one running now speaks.
            if (running.get(agencyId)?.engagement !== engagement) return;
            options.apply({
              agencyId,
              noticesSent: engagement.progress.noticesSent,
              atMs: Date.now(),
              ...change,
            });
          },
        }),
      )
      .then(ended, (error: unknown) => {
        ended();
        if (isCancellation(error)) return;
        log.error('engagement failed', { agencyId, error: String(error) });
        options.failed(agencyId, error);
      });
  };
  const deliver = (
    agencyId: string,
    act: (found: { engagement: Engagement; scope: CancellationScope }) => void,
  ): Promise<void> => {
    const found = running.get(agencyId);
    if (!found) return Promise.reject(new Error(`no engagement of ${agencyId} runs`));
    act(found);
    return Promise.resolve();
  };

  // Engagements a previous run handed over carry on where they were.
  for (const agencyId of Object.keys(records)) launch(agencyId);

  return {
    start: (input) => {
      records[input.agencyId] = { input, progress: initialProgress({ ...input, policy }) };
      launch(input.agencyId);
      return Promise.resolve();
    },
    acknowledge: (agencyId, ack) => deliver(agencyId, ({ engagement }) => engagement.acknowledge(ack)),
    escalateNow: (agencyId) => deliver(agencyId, ({ engagement }) => engagement.escalateNow()),
    severityChanged: (agencyId, change) =>
      deliver(agencyId, ({ engagement }) => engagement.severityChanged(change)),
    cancel: (agencyId) =>
      deliver(agencyId, ({ scope }) => {
        // The response records the removal itself; the engagement's own report is not needed.
        running.delete(agencyId);
        delete records[agencyId];
        scope.cancel();
      }),
    quiet: () => [...running.values()].every(({ engagement }) => engagement.waiting),
  };
}

/**
 * Applies an engagement's change to the response's view of it, with its timeline entry; a
 * change after the engagement ended (acknowledged, removed) changes nothing.
 */
export function applyEngagementChange(
  agencies: Record<string, AgencyEngagementStatus>,
  change: EngagementChange,
  note: (entry: Omit<TimelineEntry, 'atMs'>) => void,
): void {
  const agency = agencies[change.agencyId];
  if (!agency) return;
  if (agency.state === 'acknowledged' || agency.state === 'removed') return;
  const next: AgencyEngagementStatus = {
    ...agency,
    state: change.state,
    noticesSent: change.noticesSent,
    ...(change.step
      ? {
          contactRank: change.step.contactRank,
          role: change.step.role,
          notifiedAgencyId: change.step.agencyId,
          notifiedAtMs: change.notifiedAtMs ?? change.atMs,
        }
      : {}),
    ...(change.round === undefined ? {} : { round: change.round }),
    ...(change.acknowledgement ? acknowledgedFields(change.acknowledgement) : {}),
    ...(change.timeToAcknowledgeMs === undefined ? {} : { timeToAcknowledgeMs: change.timeToAcknowledgeMs }),
  };
  agencies[change.agencyId] = next;
  switch (change.state) {
    case 'notified': {
      const step = change.step!;
      const escalated = (change.round ?? 1) > 1 || step.contactRank > 0 || step.agencyId !== change.agencyId;
      note({
        kind: escalated ? 'escalated' : 'notified',
        agencyId: change.agencyId,
        detail:
          `${escalated ? 'escalated to' : 'notified'} ${step.role} (rank ${step.contactRank})` +
          (step.agencyId === change.agencyId ? '' : ` of ${step.agencyId}`) +
          `, round ${change.round ?? 1}`,
      });
      break;
    }
    case 'acknowledged':
      note({
        kind: 'acknowledged',
        agencyId: change.agencyId,
        detail: `acknowledged via ${change.acknowledgement?.via ?? '?'} after ${Math.round((change.timeToAcknowledgeMs ?? 0) / 1000)} s`,
      });
      break;
    case 'unacknowledged':
      note({
        kind: 'unacknowledged',
        agencyId: change.agencyId,
        detail: 'nobody acknowledged after the whole chain',
      });
      break;
    case 'removed':
      note({ kind: 'removed', agencyId: change.agencyId, detail: 'engagement ended' });
      break;
  }
}
