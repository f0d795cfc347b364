import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { expect } from 'vitest';
import { timeSkippingEnvironment, waitFor } from '@beacon/testkit';
import { bundleResponseWorkflows, createResponseWorker } from '../../src/worker.js';
import { statusQuery, type ResponseStatus } from '../../src/workflows/definitions.js';
import type { incidentResponse } from '../../src/workflows/index.js';
import { FakeServices } from './fake-services.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const TASK_QUEUE = 'response-test';

/** NCISS level 1 (Low) and 3 (High), as every test gives them. */
export { NCISS_HIGH as HIGH, NCISS_LOW as LOW } from '@beacon/testkit';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

/**
 * The time-skipping server with a response worker over fake services, running in the
 * background. `client` is a plain client: workflow time moves only when a test calls
 * `env.sleep` (the environment's own client also skips time while awaiting a result, which
 * across continue-as-new left time skipping locked for the tests after it).
 */
export interface Harness {
  readonly env: TestWorkflowEnvironment;
  readonly client: Client;
  readonly fake: FakeServices;
  readonly worker: Worker;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  quietTemporal();
  const env = await timeSkippingEnvironment();
  try {
    const fake = new FakeServices();
    const worker = await createResponseWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      activities: fake.activities(),
      bundle: await bundleResponseWorkflows(),
    });
    const running = worker.run();
    return {
      env,
      client: new Client({ connection: env.connection, namespace: env.namespace ?? 'default' }),
      fake,
      worker,
      stop: async () => {
        worker.shutdown();
        await running;
        await env.teardown();
      },
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}

/** Waits (in real time; workflow time stands still) until the response's status passes `check`. */
export function statusWhen(
  handle: WorkflowHandle<typeof incidentResponse>,
  check: (status: ResponseStatus) => boolean,
  what: string,
): Promise<ResponseStatus> {
  return waitFor(
    async () => {
      const status = await handle.query(statusQuery);
      if (!check(status)) throw new Error(`not yet: phase ${status.phase}`);
      return status;
    },
    { what, timeoutMs: 20_000, intervalMs: 50 },
  );
}

/**
 * The outcome of a response that has continued as new, once its last run has closed. The
 * time-skipping server can miss waking a result long-poll when the latest run closes just as it
 * is registered (seen under load: the run COMPLETED, `result()` never returned), so this waits
 * for the close through `describe` and only then reads the result, which no longer blocks.
 */
export async function outcomeAcrossRuns<W extends Workflow = typeof incidentResponse>(
  handle: WorkflowHandle<W>,
): Promise<WorkflowResultType<W>> {
  await waitFor(
    async () => {
      const { status } = await handle.describe();
      if (status.name === 'RUNNING') throw new Error('still running');
    },
    { what: `${handle.workflowId} closed`, timeoutMs: 20_000, intervalMs: 50 },
  );
  return handle.result();
}

/** The update's rejection message (validator or handler), for asserting on the reason. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((error as WorkflowUpdateFailedError).cause?.message);
}

/** Waits until `read` returns something truthy. */
export function eventually<T>(read: () => T | undefined | false, what: string): Promise<T> {
  return waitFor(
    async () => {
      const value = read();
      if (!value) throw new Error('not yet');
      return value;
    },
    { what, timeoutMs: 20_000, intervalMs: 50 },
  );
}

/**
 * With RECORD_HISTORIES=<tag> (e.g. `v1`), saves each named workflow's history under
 * `test/histories/<tag>/<scenario>/` for the replay test: record with the workflow code that
 * later changes must stay compatible with, and commit the files.
 */
export async function saveHistories(
  env: TestWorkflowEnvironment,
  scenario: string,
  workflows: readonly (string | { readonly workflowId: string; readonly runId: string })[],
) {
  const tag = process.env['RECORD_HISTORIES'];
  if (!tag) return;
  if (!/^[a-z0-9-]+$/.test(tag)) throw new Error('RECORD_HISTORIES must be a tag like v1');
  const dir = join(HISTORIES_DIR, tag, scenario);
  mkdirSync(dir, { recursive: true });
  for (const workflow of workflows) {
    const { workflowId, runId } =
      typeof workflow === 'string' ? { workflowId: workflow, runId: undefined } : workflow;
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const name = runId === undefined ? workflowId : `${workflowId}-run-${runId.slice(0, 8)}`;
    writeFileSync(join(dir, `${name}.json`), `${historyToJSON(history)}\n`);
  }
}

/** Temporal's runtime logs errors only in tests (once per process): expected activity failures are not noise. */
export function quietTemporal(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by an earlier suite in this process.
  }
}
