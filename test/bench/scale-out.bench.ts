/**
 * Report submission with one instance of intake and notify against two instances of each, in
 * the same run, against a three-node NATS cluster (streams at R3) and one Mongo-wire server.
 * Each instance is an OS process of its own (run from source), so the instances share no
 * event loop, and the CPU time of every process (services, NATS nodes, the store, this load
 * generator) is read from /proc over each scenario: where the time goes.
 * The load is 16 calls in flight per intake instance. Each instance commits the writes its
 * calls make at the same time together (group commit), so the same 16 calls split across two
 * instances would halve every batch, and the comparison would measure smaller batches rather
 * than the instances (`BENCH_CONCURRENCY=16` runs both at 16 in flight to see that).
 * Run with `pnpm bench scale-out`; prints tables and writes JSON to results/.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connectNats, createDevIssuer, type DevIssuer } from '@beacon/platform';
import { intakeV1, notifyV1 } from '@beacon/proto';
import {
  freePort,
  infraDir,
  startDedicated,
  startNatsCluster,
  testNames,
  waitFor,
  type NatsCluster,
} from '@beacon/testkit/infra';
import {
  peakThroughput,
  processCpuSeconds,
  storeCommands,
  type CommandCounts,
  type Throughput,
} from './measure.js';
import { publish, type Row } from './report.js';
import { startService, type ServiceProcess } from './services.js';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 10_000);
const WARMUP_MS = 2_000;
/** Calls in flight per intake instance, or in all when BENCH_CONCURRENCY fixes it. */
const CONCURRENCY_PER_INSTANCE = 16;
const FIXED_CONCURRENCY = process.env['BENCH_CONCURRENCY']
  ? Number(process.env['BENCH_CONCURRENCY'])
  : undefined;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

const dir = join(infraDir, 'bench', 'scale-out');
mkdirSync(dir, { recursive: true });

/** Busy and total jiffies of the whole machine (every process, other users' too). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!; // idle + iowait
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

interface CpuProfile {
  readonly nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  /** Microseconds on the monotonic clock, as `process.hrtime` reads it in any process. */
  readonly startTime: number;
}

/** Where a function's code lives: a package, a part of this repo, Node itself, or the VM. */
function categoryOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (!url) return functionName === '(program)' ? '(program: native, compiling)' : '(native)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:services|packages)\/[^/]+)\//.exec(url);
  return own ? own[1]! : url;
}

/**
 * Self time by category over every profile in `dir`, counting only samples taken within
 * `window` (monotonic microseconds: the load, not start-up and its TypeScript compiling),
 * largest first, as shares of busy time.
 */
function summariseProfiles(
  dir: string,
  window: { from: number; to: number },
): { category: string; ms: number; share: number }[] {
  const totals = new Map<string, number>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const category = new Map(
      profile.nodes.map((n) => [n.id, categoryOf(n.callFrame.url, n.callFrame.functionName)]),
    );
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i] ?? 0;
      if (at < window.from || at > window.to) return;
      const key = category.get(id) ?? '?';
      totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
  }
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals.entries()]
    .map(([category, ms]) => ({ category, ms, share: ms / busy }))
    .sort((a, b) => b.ms - a.ms);
}

function unary<R>(client: object, method: string, request: unknown, token: string): Promise<R> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const fn = (client as Record<string, (...a: unknown[]) => unknown>)[method]!;
  return new Promise((resolve, reject) =>
    fn.call(
      client,
      request,
      metadata,
      { deadline: new Date(Date.now() + 30_000) },
      (e: ServiceError | null, r: R) => (e ? reject(e) : resolve(r)),
    ),
  );
}

/** The store's CPU profile over the next `seconds`, written to `file` (pprof format). */
async function storeProfile(debug: string, seconds: number, file: string): Promise<void> {
  const response = await fetch(`${debug}/debug/pprof/profile?seconds=${seconds}`);
  if (!response.ok) throw new Error(`store profile: HTTP ${response.status}`);
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
}

interface Outcome {
  /** The load's window on the monotonic clock, in microseconds. */
  readonly window: { from: number; to: number };
  readonly instances: number;
  readonly round: number;
  readonly peak: Throughput;
  /** CPU seconds each component used over the scenario (warm-up, run and settling). */
  readonly cpu: Record<string, number>;
  readonly wallSeconds: number;
  readonly machineBusy: number;
  /** Every submission, warm-up included (what the store's command counts cover). */
  readonly submitted: number;
  /** Commands the store relayed over the scenario, by kind (see storeCommands). */
  readonly commands: CommandCounts;
}

