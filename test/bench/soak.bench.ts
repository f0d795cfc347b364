/**
 * Soak: `SOAK_RESPONSES` (5,000) open responses, each with its two engagements and its NIS2 and
 * CER clocks, held for `SOAK_MINUTES` (20) of wall time on one Temporal dev server, with the
 * response worker in this process over the in-memory services of the workflows bench (so what is
 * measured is Temporal and the workflows). Nobody acknowledges: every engagement moves to its
 * next contact each `SOAK_WAIT_MINUTES` (20), and each response hands its history to a new run
 * at `SOAK_MAX_HISTORY` events (150, low on purpose: runs hand over mid-wait all through the
 * soak). Awareness is set so that each clock's first reminder (12 h before its 24 h deadline)
 * falls at a random moment of the soak.
 *
 * Measured: every timer that should have fired did (engagement waits: a notice per wait;
 * clocks: each first reminder), and how late (from when it was due to when the service was
 * called); the worker process's memory and CPU and the Temporal server's CPU, sampled every
 * 30 s, first third against last third of the soak; and the histories of 100 responses (length
 * of the current run, runs so far). Run with `pnpm bench soak`.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreSeverity } from '@beacon/domain';
import { NCISS_HIGH } from '@beacon/testkit/infra';
import {
  bundleResponseWorkflows,
  createResponseWorker,
  DEFAULT_POLICY,
  responseWorkflowId,
  type ResponsePolicy,
} from '@beacon/workflows';
import { processCpuSeconds } from './measure.js';
import { percentile } from './phases.js';
import { publish, type Check, type Row } from './report.js';
import { BENCH_AGENCIES, fakeServices } from './response-fakes.js';
import { gc, temporalBench } from './temporal-bench.js';

const number = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a number > 0, not ${process.env[name]}`);
  return value;
};
const RESPONSES = number('SOAK_RESPONSES', 5_000);
const SOAK_MS = number('SOAK_MINUTES', 20) * 60_000;
const WAIT_MINUTES = number('SOAK_WAIT_MINUTES', 20);
/** Workflows the worker keeps between tasks; unset, the SDK's default, as the service runs. */
const CACHED = process.env['SOAK_CACHED'] ? number('SOAK_CACHED', 0) : undefined;
const MAX_HISTORY = number('SOAK_MAX_HISTORY', 150);
const CONCURRENCY = 8;
const SAMPLE_MS = 30_000;
const HOUR = 3_600_000;
/** A timer is missed when what it should have set off has not happened this long after. */
const GRACE_MS = 60_000;

/** NCISS level 3 in an EU energy operator: NIS2 and CER apply, a CSIRT and the police engaged. */
const HIGH = NCISS_HIGH;
const level = scoreSeverity(HIGH).level;
const policy: ResponsePolicy = {
  ...DEFAULT_POLICY,
  engagement: { ackTimeoutMinutes: [0, 0, 0, 0, 0, 0].map(() => WAIT_MINUTES) as never, rounds: 1_000 },
  maxHistoryEvents: MAX_HISTORY,
};

// ---- what the fake services see -------------------------------------------------------------
const benchStarted = Date.now();
/** When each incident's first reminders are due: spread over the start-up and the soak. */
const reminderDue = new Map<string, number>();
const settled = new Set<string>();
/** Per engagement (incident/agency): when the notice now waited on said it waits until. */
const waitingUntil = new Map<string, number>();
const lateness = { escalations: [] as number[], reminders: [] as number[] };
let soakStartedMs = Number.POSITIVE_INFINITY;
const inSoak = (dueMs: number) => dueMs >= soakStartedMs;
const soakLateness = { escalations: [] as number[], reminders: [] as number[] };
const remindersSeen = new Set<string>();

const activities = fakeServices({
  inputs: HIGH,
  awareAtMs: (incidentId) => {
    // Start-up takes about a second per five responses on two CPUs.
    const due = benchStarted + Math.random() * (RESPONSES / 5) * 1_000 + Math.random() * SOAK_MS;
    reminderDue.set(incidentId, due);
    return due - 12 * HOUR;
  },
  settled: (incidentId) => settled.add(incidentId),
  noticed: (request, atMs) => {
    const key = `${request.incidentId}/${request.regardingAgencyId}`;
    const previous = waitingUntil.get(key);
    if (previous !== undefined) {
      lateness.escalations.push(atMs - previous);
      if (inSoak(previous)) soakLateness.escalations.push(atMs - previous);
    }
    waitingUntil.set(key, request.acknowledgeByMs);
  },
  published: (event, atMs) => {
    if (event.type !== 'report-due') return;
    // The first reminder of a 24 h deadline, 12 h before it (the 2 h one comes long after).
    const dueMs = event.dueAtMs - 12 * HOUR;
    if (Math.abs(atMs - dueMs) > HOUR) return;
    const key = `${event.incidentId}/${event.obligation}`;
    if (remindersSeen.has(key)) return;
    remindersSeen.add(key);
    lateness.reminders.push(atMs - dueMs);
    if (inSoak(dueMs)) soakLateness.reminders.push(atMs - dueMs);
  },
});

