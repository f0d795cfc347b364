// Workflows that prove the Temporal set-up works; bundled by the worker in the tests.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { SmokeActivities } from './smoke-activities.js';

const IncidentStatus = defineSearchAttributeKey('IncidentStatus', SearchAttributeType.KEYWORD);
const NcissLevel = defineSearchAttributeKey('NcissLevel', SearchAttributeType.INT);

const { describeIncident } = proxyActivities<SmokeActivities>({ startToCloseTimeout: '10 seconds' });

/** Runs one activity and records its outcome in search attributes the UI can filter on. */
export async function triageSmoke(incidentId: string): Promise<string> {
  const summary = await describeIncident(incidentId);
  upsertSearchAttributes([
    { key: IncidentStatus, value: 'triage' },
    { key: NcissLevel, value: 3 },
  ]);
  return summary;
}

/** Sleeps thirty days of workflow time; returns how much workflow time passed, in ms. */
export async function thirtyDayTimer(): Promise<number> {
  const start = Date.now();
  await sleep('30 days');
  return Date.now() - start;
}
