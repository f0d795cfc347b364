/** Load generation for the benchmarks: closed-loop peak throughput and open-loop latency. */
import { readFileSync } from 'node:fs';

export interface Throughput {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly errors: number;
}

export interface Latency {
  readonly ratePerSecond: number;
  readonly samples: number;
  readonly errors: number;
  /** The first error's message, when there were errors. */
  readonly firstError?: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Peak rate: `concurrency` callers each issue the next call as soon as the last one ends,
 * for `durationMs` after a warm-up.
 */
export async function peakThroughput(
  op: (i: number) => Promise<unknown>,
  options: { concurrency: number; durationMs: number; warmupMs: number },
): Promise<Throughput> {
  let i = 0;
  const run = async (until: number, count: boolean) => {
    let ops = 0;
    let errors = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < until) {
          try {
            await op(i++);
            if (count) ops += 1;
          } catch {
            if (count) errors += 1;
          }
        }
      }),
    );
    return { ops, errors };
  };
  await run(performance.now() + options.warmupMs, false);
  const start = performance.now();
  const { ops, errors } = await run(start + options.durationMs, true);
  const seconds = (performance.now() - start) / 1000;
  return { ops, seconds, opsPerSecond: ops / seconds, errors };
}

/**
 * Latency at a fixed arrival rate (open loop): calls start on schedule whether or not earlier
 * ones finished, and each is timed from when it was due, so a stall is not hidden by the load
 * generator waiting for it (no coordinated omission).
 */
export async function latencyAtRate(
  op: (i: number) => Promise<unknown>,
  options: { ratePerSecond: number; durationMs: number },
): Promise<Latency> {
  const interval = 1000 / options.ratePerSecond;
  const total = Math.max(1, Math.floor((options.durationMs / 1000) * options.ratePerSecond));
  const start = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      op(i).then(
        () => void latencies.push(performance.now() - due),
        (error: unknown) => {
          errors += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    ratePerSecond: options.ratePerSecond,
    samples: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? NaN,
  };
}

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

/** CPU time (user + system) a process has used, in seconds, read from /proc. */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU time (user + system) the calling thread has used, in seconds (a worker thread's own). */
export function threadCpuSeconds(): number {
  return statCpuSeconds('/proc/thread-self/stat');
}

function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // The fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Commands the FerretDB launcher relayed, by name, namespace and filter shape, with the time
 * FerretDB took on them (its `-debug` endpoint, infra/ferretdb/debug.go).
 */
export type CommandCounts = Record<string, { count: number; ms: number }>;

/** The launcher's command counts at `debug` (its address); none without one (a real mongod). */
export async function storeCommands(debug: string | undefined): Promise<CommandCounts> {
  if (!debug) return {};
  const response = await fetch(`${debug}/debug/commands`);
  if (!response.ok) throw new Error(`store command counts: HTTP ${response.status}`);
  const counts = (await response.json()) as CommandCounts;
  // Each scenario's databases have a name of their own: count them under the service's.
  const merged: CommandCounts = {};
  for (const [key, { count, ms }] of Object.entries(counts)) {
    const general = key.replace(/\bt[0-9a-f]{8}_/, '');
    const entry = (merged[general] ??= { count: 0, ms: 0 });
    entry.count += count;
    entry.ms += ms;
  }
  return merged;
}
