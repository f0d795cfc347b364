/**
 * Report submission through the gateway, against baselines measured in the same run on the
 * same servers: a bare grpc-js echo, a bare driver insert, a bare JetStream publish.
 * Run with `pnpm bench intake` (see README); prints a table and writes JSON to results/.
 */
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectMongo, connectNats, ensureStream, GroupCommit, outboxEntry } from '@beacon/platform';
import { diagnosticsV1, intakeV1 } from '@beacon/proto';
import { freePort, startDedicated, testNames, waitFor } from '@beacon/testkit/infra';
import { startBenchStack } from './services.js';
import { reportJson, startTestStack } from '@beacon/gateway/testing';
import {
  latencyAtRate,
  peakThroughput,
  processCpuSeconds,
  storeCommands,
  type CommandCounts,
  type Throughput,
} from './measure.js';
import { publish, type Row } from './report.js';

// Long enough that the peak includes the relay's share of the work, not only the requests'.
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 10_000);
const WARMUP_MS = 2_000;
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) {
  throw new Error(
    `BENCH_CONCURRENCY must be a whole number of calls in flight, not ${process.env['BENCH_CONCURRENCY']}`,
  );
}

// The store is started here (unless MONGO_URL names one) with the launcher's debug endpoint,
// so the submissions' store commands can be counted.
const storeDebugAddress = `127.0.0.1:${await freePort()}`;
const store = process.env['MONGO_URL'] ? undefined : await startDedicated('mongo', { storeDebugAddress });
const storeDebug = store?.process.spec.command.endsWith('beacon-ferretdb')
  ? `http://${storeDebugAddress}`
  : undefined;
const stack = await startBenchStack(store ? { ...process.env, MONGO_URL: store.url } : process.env);
const storePid = store?.process.pid ?? stack.processes.mongo?.pid;
/** The store's commands per call of each scenario that counted them. */
const commandMix: Record<string, CommandCounts> = {};
const names = testNames();
const rows: Row[] = [];
const peaks: Record<string, Throughput> = {};
const p99: Record<string, number> = {};
const FLOOR_SUBMISSION = 'floor: the store writes of one submission, raw driver';
const FLOOR_OUTBOX = 'floor: one document with its outbox, then the outbox cleared';
/** Rounds of the REST-against-gRPC comparison. */
const DOOR_ROUNDS = 4;
const doorRounds: { first: 'grpc' | 'rest'; grpc: number; rest: number }[] = [];

/**
 * Runs one scenario: peak rate, then latency at half of it. `settle` waits until the work a
 * call leaves behind is done (events published); its time counts against the peak, so the
 * rate is one the system can sustain, and the latency phase starts with no backlog.
 */
async function scenario(
  name: string,
  op: (i: number) => Promise<unknown>,
  note?: string,
  settle?: () => Promise<void>,
) {
  // Where the time goes: CPU per call of the store, NATS and this process (the services run
  // in it), over the peak phase and its settling. CPU time, unlike the rate, hardly depends on
  // what else the machine is running.
  const cpu = () => ({
    store: storePid ? processCpuSeconds(storePid) : NaN,
    nats: stack.processes.nats ? processCpuSeconds(stack.processes.nats.pid) : NaN,
    node: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });
  let calls = 0;
  // Numbers every call of both phases apart (each phase counts from 0), so a call that writes
  // under its number never repeats an earlier one's id and so never takes the duplicate path.
  let numbered = 0;
  const numberedOp = () => op(numbered++);
  const cpuBefore = cpu();
  const commandsBefore = await storeCommands(storeDebug);
  const measured = await peakThroughput(() => ((calls += 1), numberedOp()), {
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS,
  });
  let peak = measured;
  if (settle) {
    const started = performance.now();
    await settle();
    const seconds = measured.seconds + (performance.now() - started) / 1000;
    peak = { ...measured, seconds, opsPerSecond: measured.ops / seconds };
  }
  const cpuAfter = cpu();
  const commandsAfter = await storeCommands(storeDebug);
  commandMix[name] = Object.fromEntries(
    Object.entries(commandsAfter).map(([key, { count, ms }]) => {
      const before = commandsBefore[key] ?? { count: 0, ms: 0 };
      return [key, { count: (count - before.count) / calls, ms: (ms - before.ms) / calls }];
    }),
  );
  const perCall = (k: keyof typeof cpuAfter) => (((cpuAfter[k] - cpuBefore[k]) * 1000) / calls).toFixed(2);
  const cpuNote = `CPU ms per call: store ${perCall('store')}, nats ${perCall('nats')}, node ${perCall('node')}`;
  const latency = await latencyAtRate(numberedOp, {
    ratePerSecond: Math.max(1, peak.opsPerSecond / 2),
    durationMs: DURATION_MS,
  });
  await settle?.();
  peaks[name] = peak;
  p99[name] = latency.p99Ms;
  const errors = peak.errors + latency.errors;
  rows.push({
    name,
    opsPerSecond: peak.opsPerSecond,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    note: [
      note,
      cpuNote,
      `latency at ${latency.ratePerSecond.toFixed(0)}/s`,
      errors ? `${errors} errors (${latency.firstError ?? 'at peak'})` : '',
    ]
      .filter(Boolean)
      .join('; '),
  });
  console.error(`${name}: ${peak.opsPerSecond.toFixed(0)} ops/s, p99 ${latency.p99Ms.toFixed(2)} ms`);
}

