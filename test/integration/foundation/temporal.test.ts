import { fileURLToPath } from 'node:url';
import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { describe, expect } from 'vitest';
import { test, timeSkippingEnvironment, waitFor } from '@beacon/testkit';
import { createSmokeActivities } from './workflows/smoke-activities.js';
import type { thirtyDayTimer, triageSmoke } from './workflows/smoke.js';

const workflowsPath = fileURLToPath(new URL('./workflows/smoke.ts', import.meta.url));
const IncidentId = defineSearchAttributeKey('IncidentId', SearchAttributeType.KEYWORD);

describe('Temporal', () => {
  test('a workflow runs its activity on a real worker and is listed by its search attributes', async ({
    infra,
    temporal,
    names,
  }) => {
    const incidentId = `inc-${names.id}`;
    const connection = await NativeConnection.connect({ address: infra.temporalAddress });
    try {
      const worker = await Worker.create({
        connection,
        namespace: infra.temporalNamespace,
        taskQueue: names.taskQueue(),
        workflowsPath,
        activities: createSmokeActivities({ worker: 'smoke-worker' }),
      });
      const result = await worker.runUntil(
        temporal.workflow.execute<typeof triageSmoke>('triageSmoke', {
          args: [incidentId],
          taskQueue: names.taskQueue(),
          workflowId: `incident-${incidentId}`,
          typedSearchAttributes: new TypedSearchAttributes([{ key: IncidentId, value: incidentId }]),
        }),
      );
      expect(result).toBe(`incident ${incidentId} handled by smoke-worker`);
    } finally {
      await connection.close();
    }

    // Visibility is updated asynchronously after the workflow closes: wait until it shows.
    const listed = await waitFor(
      async () => {
        const found = [];
        for await (const wf of temporal.workflow.list({
          query: `IncidentId = '${incidentId}' AND IncidentStatus = 'triage' AND NcissLevel = 3`,
        })) {
          found.push(wf);
        }
        if (found.length === 0) throw new Error('not listed yet');
        return found;
      },
      { what: 'workflow in the visibility store', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(listed.map((wf) => [wf.workflowId, wf.status.name])).toEqual([
      [`incident-${incidentId}`, 'COMPLETED'],
    ]);
    expect(listed[0]!.typedSearchAttributes.get(IncidentId)).toBe(incidentId);
  });

  test('a 30-day timer completes in seconds on the time-skipping server', async () => {
    const env = await timeSkippingEnvironment();
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'time-skipping',
        workflowsPath,
        activities: createSmokeActivities({ worker: 'unused' }),
      });
      const wallStart = performance.now();
      const workflowElapsedMs = await worker.runUntil(
        env.client.workflow.execute<typeof thirtyDayTimer>('thirtyDayTimer', {
          taskQueue: 'time-skipping',
          workflowId: 'timer-30d',
        }),
      );
      expect(workflowElapsedMs).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000);
      // Proof that time was skipped rather than waited: far less than a minute passed here.
      expect(performance.now() - wallStart).toBeLessThan(30_000);
    } finally {
      await env.teardown();
    }
  });
});