async function scenario(
  instances: number,
  round: number,
  cluster: NatsCluster,
  mongoUrl: string,
  issuer: DevIssuer,
  jwksFile: string,
  jsm: JetStreamManager,
  infraPids: Record<string, number[]>,
  storeDebug: string | undefined,
  profileDir?: string,
): Promise<Outcome> {
  const names = testNames();
  const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
  const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
  const shared = {
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_FILE: jwksFile,
    MONGO_URL: mongoUrl,
    NATS_URL: cluster.urls.join(','),
    NATS_STREAM_REPLICAS: '3',
    EVENTS_STREAM: events.stream,
    EVENTS_SUBJECT_ROOT: events.root,
  };
  const services: ServiceProcess[] = [];
  const clients: { close(): void }[] = [];
  try {
    const notifyEnv = {
      ...shared,
      NOTIFY_DB: names.database('notify'),
      FEEDS_STREAM: feeds.stream,
      FEEDS_SUBJECT_ROOT: feeds.root,
      NOTIFY_FANOUT_CONSUMER: names.stream('fanout'),
      NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
      ACK_SUBJECT_ROOT: names.subject('beacon.ack'),
      NOTIFY_HTTP_PORT: String(await freePort()),
    };
    const intakeEnv = {
      ...shared,
      INTAKE_DB: names.database('intake'),
      CORRELATION_SECRET: 'bench-correlation-secret-0123456789abcdef',
    };
    // The first notify registers the watching agency before the second starts.
    services.push(
      await startService('notify', `notify-${instances}x-r${round}-0`, notifyEnv, dir, profileDir),
    );
    const cc = await issuer.mint({ subject: 'cc', roles: ['coordinator'], clearance: 'RED' });
    const notifyClient = new notifyV1.NotifyServiceClient(services[0]!.address, credentials.createInsecure());
    clients.push(notifyClient);
    await unary(
      notifyClient,
      'putAgency',
      {
        agency: {
          id: 'cert-de',
          name: 'CERT DE',
          kind: notifyV1.AgencyKind.AGENCY_KIND_CSIRT,
          jurisdictions: ['DE'],
          sectors: ['energy'],
          clearance: 5,
          contacts: [{ role: 'duty-officer', name: 'Duty', email: 'duty@cert.example', phone: '' }],
          version: 0,
        },
        expectedVersion: 0,
      },
      cc,
    );
    await unary(
      notifyClient,
      'putSubscription',
      {
        subscription: notifyV1.Subscription.fromPartial({ id: 'all', agencyId: 'cert-de' }),
      },
      cc,
    );
    for (let i = 1; i < instances; i++) {
      services.push(
        await startService('notify', `notify-${instances}x-r${round}-${i}`, notifyEnv, dir, profileDir),
      );
    }
    for (let i = 0; i < instances; i++) {
      services.push(
        await startService('intake', `intake-${instances}x-r${round}-${i}`, intakeEnv, dir, profileDir),
      );
    }
    const intakeClients = services
      .filter((s) => s.component === 'intake')
      .map((s) => new intakeV1.IntakeServiceClient(s.address, credentials.createInsecure()));
    clients.push(...intakeClients);

    const token = await issuer.mint({
      subject: 'analyst',
      roles: ['agency_analyst'],
      agencyId: 'cert-de',
      clearance: 'AMBER',
    });
    let sequence = 0;
    let submitted = 0;
    const submit = async (i: number) => {
      const n = sequence++;
      await unary(
        intakeClients[i % intakeClients.length]!,
        'submitReport',
        {
          title: 'Substation outage',
          description: 'Protection relays tripped after a remote login.',
          tlp: 2,
          classification: { rsitClass: 'availability', rsitType: 'outage' },
          sectors: ['energy'],
          jurisdictions: ['DE-BY'],
          // An indicator no other report has: each opens an incident (two events, two feed copies).
          observables: [{ type: 'ipv4', value: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` }],
          awareAt: new Date(Date.now() - 3_600_000),
          affectedAssets: [],
        },
        token,
      );
      submitted++;
    };

    const pids: Record<string, number[]> = {
      ...infraPids,
      intake: services.filter((s) => s.component === 'intake').map((s) => s.process.pid),
      notify: services.filter((s) => s.component === 'notify').map((s) => s.process.pid),
    };
    const sample = () => ({
      ...Object.fromEntries(
        Object.entries(pids).map(([component, list]) => [
          component,
          list.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
        ]),
      ),
      'load generator': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    });
    const before = sample();
    const commandsBefore = await storeCommands(storeDebug);
    const machineBefore = machineTicks();
    const started = performance.now();
    const from = Number(process.hrtime.bigint() / 1000n);
    // The store's own CPU profile over the measured part (Go's profiler costs it little).
    const storeProfiled =
      storeDebug && !profileDir
        ? new Promise((resolve) => setTimeout(resolve, WARMUP_MS)).then(() =>
            storeProfile(
              storeDebug,
              Math.floor(DURATION_MS / 1000),
              join(dir, `store-${instances}x-r${round}.pprof`),
            ),
          )
        : Promise.resolve();
    const measured = await peakThroughput(submit, {
      concurrency: FIXED_CONCURRENCY ?? CONCURRENCY_PER_INSTANCE * instances,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
    });
    await storeProfiled;
    // Until every event is in the events stream and fanned out to the feed: the rate counted
    // is one the whole path sustains, relay and fan-out included.
    const settleStart = performance.now();
    await waitFor(
      async () => {
        const stored = (await jsm.streams.info(events.stream)).state.messages;
        const copies = (await jsm.streams.info(feeds.stream)).state.messages;
        if (stored < 2 * submitted || copies < 2 * submitted) {
          throw new Error(`${stored} events, ${copies} feed copies of ${2 * submitted}`);
        }
      },
      { what: 'events published and fanned out', timeoutMs: 300_000, intervalMs: 100 },
    );
    const settleSeconds = (performance.now() - settleStart) / 1000;
    const wallSeconds = (performance.now() - started) / 1000;
    const after = sample();
    const commandsAfter = await storeCommands(storeDebug);
    const machineAfter = machineTicks();
    const seconds = measured.seconds + settleSeconds;
    const peak = { ...measured, seconds, opsPerSecond: measured.ops / seconds };
    const cpu = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
    );
    const machineBusy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
    console.error(
      `${instances}x round ${round}: ${peak.opsPerSecond.toFixed(0)} submissions/s (${measured.ops} in ${measured.seconds.toFixed(1)} s + ${settleSeconds.toFixed(1)} s to settle), machine ${(100 * machineBusy).toFixed(0)}% busy`,
    );
    const window = { from, to: Number(process.hrtime.bigint() / 1000n) };
    const commands = Object.fromEntries(
      Object.entries(commandsAfter).map(([key, { count, ms }]) => [
        key,
        { count: count - (commandsBefore[key]?.count ?? 0), ms: ms - (commandsBefore[key]?.ms ?? 0) },
      ]),
    );
    return { instances, round, peak, cpu, wallSeconds, machineBusy, window, submitted, commands };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(services.map((s) => s.process.stop()));
    for (const stream of [events.stream, feeds.stream]) await jsm.streams.delete(stream).catch(() => false);
  }
}

const cluster = await startNatsCluster();
const storeDebugAddress = `127.0.0.1:${await freePort()}`;
const mongo = await startDedicated('mongo', { storeDebugAddress });
const storeDebug = mongo.process.spec.command.endsWith('beacon-ferretdb')
  ? `http://${storeDebugAddress}`
  : undefined;
const nc = await connectNats({ servers: [...cluster.urls], name: 'bench' });
try {
  const jsm = await jetstreamManager(nc);
  const issuer = await createDevIssuer({});
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
  const infraPids = {
    'nats (3 nodes)': cluster.nodes.map((n) => n.process.pid),
    'mongo-wire store': [mongo.process.pid],
  };
  const outcomes: Outcome[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternating order, so neither setup always runs on a warmer (or busier) machine.
    const order = round % 2 === 1 ? [1, 2] : [2, 1];
    for (const instances of order) {
      outcomes.push(
        await scenario(instances, round, cluster, mongo.url, issuer, jwksFile, jsm, infraPids, storeDebug),
      );
    }
  }

  // One more two-instance run with the services under Node's CPU profiler (which slows them,
  // so its rate is not counted): where inside the services the time goes.
  const profileDir = join(dir, 'profiles');
  rmSync(profileDir, { recursive: true, force: true });
  const profiled = await scenario(
    2,
    0,
    cluster,
    mongo.url,
    issuer,
    jwksFile,
    jsm,
    infraPids,
    storeDebug,
    profileDir,
  );
  const profiles = Object.fromEntries(
    ['intake', 'notify'].map((service) => [
      service,
      summariseProfiles(join(profileDir, service), profiled.window),
    ]),
  );
  for (const [service, summary] of Object.entries(profiles)) {
    console.log(`\nCPU profile, ${service} (2 instances, under load; self time by code, of busy time):`);
    for (const { category, ms, share } of summary.slice(0, 12)) {
      console.log(`  ${(100 * share).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${category}`);
    }
  }
  writeFileSync(join(profileDir, 'summary.json'), JSON.stringify(profiles, null, 2));

  const of = (instances: number) => outcomes.filter((o) => o.instances === instances);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rate = (instances: number) => mean(of(instances).map((o) => o.peak.opsPerSecond));
  const components = Object.keys(outcomes[0]!.cpu);
  const rows: Row[] = [1, 2].map((instances) => {
    const runs = of(instances);
    const ops = runs.reduce((n, o) => n + o.peak.ops, 0);
    const cpuTotal = runs.reduce((n, o) => n + Object.values(o.cpu).reduce((a, b) => a + b, 0), 0);
    const wall = runs.reduce((n, o) => n + o.wallSeconds, 0);
    return {
      name: `${instances} intake + ${instances} notify (R3 cluster)`,
      opsPerSecond: rate(instances),
      note: [
        `${FIXED_CONCURRENCY ?? CONCURRENCY_PER_INSTANCE * instances} in flight`,
        `rounds ${runs.map((o) => o.peak.opsPerSecond.toFixed(0)).join(', ')}/s`,
        `${((1000 * cpuTotal) / ops).toFixed(1)} ms CPU per submission`,
        `our processes ${(cpuTotal / wall).toFixed(2)} of 2 cores`,
        `machine ${(100 * mean(runs.map((o) => o.machineBusy))).toFixed(0)}% busy`,
        `${runs.reduce((n, o) => n + o.peak.errors, 0)} errors`,
      ].join('; '),
    };
  });
  // Where the time goes: each component's CPU per submission and share of all our CPU.
  const shareRows: Row[] = components.flatMap((component) =>
    [1, 2].map((instances) => {
      const runs = of(instances);
      const ops = runs.reduce((n, o) => n + o.peak.ops, 0);
      const used = runs.reduce((n, o) => n + o.cpu[component]!, 0);
      const all = runs.reduce((n, o) => n + Object.values(o.cpu).reduce((a, b) => a + b, 0), 0);
      return {
        name: `  cpu: ${component} (${instances}x)`,
        opsPerSecond: NaN,
        note: `${((1000 * used) / ops).toFixed(2)} ms per submission; ${((100 * used) / all).toFixed(0)}% of our CPU; ${(used / runs.reduce((n, o) => n + o.wallSeconds, 0)).toFixed(2)} cores`,
      };
    }),
  );
  // The store's command mix: commands of each kind per submission, and FerretDB's time on them.
  if (storeDebug) {
    const perSubmission = (instances: number) => {
      const runs = of(instances);
      const submissions = runs.reduce((n, o) => n + o.submitted, 0);
      const totals: CommandCounts = {};
      for (const run of runs) {
        for (const [key, { count, ms }] of Object.entries(run.commands)) {
          const entry = (totals[key] ??= { count: 0, ms: 0 });
          entry.count += count / submissions;
          entry.ms += ms / submissions;
        }
      }
      return totals;
    };
    const [one, two] = [perSubmission(1), perSubmission(2)];
    const keys = [...new Set([...Object.keys(one), ...Object.keys(two)])].sort(
      (a, b) => (two[b]?.ms ?? 0) - (two[a]?.ms ?? 0),
    );
    console.log('\nStore commands per submission (count, ms from request to reply), 1x vs 2x:');
    for (const key of keys) {
      const cell = (c: CommandCounts) =>
        `${(c[key]?.count ?? 0).toFixed(2).padStart(6)} ${(c[key]?.ms ?? 0).toFixed(2).padStart(7)} ms`;
      console.log(`  ${cell(one)}   ${cell(two)}   ${key}`);
    }
    console.log(`Store CPU profiles (go tool pprof -top FILE): ${dir}/store-*.pprof`);
  }
  const one = rate(1);
  const two = rate(2);
  publish(
    'scale-out',
    [...rows, ...shareRows],
    [
      {
        target:
          'two instances keep at least 80% of one instance’s throughput (no gain expected on 2 shared cores; nothing may serialise them)',
        measured: `${two.toFixed(0)}/s vs ${one.toFixed(0)}/s = ${((100 * two) / one).toFixed(0)}%`,
        pass: two >= 0.8 * one,
      },
    ],
    fileURLToPath(new URL('./results', import.meta.url)),
  );
} finally {
  await nc.close();
  await mongo.stop();
  await cluster.stop();
}