try {
  // Baseline 1: a bare grpc-js unary echo on loopback.
  const bare = new Server();
  bare.addService(diagnosticsV1.DiagnosticsServiceService, {
    echo: (call: { request: unknown }, cb: (e: null, r: unknown) => void) => cb(null, call.request),
    getServerInfo: (_c: unknown, cb: (e: null, r: unknown) => void) => cb(null, {}),
  });
  const barePort = await new Promise<number>((resolve, reject) =>
    bare.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const echoClient = new diagnosticsV1.DiagnosticsServiceClient(
    `127.0.0.1:${barePort}`,
    credentials.createInsecure(),
  );
  const echoRequest = { message: 'x'.repeat(600), payload: new Uint8Array() };
  await scenario(
    'baseline: raw grpc-js echo',
    () =>
      new Promise((resolve, reject) => echoClient.echo(echoRequest, (e, r) => (e ? reject(e) : resolve(r)))),
  );

  // Baseline 2: a bare driver insert of a report-sized document.
  const mongo = await connectMongo({ url: stack.endpoints.mongoUrl, appName: 'bench' });
  const raw = mongo.db(names.database('raw')).collection('reports');
  await scenario('baseline: raw driver insertOne', () =>
    raw.insertOne({ ...reportJson(), seq: Math.random() }),
  );

  // Baseline 3: a bare JetStream publish with its ack.
  const nc = await connectNats({ servers: stack.endpoints.natsUrl, name: 'bench' });
  await ensureStream(await jetstreamManager(nc), {
    name: names.stream('RAW'),
    subjects: [names.subject('raw.>')],
  });
  const js = jetstream(nc);
  const payload = new Uint8Array(600);
  await scenario('baseline: raw JetStream publish', (i) =>
    js.publish(names.subject('raw.x'), payload, { msgID: `${names.id}-${i}` }),
  );

  // Report submission end to end: gateway (gRPC) → intake → Mongo-wire, events via the outbox.
  const beacon = await startTestStack(stack.endpoints, names, {
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    ADDRESS_RATE_PER_SECOND: '1000000',
    ADDRESS_RATE_BURST: '1000000',
  });
  const token = await beacon.token({ roles: ['agency_analyst'], agencyId: 'bench-agency' });
  const outboxes = mongo.db(beacon.dbName).collection('incidents');
  const published = () =>
    waitFor(
      async () => {
        if ((await outboxes.countDocuments({ outbox: { $ne: {} } })) > 0) throw new Error('events waiting');
      },
      { what: 'outbox drained', timeoutMs: 300_000, intervalMs: 250 },
    );
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  // Every report, in every phase of both scenarios, carries an indicator no other has, so each
  // opens an incident: the scenarios measure one path, not a mix with correlation.
  let sequence = 0;
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
  await scenario(
    'submit report via gateway (gRPC)',
    () => submit(),
    'opens one incident each; events published',
    published,
  );

  const submitRest = async () => {
    const response = await fetch(`${beacon.http}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(reportJson({ observables: [{ type: 'ipv4', value: uniqueIp() }] })),
    });
    if (response.status !== 201) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  };
  await scenario('submit report via gateway (REST)', submitRest, 'events published', published);

  // The two doors side by side. Measured one after the other, the second pays for every
  // document the first left (FerretDB's sweeps and scans grow with the collections), so the
  // check compares them in rounds that change which goes first, each round's rate counted
  // until its events are published. The order runs gRPC-REST, REST-gRPC, REST-gRPC, gRPC-REST:
  // with a plain alternation, intake's recovery sweeps (every 30 s, three collection scans on
  // FerretDB) fell on the second door of every other round, always the same door, since two
  // rounds take about that long (REST-second rounds at 21-50 % of gRPC, REST-first at 97-102 %).
  const doorRate = async (op: () => Promise<unknown>) => {
    const measured = await peakThroughput(op, {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS / 2,
      warmupMs: WARMUP_MS / 2,
    });
    const started = performance.now();
    await published();
    return measured.ops / (measured.seconds + (performance.now() - started) / 1000);
  };
  for (let round = 0; round < DOOR_ROUNDS; round++) {
    const first: 'grpc' | 'rest' = round % 4 === 0 || round % 4 === 3 ? 'grpc' : 'rest';
    const rates = { first, grpc: 0, rest: 0 };
    for (const door of first === 'grpc' ? (['grpc', 'rest'] as const) : (['rest', 'grpc'] as const)) {
      rates[door] = await doorRate(door === 'grpc' ? submit : submitRest);
    }
    doorRounds.push(rates);
  }
  rows.push({
    name: 'REST against gRPC, rounds in both orders',
    opsPerSecond: Number.NaN,
    note: doorRounds
      .map(
        (r, i) =>
          `round ${i + 1} (${r.first === 'grpc' ? 'gRPC' : 'REST'} first): REST ${r.rest.toFixed(0)}/s, gRPC ${r.grpc.toFixed(0)}/s`,
      )
      .join('; '),
  });

  await beacon.stop();

  // What the store alone must do for one submission, with no service in the way: a ceiling for
  // any intake on this store at this concurrency. Measured last, with intake stopped, so its
  // sweeps do not run beside it. The documents are copies of the ones intake stored (the
  // incident with a reported and an opened event in its outbox, rebuilt from the stream), each
  // written with the raw driver under a fresh id: the correlation lookup, then the five inserts
  // a submission needs (report, incident, correlation entry, sighting, audit record) at once,
  // grouped with concurrent calls' (at a time, one insert and one update command per
  // collection), then the outbox cleared as a relay does after publishing. Intake itself makes
  // more round trips, in sequence (the report is stored before its incident, the audit chain's
  // head is updated, the report is marked linked), so this is an upper bound, not a target.
  const intakeDb = mongo.db(beacon.dbName);
  const template = async (collection: string) => {
    const { _id, ...doc } = (await intakeDb.collection(collection).findOne({}))!;
    return doc;
  };
  const jsm = await jetstreamManager(nc);
  const stream = names.stream('EVENTS');
  // The newest event, and the newest before it of the other kind (reported or opened).
  let seq = (await jsm.streams.info(stream)).state.last_seq;
  const events = [(await jsm.streams.getMessage(stream, { seq }))!];
  const kind = (subject: string) => subject.split('.').at(-1);
  while (events.length < 2 && --seq > 0) {
    const message = (await jsm.streams.getMessage(stream, { seq }))!;
    if (kind(message.subject) !== kind(events[0]!.subject)) events.push(message);
  }
  const outbox = Object.fromEntries(
    events.map((message, i) => {
      const id = message.header.get('Nats-Msg-Id');
      const subject = message.subject.slice(names.subject('beacon.evt.').length);
      const entry = { id, seq: i + 1, subject, createdAt: new Date(), data: message.data };
      return [id, outboxEntry(entry, undefined)] as const;
    }),
  );
  const audit = await template('audit');
  const fields = ['actor', 'agencyId', 'action', 'objectId', 'tlp', 'at'];
  const copies = {
    // As first stored: not yet linked, its submission's audit record with it.
    reports: {
      ...(await template('reports')),
      linked: false,
      audit: Object.fromEntries(fields.map((f) => [f, audit[f] as unknown])),
    },
    incidents: { ...(await template('incidents')), outbox },
    correlation: await template('correlation'),
    sightings: await template('sightings'),
    audit,
  };
  const floorDb = mongo.db(names.database('floor'));
  const writers = Object.fromEntries(
    Object.keys(copies).map((name) => [name, new GroupCommit<{ _id: string }>(floorDb.collection(name))]),
  );
  const lookups = floorDb.collection<{ _id: string }>('correlation');
  // A duplicate id would be the cheaper path measured: none may happen.
  const insertNew = async (writer: GroupCommit<{ _id: string }>, doc: { _id: string }) => {
    if (!(await writer.insertOne(doc))) throw new Error(`floor document ${doc._id} already stored`);
  };
  await scenario(
    FLOOR_SUBMISSION,
    async (i) => {
      await lookups.findOne({ _id: `absent-${i}` });
      const _id = `${names.id}-${i}`;
      await Promise.all(
        Object.entries(copies).map(([name, doc]) => insertNew(writers[name]!, { ...doc, _id })),
      );
      await writers['incidents']!.updateById(_id, { $set: { outbox: {} } });
    },
    'grouped writes, all five at once: an upper bound for any intake on this store',
  );
  // The least any transactional outbox asks of the store: a document written with its events,
  // then the events removed once published.
  await scenario(
    FLOOR_OUTBOX,
    async (i) => {
      const _id = `${names.id}-bare-${i}`;
      await insertNew(writers['incidents']!, { ...copies.incidents, _id });
      await writers['incidents']!.updateById(_id, { $set: { outbox: {} } });
    },
    'grouped writes: the bare outbox pattern',
  );

  await nc.close();
  await mongo.close();
  echoClient.close();
  bare.forceShutdown();

  const slowest = Math.min(
    peaks['baseline: raw grpc-js echo']!.opsPerSecond,
    peaks['baseline: raw driver insertOne']!.opsPerSecond,
    peaks['baseline: raw JetStream publish']!.opsPerSecond,
  );
  const grpc = peaks['submit report via gateway (gRPC)']!.opsPerSecond;
  const share = (rate: number) => `${((100 * rate) / slowest).toFixed(0)}%`;
  const doorRatios = doorRounds.map((r) => r.rest / r.grpc).sort((a, b) => a - b);
  const doorRatio = (doorRatios[(doorRatios.length - 1) >> 1]! + doorRatios[doorRatios.length >> 1]!) / 2;
  const baselineP99 =
    p99['baseline: raw grpc-js echo']! +
    p99['baseline: raw driver insertOne']! +
    p99['baseline: raw JetStream publish']!;
  publish(
    'intake',
    rows,
    [
      {
        target: 'submission throughput >= 60% of the slowest baseline',
        measured:
          `${grpc.toFixed(0)}/s vs ${slowest.toFixed(0)}/s = ${share(grpc)}; the store's floors: ` +
          `a submission's writes ${share(peaks[FLOOR_SUBMISSION]!.opsPerSecond)}, ` +
          `the bare outbox ${share(peaks[FLOOR_OUTBOX]!.opsPerSecond)}`,
        pass: grpc >= 0.6 * slowest,
      },
      {
        target: 'submission p99 at half load <= sum of baseline p99s + 5 ms',
        measured: `${p99['submit report via gateway (gRPC)']!.toFixed(2)} ms vs ${(baselineP99 + 5).toFixed(2)} ms`,
        pass: p99['submit report via gateway (gRPC)']! <= baselineP99 + 5,
      },
      {
        target: 'REST >= 80% of gRPC (median of rounds in both orders)',
        measured: `rounds ${doorRatios.map((r) => `${(100 * r).toFixed(0)}%`).join(', ')}; median ${(100 * doorRatio).toFixed(0)}%`,
        pass: doorRatio >= 0.8,
      },
    ],
    fileURLToPath(new URL('./results', import.meta.url)),
  );
  // Where a submission's store time goes: a filter other than `{_id}` is a scan on FerretDB.
  for (const name of ['submit report via gateway (gRPC)', FLOOR_SUBMISSION]) {
    const mix = Object.entries(commandMix[name] ?? {})
      .filter(([, { count }]) => count >= 0.01)
      .sort((a, b) => b[1].ms - a[1].ms);
    if (mix.length === 0) continue;
    console.log(`\nStore commands per call of "${name}" (count, ms from request to reply):`);
    for (const [key, { count, ms }] of mix) {
      console.log(`  ${key.padEnd(64)} ${count.toFixed(2).padStart(6)} ${ms.toFixed(2).padStart(8)} ms`);
    }
  }
} finally {
  await stack.stop();
  await store?.stop();
}
