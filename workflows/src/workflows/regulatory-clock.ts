import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  draftReport,
  scheduleObligations,
  type ObligationId,
  type ScheduledObligation,
} from '@beacon/domain';
import { alarmsDue, type AlarmPolicy } from '../domain/alarms.js';
import {
  clockAlarmSignal,
  clockFactsSignal,
  clockHandedOverSignal,
  incidentResolvedSignal,
  reportFiledSignal,
  type ClockFactsInput,
  type RegulatoryClockInput,
  type RegulatoryClockOutcome,
} from './definitions.js';
import { events, signalQuietly } from './proxies.js';

interface ClockProgress {
  facts: ClockFactsInput;
  filed: Partial<Record<ObligationId, number>>;
  resolvedAtMs?: number;
  /** Keys of alarms raised or superseded. */
  raised: string[];
  alarmsRaised: number;
  /** The survivor of a merge of this incident: its clocks count from here on. */
  handedOverTo?: string;
}

/**
 * One regime's reporting deadlines for one incident (`incident-<id>-clock-<regime>`), counted
 * from when the affected entity became aware. Before each deadline it sends reminders, when one
 * passes unfiled it raises an overdue alarm and then escalates at the policy's interval, each
 * time with a draft of the report; it tells the response of every alarm. Deadlines move as
 * reports are filed, the incident is resolved and its awareness time or label moves (a merge);
 * the clock ends when every report is filed, or when the incident was merged into another.
 */
export async function regulatoryClock(input: RegulatoryClockInput): Promise<RegulatoryClockOutcome> {
  const { regime, incidentId } = input;
  const progress: ClockProgress = (input.resumed as ClockProgress | undefined) ?? {
    facts: {
      obligations: input.obligations,
      draftFacts: input.draftFacts,
      ransomPaidAtMs: input.ransomPaidAtMs,
      ...(input.ransomPaymentsAtMs === undefined ? {} : { ransomPaymentsAtMs: input.ransomPaymentsAtMs }),
    },
    filed: {},
    raised: [],
    alarmsRaised: 0,
  };
  const alarmPolicy: AlarmPolicy = {
    escalateEveryMs: input.policy.clocks.escalateEveryHours * 3_600_000,
    maxEscalations: input.policy.clocks.maxEscalations,
  };
  let changes = 0;

  setHandler(reportFiledSignal, ({ obligation, filedAtMs }) => {
    progress.filed[obligation] ??= filedAtMs;
    changes += 1;
  });
  setHandler(incidentResolvedSignal, ({ resolvedAtMs }) => {
    progress.resolvedAtMs ??= resolvedAtMs;
    changes += 1;
  });
  setHandler(clockFactsSignal, (facts) => {
    progress.facts = facts;
    changes += 1;
  });
  setHandler(clockHandedOverSignal, ({ survivorId }) => {
    progress.handedOverTo ??= survivorId;
    changes += 1;
  });
  // Facts from before merges existed carry neither: the start's awareness time and label stand.
  const awareAtMs = () => progress.facts.awareAtMs ?? input.awareAtMs;
  const tlp = () => progress.facts.tlp ?? input.tlp;

  const schedule = (): ScheduledObligation[] =>
    scheduleObligations(progress.facts.obligations, {
      awareAtMs: awareAtMs(),
      filedAtMs: progress.filed,
      ...(progress.resolvedAtMs === undefined ? {} : { resolvedAtMs: progress.resolvedAtMs }),
      ...(progress.facts.ransomPaidAtMs === undefined
        ? {}
        : { ransomPaidAtMs: progress.facts.ransomPaidAtMs }),
      // Each later ransom payment's report too (facts from before there could be several have none).
      ...(progress.facts.ransomPaymentsAtMs === undefined
        ? {}
        : { ransomPaymentsAtMs: progress.facts.ransomPaymentsAtMs }),
    });

  for (;;) {
    if (progress.handedOverTo !== undefined) break;
    if (progress.facts.withdrawn) {
      // Nothing is owed while the regime does not apply; a resolved incident will not change.
      if (progress.resolvedAtMs !== undefined) break;
      const seen = changes;
      await condition(() => changes !== seen);
      continue;
    }
    const obligations = schedule();
    const open = obligations.filter((o) => progress.filed[o.id] === undefined);
    if (open.length === 0) break;
    const raised = new Set(progress.raised);
    const plan = alarmsDue(
      open.filter((o) => o.dueAtMs !== undefined),
      raised,
      Date.now(),
      alarmPolicy,
    );
    for (const alarm of plan.skip) progress.raised.push(alarm.key);
    for (const alarm of plan.fire) {
      await events.publishResponseEvent({
        type: alarm.kind === 'reminder' ? 'report-due' : 'report-overdue',
        incidentId,
        tlp: tlp(),
        regime,
        obligation: alarm.obligation,
        dueAtMs: alarm.dueAtMs,
        escalationLevel: alarm.level,
        draft: draftReport(alarm.obligation, {
          ...progress.facts.draftFacts,
          ...(progress.resolvedAtMs === undefined ? {} : { resolvedAtMs: progress.resolvedAtMs }),
        }),
        atMs: Date.now(),
      });
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(input.parentWorkflowId).signal(clockAlarmSignal, {
            regime,
            obligation: alarm.obligation,
            kind: alarm.kind,
            level: alarm.level,
            dueAtMs: alarm.dueAtMs,
            atMs: Date.now(),
          }),
        `response ${input.parentWorkflowId}`,
      );
      progress.raised.push(alarm.key);
      progress.alarmsRaised += 1;
    }
    if (plan.fire.length > 0) continue;

    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof regulatoryClock>({ ...input, resumed: progress });
    }
    const seen = changes;
    const wake = plan.nextAtMs === undefined ? undefined : Math.max(1, plan.nextAtMs - Date.now());
    if (wake === undefined) await condition(() => changes !== seen);
    else await condition(() => changes !== seen, wake);
  }
  return {
    regime,
    filed: { ...progress.filed },
    alarmsRaised: progress.alarmsRaised,
    ...(progress.handedOverTo === undefined ? {} : { handedOverTo: progress.handedOverTo }),
    ...(progress.facts.withdrawn ? { withdrawn: true } : {}),
  };
}
