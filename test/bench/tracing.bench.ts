/**
 * What tracing costs: report submission through the gateway (gRPC) → intake → Mongo-wire, with
 * its events published by the outbox relay, measured with tracing off, on, and on keeping one
 * trace in ten, in the same run, in interleaved rounds (each mode takes each place in the order
 * in turn) so that drift in a shared machine's load falls on all alike. "On" is the production
 * path: every span of the request (gateway server, gRPC client and server, each Mongo command,
 * the relay's publish; 13 per submission) batched (`BatchSpanProcessor`) and exported as
 * OTLP/HTTP protobuf to a collector stand-in in this process that reads and discards each
 * request. Each measurement starts the services anew, since tracing is chosen when clients and
 * servers are made, as in `main.ts`. Besides throughput it reports this process's CPU time per
 * submission, which shows tracing's cost even when the store, not the services, sets the pace.
 * Run with `pnpm bench tracing`; prints a table and writes JSON to results/.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { connectMongo, startTracing, type Tracing } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { testNames, waitFor } from '@beacon/testkit/infra';
import { startBenchStack } from './services.js';
import { reportJson, startTestStack } from '@beacon/gateway/testing';
import { peakThroughput } from './measure.js';
import { publish, type Row } from './report.js';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 6_000);
const WARMUP_MS = 2_000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const CONCURRENCY = 16;
const TARGET_OVERHEAD_PERCENT = 10;

/** Off; on, every trace kept; on with `parentbased_traceidratio` keeping one trace in ten. */
type Mode = 'off' | 'on' | 'sampled';
const MODES: readonly Mode[] = ['off', 'on', 'sampled'];
const SAMPLED_RATIO = '0.1';

const stack = await startBenchStack();

