/**
 * Determinism under real timing: the saved histories were recorded against services that answer
 * at once, so local activities started together come back together. Here every service call
 * takes a random few milliseconds, so the response's local activities (triage's reads, timeline
 * flushes) come back in every order and in separate activations, as they do against the real
 * services under load; then every history is replayed. A response whose commands depend on
 * when a local activity came back fails the replay (the soak bench found one: a timeline flush
 * asked while another was out, which a replay did not ask).
 */
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NCISS_HIGH, timeSkippingEnvironment, waitFor } from '@beacon/testkit';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ResponseActivities } from '../src/activities/types.js';
import { bundleResponseWorkflows, createResponseWorker } from '../src/worker.js';
import {
  acknowledgedSignal,
  escalateUpdate,
  responseWorkflowId,
  statusQuery,
  type ResponseStatus,
} from '../src/workflows/definitions.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { agencyProfile, FakeServices } from './support/fake-services.js';
import { quietTemporal, TASK_QUEUE } from './support/time-skipping.js';

const RESPONSES = 24;

/** Every activity of `activities`, each call answered after 0–30 ms at random. */
function jittered(activities: ResponseActivities): ResponseActivities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, call]) => [
      name,
      async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
        return (call as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as ResponseActivities;
}

describe('responses against services that answer at their own pace', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  const fake = new FakeServices();
  const bundle = bundleResponseWorkflows();

  beforeAll(async () => {
    quietTemporal();
    env = await timeSkippingEnvironment();
    worker = await createResponseWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      activities: jittered(fake.activities()),
      bundle: await bundle,
    });
    running = worker.run();
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  it('replay as they ran: triage, engagements, clocks, victims, acknowledgements, escalations', async () => {
    fake.agencies = [agencyProfile('cert-bayern', 'csirt'), agencyProfile('lka-bayern', 'law-enforcement')];
    fake.victimCases = new Map();
    const now = await env.currentTimeMs();
    const ids = Array.from({ length: RESPONSES }, (_, i) => `inc_jitter${i}`);
    for (const [i, id] of ids.entries()) {
      // Intrusions at level 3 in a Bavarian energy operator: two agencies, NIS2 and CER clocks.
      fake.addIncident(
        { id, awareAtMs: now, rsitClass: 'intrusions', rsitType: 'system-compromise' },
        NCISS_HIGH,
      );
      for (let c = 0; c < i % 3; c++) {
        const caseId = `case-${i}-${c}`;
        fake.victimCases.set(caseId, { caseId, incidentId: id, urgency: 'routine' });
      }
    }
    const handles = await Promise.all(
      ids.map((incidentId) =>
        client.workflow.start<typeof incidentResponse>('incidentResponse', {
          taskQueue: TASK_QUEUE,
          workflowId: responseWorkflowId(incidentId),
          args: [{ incidentId }],
        }),
      ),
    );
    const notified = (s: ResponseStatus) =>
      s.phase === 'active' && s.agencies.length === 2 && s.agencies.every((a) => a.state === 'notified');
    for (const handle of handles) {
      await waitFor(
        async () => {
          if (!notified(await handle.query(statusQuery))) throw new Error('not yet');
        },
        { what: `${handle.workflowId} active, both agencies notified`, timeoutMs: 60_000, intervalMs: 100 },
      );
    }
    // Half the agencies acknowledge, the other half are escalated by a coordinator, all at once.
    await Promise.all(
      handles.map((handle, i) =>
        i % 2 === 0
          ? handle.signal(acknowledgedSignal, {
              agencyId: 'cert-bayern',
              via: 'feed',
              note: '',
              atMs: now,
            })
          : handle.executeUpdate(escalateUpdate, { args: [{ agencyId: 'lka-bayern' }] }),
      ),
    );
    for (const [i, handle] of handles.entries()) {
      await waitFor(
        async () => {
          const s = await handle.query(statusQuery);
          const done =
            i % 2 === 0
              ? s.agencies.find((a) => a.agencyId === 'cert-bayern')?.state === 'acknowledged'
              : s.agencies.find((a) => a.agencyId === 'lka-bayern')?.noticesSent === 2;
          if (!done) throw new Error('not yet');
        },
        { what: `${handle.workflowId} after its command`, timeoutMs: 60_000, intervalMs: 100 },
      );
    }

    const histories = await Promise.all(
      handles.map(async (handle) => ({
        workflowId: handle.workflowId,
        history: await handle.fetchHistory(),
      })),
    );
    const outcomes: [string, string][] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await bundle }, histories)) {
      outcomes.push([result.workflowId, result.error ? String(result.error).slice(0, 300) : 'ok']);
    }
    expect(outcomes).toEqual(histories.map(({ workflowId }) => [workflowId, 'ok']));
  }, 180_000);
});
