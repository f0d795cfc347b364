/**
 * What Temporal does per incident in the pipeline bench: for a sample of the incidents a phase
 * opened, every workflow of the incident (its response, engagements, clocks, victim follow-ups:
 * all carry its `IncidentId`) and their histories, summed by workflow type: runs, workflow
 * tasks (each a round trip between the server and the worker, and a write of history), activity
 * tasks, local activities, signals, timers and visibility writes (search attributes and memo).
 */
import { Connection, Client } from '@temporalio/client';

export interface TemporalProfile {
  readonly incidents: number;
  /** Per incident, by workflow type, then all together (`all`). */
  readonly perIncident: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** What is counted, by the attributes an event of that kind carries. */
const COUNTED: Readonly<Record<string, string>> = {
  workflowExecutionStartedEventAttributes: 'runs',
  workflowTaskCompletedEventAttributes: 'workflow tasks',
  activityTaskScheduledEventAttributes: 'activities',
  markerRecordedEventAttributes: 'markers',
  workflowExecutionSignaledEventAttributes: 'signals in',
  signalExternalWorkflowExecutionInitiatedEventAttributes: 'signals out',
  timerStartedEventAttributes: 'timers',
  startChildWorkflowExecutionInitiatedEventAttributes: 'children',
  upsertWorkflowSearchAttributesEventAttributes: 'visibility writes',
  workflowPropertiesModifiedEventAttributes: 'visibility writes',
};

/**
 * How many engagements of the responses started since `sinceMs` still wait for an
 * acknowledgement: those inside a response, from the engagements memo each running response
 * keeps in Visibility (what agencies' lists are read from), and those running as workflows of
 * their own (responses from before `inline-engagements`).
 */
export async function waitingEngagements(
  address: string,
  namespace: string,
  sinceMs: number,
): Promise<number> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const since = new Date(sinceMs).toISOString();
    let waiting = (
      await client.workflow.count(
        `WorkflowType = 'agencyEngagement' AND ExecutionStatus = 'Running' AND StartTime >= '${since}'`,
      )
    ).count;
    for await (const response of client.workflow.list({
      query: `WorkflowType = 'incidentResponse' AND ExecutionStatus = 'Running' AND StartTime >= '${since}'`,
    })) {
      const memo = response.memo?.['engagements'] as { agencies?: { state: string }[] } | undefined;
      waiting += (memo?.agencies ?? []).filter(
        (a) => a.state === 'engaging' || a.state === 'notified',
      ).length;
    }
    return waiting;
  } finally {
    await connection.close();
  }
}

/** The profile of up to `sample` of `incidentIds` (spread over the list). */
export async function profileIncidents(
  address: string,
  namespace: string,
  incidentIds: readonly string[],
  sample = 20,
): Promise<TemporalProfile> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const step = Math.max(1, Math.floor(incidentIds.length / sample));
    const chosen = incidentIds.filter((_, i) => i % step === 0).slice(0, sample);
    const totals: Record<string, Record<string, number>> = { all: { events: 0 } };
    for (const incidentId of chosen) {
      for await (const execution of client.workflow.list({ query: `IncidentId = '${incidentId}'` })) {
        const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
        const byType = (totals[execution.type] ??= { events: 0 });
        for (const event of history.events ?? []) {
          const attributes = Object.keys(COUNTED).find(
            (key) => (event as Record<string, unknown>)[key] != null,
          );
          const name = attributes && COUNTED[attributes];
          byType['events'] = (byType['events'] ?? 0) + 1;
          totals['all']!['events'] = (totals['all']!['events'] ?? 0) + 1;
          if (!name) continue;
          byType[name] = (byType[name] ?? 0) + 1;
          totals['all']![name] = (totals['all']![name] ?? 0) + 1;
        }
      }
    }
    const per = Math.max(1, chosen.length);
    const perIncident = Object.fromEntries(
      Object.entries(totals).map(([type, counts]) => [
        type,
        Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round((v / per) * 10) / 10])),
      ]),
    );
    return { incidents: chosen.length, perIncident };
  } finally {
    await connection.close();
  }
}

/** The profile as lines: one per workflow type, `all` last. */
export function profileLines(profile: TemporalProfile): string {
  const types = Object.keys(profile.perIncident).sort((a, b) =>
    a === 'all' ? 1 : b === 'all' ? -1 : a.localeCompare(b),
  );
  return types
    .map((type) => {
      const counts = profile.perIncident[type]!;
      const parts = Object.entries(counts).map(([k, v]) => `${k} ${v}`);
      return `  ${type.padEnd(18)} ${parts.join(', ')}`;
    })
    .join('\n');
}