// ---- the stack and the worker --------------------------------------------------------------
const bench = await temporalBench('soak');
const { client, native, namespace, stack } = bench;
const taskQueue = `soak-${Date.now()}`;
const worker = await createResponseWorker({
  connection: native,
  namespace,
  taskQueue,
  activities,
  bundle: await bundleResponseWorkflows(),
  ...(CACHED === undefined ? {} : { maxCachedWorkflows: CACHED }),
});
const running = worker.run();

console.log(
  `soak: ${RESPONSES} responses (NCISS level ${level}, ${BENCH_AGENCIES.length} engagements, NIS2 and CER clocks each), ` +
    `${SOAK_MS / 60_000} min, a wait of ${WAIT_MINUTES} min per contact, continue-as-new at ${MAX_HISTORY} events`,
);

// ---- start-up: every response open and waiting for people -------------------------------------
const startupBegan = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < RESPONSES) {
      const incidentId = `inc_soak${taskQueue.slice(5)}x${next++}`;
      await client.workflow.start('incidentResponse', {
        taskQueue,
        workflowId: responseWorkflowId(incidentId),
        args: [{ incidentId, policy }],
      });
    }
  }),
);
while (settled.size < RESPONSES) await new Promise((resolve) => setTimeout(resolve, 1_000));
const startupSeconds = (performance.now() - startupBegan) / 1000;
console.log(`all ${RESPONSES} responses waiting after ${startupSeconds.toFixed(0)} s; soaking`);

// ---- the soak --------------------------------------------------------------------------------
interface Sample {
  readonly atMs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly workerCpuS: number;
  readonly temporalCpuS: number;
  readonly cached: number;
}
const temporalPid = stack.processes.temporal?.pid;
const sample = (): Sample => {
  gc();
  const cpu = process.cpuUsage();
  return {
    atMs: Date.now(),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    workerCpuS: (cpu.user + cpu.system) / 1e6,
    temporalCpuS: temporalPid === undefined ? Number.NaN : processCpuSeconds(temporalPid),
    cached: worker.getStatus().numCachedWorkflows,
  };
};
soakStartedMs = Date.now();
const samples: Sample[] = [sample()];
while (Date.now() - soakStartedMs < SOAK_MS) {
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  samples.push(sample());
  const s = samples.at(-1)!;
  console.log(
    `  ${((s.atMs - soakStartedMs) / 60_000).toFixed(1)} min: rss ${s.rssMb.toFixed(0)} MB, heap ${s.heapMb.toFixed(0)} MB, ` +
      `cached ${s.cached}, escalations ${lateness.escalations.length}, reminders ${lateness.reminders.length}`,
  );
}
const soakEndedMs = Date.now();

// ---- what should have fired ------------------------------------------------------------------
const dueBefore = soakEndedMs - GRACE_MS;
const missedEscalations = [...waitingUntil.values()].filter((until) => until < dueBefore).length;
let missedReminders = 0;
for (const [incidentId, due] of reminderDue) {
  if (due >= dueBefore) continue;
  for (const obligation of ['nis2-early-warning', 'cer-initial-notification'])
    if (!remindersSeen.has(`${incidentId}/${obligation}`)) missedReminders += 1;
}

// ---- histories -------------------------------------------------------------------------------
const histories: { events: number; runs: number }[] = [];
for (let i = 0; i < RESPONSES; i += Math.max(1, Math.floor(RESPONSES / 100))) {
  const workflowId = responseWorkflowId(`inc_soak${taskQueue.slice(5)}x${i}`);
  const { historyLength } = await client.workflow.getHandle(workflowId).describe();
  const { count } = await client.workflow.count(`WorkflowId = '${workflowId}'`);
  histories.push({ events: historyLength, runs: count });
}

