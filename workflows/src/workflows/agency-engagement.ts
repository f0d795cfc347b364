import {
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acknowledgeSignal,
  engagementChangedSignal,
  escalateNowSignal,
  severityChangedSignal,
  type AgencyEngagementInput,
  type AgencyEngagementOutcome,
} from './definitions.js';
import { Engagement, initialProgress, type EngagementProgress } from './engagement-run.js';
import { signalQuietly } from './proxies.js';

/**
 * Since v2 every step after the first also publishes `response.engagement-escalated`, so
 * coordinators' tools see an escalation as it happens; engagements started before the change
 * (histories without this marker) carry on without those events.
 */
export const ESCALATION_EVENTS_PATCH = 'engagement-escalation-events';

/**
 * An engagement as its own workflow (`incident-<id>-agency-<agencyId>`), as responses started
 * before `inline-engagements` run them: the steps of `Engagement`, told by signals, reporting
 * each step to the response by signal, and handing its history to a new run between steps.
 */
export async function agencyEngagement(input: AgencyEngagementInput): Promise<AgencyEngagementOutcome> {
  const engagement = new Engagement(
    input,
    (input.resumed as EngagementProgress | undefined) ?? initialProgress(input),
  );
  setHandler(acknowledgeSignal, (ack) => engagement.acknowledge(ack));
  setHandler(escalateNowSignal, () => engagement.escalateNow());
  setHandler(severityChangedSignal, (change) => engagement.severityChanged(change));

  return engagement.run({
    resumesWaits: false,
    report: (change) =>
      signalQuietly(
        () =>
          getExternalWorkflowHandle(input.parentWorkflowId).signal(engagementChangedSignal, {
            agencyId: input.agencyId,
            noticesSent: engagement.progress.noticesSent,
            atMs: Date.now(),
            ...change,
          }),
        `response ${input.parentWorkflowId}`,
      ),
    escalationEvents: () => patched(ESCALATION_EVENTS_PATCH),
    betweenSteps: async (progress) => {
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof agencyEngagement>({ ...input, resumed: progress });
      }
    },
  });
}
