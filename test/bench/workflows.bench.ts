/**
 * Response orchestration on one Temporal dev server, in one run: a no-op workflow with one
 * activity (the baseline), then IncidentResponse, each started as fast as `CONCURRENCY` callers
 * can while their worker processes them. The response worker's activities are in-memory fakes
 * (two agencies to engage, no regime), so the figures are Temporal's and the workflows' cost,
 * not intake's or notify's. Reported per scenario:
 * - starts/s: start calls completed per second (the starter's rate), target ≥ 60 % of baseline;
 * - processed/s: workflows that reached their milestone (the no-op completed; the response
 *   triaged, active, both agencies notified) per second from the first start until the last did,
 *   target ≥ 40 % of baseline (issue 22).
 * Then the response worker's memory per cached workflow (its RSS growth over the workflows it
 * holds: responses and their engagements), target < 1.5 MB. Run with `pnpm bench workflows`;
 * BENCH_DURATION_MS sets each scenario's length (default 10 s).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { NCISS_LOW } from '@beacon/testkit/infra';
import { bundleResponseWorkflows, createResponseWorker, responseWorkflowId } from '@beacon/workflows';
import { publish, type Check, type Row } from './report.js';
import { fakeServices } from './response-fakes.js';
import { gc, temporalBench } from './temporal-bench.js';
import type { noopWorkflow } from './workflows/noop.js';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 10_000);
const CONCURRENCY = Number(process.env['WORKFLOWS_BENCH_CONCURRENCY'] ?? 8);
const TARGET_START_RATIO = 0.6;
/** Issue 22: full responses processed at least 40 % as fast as the no-op workflow. */
const TARGET_PROCESSED_RATIO = 0.4;
const TARGET_BYTES_PER_WORKFLOW = 1.5 * 1024 * 1024;

/**
 * `CONCURRENCY` callers start workflows back to back for `DURATION_MS`; the run ends when every
 * started workflow reached its milestone.
 */
async function scenario(
  name: string,
  /** Starts one workflow; resolves once started, with its milestone still to come. */
  start: (i: number) => Promise<{ readonly done: Promise<unknown> }>,
): Promise<{ row: Row; starts: number; startsPerSecond: number; processedPerSecond: number }> {
  let i = 0;
  let errors = 0;
  const milestones: Promise<unknown>[] = [];
  const began = performance.now();
  const until = began + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        try {
          milestones.push((await start(i++)).done);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const startSeconds = (performance.now() - began) / 1000;
  await Promise.all(milestones);
  const allSeconds = (performance.now() - began) / 1000;
  const starts = milestones.length;
  const startsPerSecond = starts / startSeconds;
  return {
    starts,
    startsPerSecond,
    processedPerSecond: starts / allSeconds,
    row: {
      name,
      opsPerSecond: startsPerSecond,
      note: `${starts} started${errors ? `, ${errors} failed` : ''}; processed ${(starts / allSeconds).toFixed(1)}/s (all done after ${allSeconds.toFixed(1)} s)`,
    },
  };
}

function rss(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

// A fresh server each run (or the user's, via TEMPORAL_ADDRESS); task queues of this run's own.
const bench = await temporalBench('workflows');
const { client, native, namespace } = bench;
const waiting = new Map<string, () => void>();
const run = Date.now().toString(36);
try {
  const noopWorker = await Worker.create({
    connection: native,
    namespace,
    taskQueue: `bench-noop-${run}`,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./workflows/noop.ts', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    }),
    activities: { noop: async () => {} },
  });
  const responseWorker = await createResponseWorker({
    connection: native,
    namespace,
    taskQueue: `bench-response-${run}`,
    activities: fakeServices({ inputs: NCISS_LOW, settled: (id) => waiting.get(id)?.() }),
    bundle: await bundleResponseWorkflows(),
    maxCachedWorkflows: 20_000,
  });
  const runs = [noopWorker.run(), responseWorker.run()];

  const baseline = await scenario('no-op workflow, one activity (baseline)', async (i) => {
    const handle = await client.workflow.start<typeof noopWorkflow>('noopWorkflow', {
      taskQueue: `bench-noop-${run}`,
      workflowId: `noop-${run}-${i}`,
    });
    return { done: handle.result() };
  });

  const rssBefore = rss();
  const cachedBefore = responseWorker.getStatus().numCachedWorkflows;
  const responses = await scenario('IncidentResponse (triage, 2 engagements)', async (i) => {
    const incidentId = `inc_bench${run}x${i}`;
    const active = new Promise<void>((resolve) => waiting.set(incidentId, resolve));
    await client.workflow.start('incidentResponse', {
      taskQueue: `bench-response-${run}`,
      workflowId: responseWorkflowId(incidentId),
      args: [{ incidentId }],
    });
    return { done: active };
  });
  const cached = responseWorker.getStatus().numCachedWorkflows - cachedBefore;
  const perWorkflow = (rss() - rssBefore) / Math.max(1, cached);

  const ratio = responses.startsPerSecond / baseline.startsPerSecond;
  const rows: Row[] = [
    baseline.row,
    responses.row,
    {
      name: 'response worker RSS per cached workflow',
      opsPerSecond: NaN,
      note: `${(perWorkflow / 1024).toFixed(0)} KiB over ${cached} cached workflows (${responses.starts} responses and their engagements)`,
    },
  ];
  const checks: Check[] = [
    {
      target: `IncidentResponse starts/s ≥ ${TARGET_START_RATIO * 100}% of the baseline's`,
      measured: `${responses.startsPerSecond.toFixed(1)} vs ${baseline.startsPerSecond.toFixed(1)} (${(ratio * 100).toFixed(0)}%)`,
      pass: ratio >= TARGET_START_RATIO,
    },
    {
      target: `IncidentResponse processed/s ≥ ${TARGET_PROCESSED_RATIO * 100}% of the baseline's`,
      measured: `${responses.processedPerSecond.toFixed(1)} vs ${baseline.processedPerSecond.toFixed(1)} (${((responses.processedPerSecond / baseline.processedPerSecond) * 100).toFixed(0)}%)`,
      pass: responses.processedPerSecond / baseline.processedPerSecond >= TARGET_PROCESSED_RATIO,
    },
    {
      target: 'worker memory per cached workflow < 1.5 MB',
      measured: `${(perWorkflow / 1024 / 1024).toFixed(3)} MB`,
      pass: perWorkflow < TARGET_BYTES_PER_WORKFLOW,
    },
  ];
  publish('workflows', rows, checks, join(fileURLToPath(new URL('.', import.meta.url)), 'results'));
  noopWorker.shutdown();
  responseWorker.shutdown();
  await Promise.all(runs);
} finally {
  await bench.close();
}