// ---- report ----------------------------------------------------------------------------------
const third = Math.max(1, Math.floor((samples.length - 1) / 3));
const first = samples.slice(0, third + 1);
const last = samples.slice(-third - 1);
const perMinute = (part: Sample[], field: 'workerCpuS' | 'temporalCpuS') =>
  (part.at(-1)![field] - part[0]![field]) / ((part.at(-1)!.atMs - part[0]!.atMs) / 60_000);
const mean = (part: Sample[], field: 'rssMb' | 'heapMb') =>
  part.reduce((sum, s) => sum + s[field], 0) / part.length;
const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
};
const escalations = quantiles(soakLateness.escalations);
const reminders = quantiles(soakLateness.reminders);
const maxEvents = Math.max(...histories.map((h) => h.events));
const maxRuns = Math.max(...histories.map((h) => h.runs));
const rows: Row[] = [
  {
    name: 'engagement waits ended on time (lateness)',
    opsPerSecond: soakLateness.escalations.length / (SOAK_MS / 1000),
    p50Ms: escalations.p50Ms,
    p99Ms: escalations.p99Ms,
    note: `${soakLateness.escalations.length} due in the soak (${lateness.escalations.length} in all, max ${Math.max(0, ...lateness.escalations).toFixed(0)} ms); ${missedEscalations} missed`,
  },
  {
    name: 'clock reminders on time (lateness)',
    opsPerSecond: soakLateness.reminders.length / (SOAK_MS / 1000),
    p50Ms: reminders.p50Ms,
    p99Ms: reminders.p99Ms,
    note: `${soakLateness.reminders.length} due in the soak (${lateness.reminders.length} in all, max ${Math.max(0, ...lateness.reminders).toFixed(0)} ms); ${missedReminders} missed`,
  },
  {
    name: 'worker memory, first third → last third',
    opsPerSecond: Number.NaN,
    note: `rss ${mean(first, 'rssMb').toFixed(0)} → ${mean(last, 'rssMb').toFixed(0)} MB, heap ${mean(first, 'heapMb').toFixed(0)} → ${mean(last, 'heapMb').toFixed(0)} MB; ${samples.at(-1)!.cached} workflows cached`,
  },
  {
    name: 'CPU s per minute, first third → last third',
    opsPerSecond: Number.NaN,
    note: `worker ${perMinute(first, 'workerCpuS').toFixed(1)} → ${perMinute(last, 'workerCpuS').toFixed(1)}, Temporal ${perMinute(first, 'temporalCpuS').toFixed(1)} → ${perMinute(last, 'temporalCpuS').toFixed(1)}`,
  },
  {
    name: `response histories (${histories.length} sampled)`,
    opsPerSecond: Number.NaN,
    note: `current run ≤ ${maxEvents} events (continue-as-new at ${MAX_HISTORY}); up to ${maxRuns} runs; start-up ${startupSeconds.toFixed(0)} s`,
  },
];
const checks: Check[] = [
  {
    target: 'no missed timer (engagement waits and clock reminders)',
    measured: `${missedEscalations} waits, ${missedReminders} reminders`,
    pass: missedEscalations === 0 && missedReminders === 0,
  },
  {
    target: 'worker memory flat: last third within 10 % of the first',
    measured: `${mean(first, 'rssMb').toFixed(0)} → ${mean(last, 'rssMb').toFixed(0)} MB`,
    pass: mean(last, 'rssMb') <= mean(first, 'rssMb') * 1.1,
  },
  {
    target: 'CPU flat: last third within 25 % of the first (worker and Temporal)',
    measured: `worker ${perMinute(first, 'workerCpuS').toFixed(1)} → ${perMinute(last, 'workerCpuS').toFixed(1)} s/min, Temporal ${perMinute(first, 'temporalCpuS').toFixed(1)} → ${perMinute(last, 'temporalCpuS').toFixed(1)} s/min`,
    pass:
      perMinute(last, 'workerCpuS') <= perMinute(first, 'workerCpuS') * 1.25 &&
      perMinute(last, 'temporalCpuS') <= perMinute(first, 'temporalCpuS') * 1.25,
  },
  {
    target: 'no history grows without bound: every run hands over near its limit',
    measured: `largest current run ${maxEvents} events, limit ${MAX_HISTORY}`,
    pass: maxEvents <= MAX_HISTORY * 1.5,
  },
];
publish('soak', rows, checks, join(fileURLToPath(new URL('.', import.meta.url)), 'results'));
worker.shutdown();
await running;
await bench.close();