// The collector stand-in: accepts OTLP/HTTP exports and counts what arrived.
const collected = { requests: 0, bytes: 0 };
const collector = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (collected.bytes += chunk.length));
  req.on('end', () => {
    collected.requests += 1;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

const mongo = await connectMongo({ url: stack.endpoints.mongoUrl, appName: 'bench' });
interface Measured {
  ops: number;
  seconds: number;
  errors: number;
  /** Submissions per second, by round. */
  rounds: number[];
  /** This process's CPU time (gateway, intake, relay, load, collector) per submission, by round. */
  cpuMs: number[];
}
const measured = Object.fromEntries(
  MODES.map((mode) => [mode, { ops: 0, seconds: 0, errors: 0, rounds: [], cpuMs: [] }]),
) as unknown as Record<Mode, Measured>;
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One measurement: fresh services (traced or not), peak submissions, then the outbox drained. */
async function measure(mode: Mode): Promise<void> {
  const tracing: Tracing | undefined =
    mode === 'off'
      ? undefined
      : startTracing({
          serviceName: 'bench',
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
            ...(mode === 'sampled'
              ? { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: SAMPLED_RATIO }
              : {}),
          },
        });
  if (mode !== 'off' && !tracing?.enabled) throw new Error('tracing did not start');
  const names = testNames();
  const beacon = await startTestStack(stack.endpoints, names, {
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    ADDRESS_RATE_PER_SECOND: '1000000',
    ADDRESS_RATE_BURST: '1000000',
  });
  try {
    const token = await beacon.token({ roles: ['agency_analyst'], agencyId: 'bench-agency' });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    let sequence = 0;
    // A fresh indicator per report: each opens an incident, one path measured in both modes.
    const uniqueIp = () => {
      const n = sequence++;
      return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    };
    const submit = () =>
      new Promise((resolve, reject) =>
        beacon.grpc.submitReport(
          intakeV1.SubmitReportRequest.fromJSON(
            reportJson({ observables: [{ type: 'ipv4', value: uniqueIp() }] }),
          ),
          metadata,
          (e: ServiceError | null, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    let submitted = 0;
    const cpuBefore = process.cpuUsage();
    const peak = await peakThroughput(() => (submitted++, submit()), {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
    });
    // The relay's share counts: the rate is one the services sustain, events published.
    const started = performance.now();
    const outboxes = mongo.db(beacon.dbName).collection('incidents');
    await waitFor(
      async () => {
        if ((await outboxes.countDocuments({ outbox: { $ne: {} } })) > 0) throw new Error('events waiting');
      },
      { what: 'outbox drained', timeoutMs: 300_000, intervalMs: 100 },
    );
    const seconds = peak.seconds + (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const m = measured[mode];
    m.cpuMs.push((cpu.user + cpu.system) / 1000 / submitted);
    m.ops += peak.ops;
    m.seconds += seconds;
    m.errors += peak.errors;
    m.rounds.push(peak.ops / seconds);
    console.error(
      `${mode}: ${(peak.ops / seconds).toFixed(1)} submissions/s, ${m.cpuMs.at(-1)!.toFixed(2)} ms CPU each`,
    );
  } finally {
    await beacon.stop();
    // Exports what is still batched before the next round starts.
    await tracing?.shutdown();
    await mongo.db(names.database('intake')).dropDatabase();
  }
}

try {
  for (let round = 0; round < ROUNDS; round++) {
    // Each mode takes each place in the order in turn.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    for (const mode of order) await measure(mode);
  }

  const rate = (mode: Mode) => measured[mode].ops / measured[mode].seconds;
  // Each round's modes ran back to back: the median of their ratios resists the drift of a
  // shared machine's load better than totals do.
  const pairOverheads = (mode: Mode) =>
    measured[mode].rounds.map((r, i) => (100 * (measured.off.rounds[i]! - r)) / measured.off.rounds[i]!);
  const overhead = (mode: Mode) => median(pairOverheads(mode));
  const cpuOverhead = (mode: Mode) =>
    (100 * (median(measured[mode].cpuMs) - median(measured.off.cpuMs))) / median(measured.off.cpuMs);
  const LABEL: Record<Mode, string> = {
    off: 'tracing off',
    on: 'tracing on',
    sampled: `tracing on, ${Number(SAMPLED_RATIO) * 100}% of traces sampled`,
  };
  const rows: Row[] = MODES.map((mode) => ({
    name: `submit report via gateway (gRPC), ${LABEL[mode]}`,
    opsPerSecond: rate(mode),
    note: [
      `rounds: ${measured[mode].rounds.map((r) => r.toFixed(1)).join(', ')}/s`,
      `median ${median(measured[mode].cpuMs).toFixed(2)} ms CPU per submission in this process`,
      mode === 'off' ? 'no provider registered' : 'OTLP/HTTP batches to an in-process collector',
      measured[mode].errors ? `${measured[mode].errors} errors` : '',
    ]
      .filter(Boolean)
      .join('; '),
  }));
  rows.push({
    name: 'exported to the collector',
    opsPerSecond: Number.NaN,
    note: `${collected.requests} OTLP requests, ${(collected.bytes / 2 ** 20).toFixed(1)} MiB`,
  });
  publish(
    'tracing',
    rows,
    (['on', 'sampled'] as const).flatMap((mode) => [
      {
        target: `${LABEL[mode]}: submission throughput overhead < ${TARGET_OVERHEAD_PERCENT}%`,
        measured: `median of ${ROUNDS} interleaved rounds ${overhead(mode).toFixed(1)}% (rounds: ${pairOverheads(
          mode,
        )
          .map((o) => o.toFixed(1))
          .join(', ')}%); totals ${rate(mode).toFixed(1)}/s vs ${rate('off').toFixed(1)}/s off`,
        pass: overhead(mode) < TARGET_OVERHEAD_PERCENT,
      },
      {
        target: `${LABEL[mode]}: CPU per submission in gateway, intake, relay and export < +${TARGET_OVERHEAD_PERCENT}%`,
        measured: `${median(measured[mode].cpuMs).toFixed(2)} ms vs ${median(measured.off.cpuMs).toFixed(2)} ms off = ${cpuOverhead(mode).toFixed(1)}%`,
        pass: cpuOverhead(mode) < TARGET_OVERHEAD_PERCENT,
      },
    ]),
    fileURLToPath(new URL('./results', import.meta.url)),
  );
} finally {
  await mongo.close();
  collector.close();
  await stack.stop();
}
