/**
 * Bulk victim intake for a fraud campaign: `VICTIMS_BENCH_REPORTS` reports (default 10,000)
 * sent to victims' ImportCases in batches of `VICTIMS_BENCH_BATCH` (default 1,000),
 * `VICTIMS_BENCH_WINDOW` batches in flight (default 3), against a raw driver `insertMany` of
 * the same reports as plain documents, in the same batches and window, on the same Mongo-wire
 * server. The service does what it always does: validates every field, judges the needs,
 * routes the few disclosed risks to a crisis line, seals the personal data under a data key
 * per victim, writes each case with its event in one document and audits the batch. The import
 * client runs in a worker thread, as a real client would run in a process of its own.
 *
 * Encryption's cost is shown twice: the same intake with a cipher that only copies bytes, and
 * the envelope encryption alone, in memory. The store's share is shown by copying the service's
 * own documents with the raw driver. How long the outbox relay needs to put every event on
 * JetStream after the import is reported apart: publishing trails a bulk import on purpose.
 *
 * This machine is shared, so every figure moves with what else runs: the scenarios are
 * interleaved over `VICTIMS_BENCH_ROUNDS` rounds (default 5), the medians are reported, and the
 * target is judged on the median of each round's own ratio. CPU per report, which moves less,
 * is given for the store, the service and the import client's thread apart, and the store's
 * commands per report of an encrypted import are printed (from the launcher's `-debug`
 * endpoint). Run with `pnpm bench victims`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectMongo, connectNats, createDevIssuer, createLogger } from '@beacon/platform';
import { victimsV1 } from '@beacon/proto';
import { freePort, startDedicated, testNames, waitFor } from '@beacon/testkit/infra';
import { startBenchStack } from './services.js';
import { EnvelopeCipher, loadConfig, startVictims, type CaseCipher, type DataKey } from '@beacon/victims';
import { processCpuSeconds, storeCommands, type CommandCounts } from './measure.js';
import { campaign, eventsOf, windowed } from './victims-campaign.js';
import type { ClientDone, ClientTask } from './victims-client.js';
import { publish, type Check, type Row } from './report.js';

const REPORTS = Number(process.env['VICTIMS_BENCH_REPORTS'] ?? 10_000);
const BATCH = Number(process.env['VICTIMS_BENCH_BATCH'] ?? 1_000);
const WINDOW = Number(process.env['VICTIMS_BENCH_WINDOW'] ?? 3);
const ROUNDS = Number(process.env['VICTIMS_BENCH_ROUNDS'] ?? 5);
/** `0` skips waiting for the first encrypted run's events (e.g. when profiling the intake). */
const DRAIN = process.env['VICTIMS_BENCH_DRAIN'] !== '0';
const TARGET_SHARE = 0.5;
const SEED = 2026;
const NOW = Date.now();
const load = () => loadavg()[0]!;
/** Copies bytes instead of encrypting: the same intake path without the cryptography. */
class CopyCipher implements CaseCipher {
  readonly currentKeyId = 'none';
  newKey() {
    return {
      key: Buffer.alloc(32) as unknown as DataKey,
      wrapped: { kekId: 'none', wrapped: Buffer.alloc(61) },
    };
  }
  unwrap() {
    return Buffer.alloc(32) as unknown as DataKey;
  }
  rewrap() {
    return undefined;
  }
  seal(_key: DataKey, _caseId: string, _field: string, plaintext: string) {
    return Buffer.from(plaintext, 'utf8');
  }
  open(_key: DataKey, _caseId: string, _field: string, sealed: Uint8Array) {
    return Buffer.from(sealed).toString('utf8');
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rates = (list: readonly { rate: number; load: number }[]) =>
  list.map((m) => `${m.rate.toFixed(0)}/s (load ${m.load.toFixed(1)})`).join(', ');

const rows = campaign(REPORTS, SEED, NOW);
/** Victims of the warm-up batch: others than the campaign's (their own client refs). */
const warmup = campaign(500, SEED + 1, NOW, 'bench-warmup');
const plain = rows.map((r, i) => ({ _id: `raw_${i}`, ...(victimsV1.NewCase.toJSON(r.case!) as object) }));
// The store is started here (unless MONGO_URL names one) with the launcher's debug endpoint,
// so the commands an import costs the store can be counted.
const storeDebugAddress = `127.0.0.1:${await freePort()}`;
const store = process.env['MONGO_URL'] ? undefined : await startDedicated('mongo', { storeDebugAddress });
const storeDebug = store?.process.spec.command.endsWith('beacon-ferretdb')
  ? `http://${storeDebugAddress}`
  : undefined;
const stack = await startBenchStack(store ? { ...process.env, MONGO_URL: store.url } : process.env);
const names = testNames();
const issuer = await createDevIssuer({});
const KEKS = `bench:${randomBytes(32).toString('base64')}`;
const results: Row[] = [];
const storePid = store?.process.pid ?? stack.processes.mongo?.pid;

/**
 * CPU per report of the store and of this process over a phase; `clientSeconds`, the import
 * client thread's own CPU, is told apart from the rest of the process (the service, and V8's
 * helper threads such as the garbage collector's).
 */
function cpuMeter() {
  const store = storePid === undefined ? 0 : processCpuSeconds(storePid);
  const own = process.cpuUsage();
  return (reports: number, clientSeconds = 0) => {
    const used = process.cpuUsage(own);
    const ownUs = (used.user + used.system) / reports;
    const clientUs = (clientSeconds * 1e6) / reports;
    return {
      storeUs: storePid === undefined ? NaN : ((processCpuSeconds(storePid) - store) * 1e6) / reports,
      ownUs,
      serviceUs: ownUs - clientUs,
      clientUs,
    };
  };
}
type Cpu = ReturnType<ReturnType<typeof cpuMeter>>;
const perRun = (list: readonly Cpu[], key: keyof Cpu) => list.map((c) => c[key].toFixed(0)).join('/');
const cpuNote = (list: readonly Cpu[], client = false) =>
  client
    ? `CPU per report: store ${perRun(list, 'storeUs')} µs, service ${perRun(list, 'serviceUs')} µs, client thread ${perRun(list, 'clientUs')} µs`
    : `CPU per report: store ${perRun(list, 'storeUs')} µs, this process ${perRun(list, 'ownUs')} µs`;
/** The store's commands per report of each encrypted run, by command, collection and filter shape. */
const mixes: CommandCounts[] = [];

/**
 * With `VICTIMS_BENCH_PROFILE=<dir>`: CPU profiles of each encrypted import, the service's
 * (this process's main thread; open in Chrome DevTools) and the store's (`go tool pprof`), the
 * store's over `VICTIMS_BENCH_PROFILE_SECONDS` (default 3) from the import's start.
 */
const PROFILE = process.env['VICTIMS_BENCH_PROFILE'];
async function startProfiles() {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  const seconds = Number(process.env['VICTIMS_BENCH_PROFILE_SECONDS'] ?? 3);
  const storeProfile = storeDebug
    ? fetch(`${storeDebug}/debug/pprof/profile?seconds=${seconds}`).then((r) => r.arrayBuffer())
    : undefined;
  return async (label: string) => {
    const { profile } = (await post('Profiler.stop')) as { profile: object };
    session.disconnect();
    await mkdir(PROFILE!, { recursive: true });
    await writeFile(join(PROFILE!, `service-${label}.cpuprofile`), JSON.stringify(profile));
    if (storeProfile)
      await writeFile(join(PROFILE!, `store-${label}.pprof`), Buffer.from(await storeProfile));
  };
}
const checks: Check[] = [];

try {
  const mongo = await connectMongo({ url: stack.endpoints.mongoUrl, appName: 'bench' });
  const nc = await connectNats({ servers: stack.endpoints.natsUrl, name: 'bench' });
  const jsm = await jetstreamManager(nc);
  // The driver's pool and the server's first collection exist before any clock starts.
  await mongo
    .db(names.database('warmup'))
    .collection('cases')
    .insertMany(plain.slice(0, 500).map((d) => ({ ...d })) as never[]);

  /** The raw driver: the same reports as plain documents, same batches, same window. */
  async function rawInsert(round: number) {
    const collection = mongo.db(names.database(`raw${round}`)).collection('cases');
    const meter = cpuMeter();
    const started = performance.now();
    await windowed(plain.length, BATCH, WINDOW, (i) =>
      collection.insertMany(plain.slice(i, i + BATCH) as never[], { ordered: false }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { rate: REPORTS / seconds, load: load(), cpu: meter(REPORTS) };
  }

  /** The service, warmed up, then the campaign from the worker client; optionally until every event is out. */
  async function intake(label: string, cipher: CaseCipher | undefined, drain: boolean) {
    const db = names.database(label);
    const stream = names.stream(`EVENTS_${label}`);
    const config = loadConfig({
      MONGO_URL: stack.endpoints.mongoUrl,
      NATS_URL: stack.endpoints.natsUrl,
      VICTIMS_DB: db,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_ROOT: names.subject(`beacon.evt.${label}`),
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      VICTIMS_KEKS: KEKS,
      VICTIMS_SEARCH_KEY: randomBytes(32).toString('hex'),
      RECOVERY_SWEEP_SECONDS: '30',
    });
    const victims = await startVictims(
      {
        ...config,
        grpc: { host: '127.0.0.1', port: 0 },
        auth: { ...config.auth, jwks: { keys: issuer.jwks } },
      },
      createLogger({ name: 'bench', level: 'error' }),
      cipher ? { cipher } : {},
    );
    const address = `127.0.0.1:${victims.port}`;
    const token = async (roles: string[], agencyId?: string) =>
      issuer.mint({
        subject: 'bench',
        roles: roles as never,
        clearance: 'AMBER',
        ...(agencyId ? { agencyId } : {}),
      });
    const client = new victimsV1.VictimsServiceClient(address, credentials.createInsecure(), {
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    });
    const call = async <Res>(method: string, request: unknown, bearer: string) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${bearer}`);
      return new Promise<Res>((resolve, reject) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.call(
          client,
          request,
          metadata,
          { deadline: new Date(Date.now() + 300_000) },
          (error: ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
        ),
      );
    };
    await call(
      'putSupportOrganisation',
      {
        organisation: {
          id: 'crisis-line',
          name: 'Crisis line',
          jurisdictions: ['DE', 'AT', 'FR'],
          languages: ['de', 'en', 'fr', 'tr'],
          needsCovered: [],
          crisisCapable: true,
          capacity: 1_000,
          accepting: true,
          activeReferrals: 0,
          version: 0,
        },
        expectedVersion: 0,
      },
      await token(['coordinator']),
    );
    const officer = await token(['victim_officer'], 'vs-bench');
    // Warm-up: other victims first, so no run pays for compiling the code path, the pools and
    // the new collection; their events are out before the clock starts, so the relay is idle.
    await call('importCases', { rows: warmup, firstRow: 1 }, officer);
    const before = eventsOf(warmup);
    await waitFor(
      async () => {
        const messages = (await jsm.streams.info(stream)).state.messages;
        if (messages < before) throw new Error(`${messages} of ${before}`);
      },
      { what: 'the warm-up batch’s events', timeoutMs: 120_000, intervalMs: 100 },
    );
    client.close();

    const task: ClientTask = {
      address,
      token: officer,
      reports: REPORTS,
      seed: SEED,
      now: NOW,
      batch: BATCH,
      window: WINDOW,
    };
    const commandsBefore = await storeCommands(storeDebug);
    const profiling = PROFILE && label.startsWith('sealed') ? await startProfiles() : undefined;
    const meter = cpuMeter();
    const worker = new Worker(new URL('./victims-client.ts', import.meta.url), { workerData: task });
    const started = performance.now();
    const done = await new Promise<ClientDone>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const loadAfter = load();
    const cpu = meter(REPORTS, done.cpuSeconds);
    await profiling?.(label);
    const commandsAfter = await storeCommands(storeDebug);
    const mix: CommandCounts = {};
    for (const [key, { count, ms }] of Object.entries(commandsAfter)) {
      const before = commandsBefore[key] ?? { count: 0, ms: 0 };
      if (count > before.count)
        mix[key] = { count: (count - before.count) / REPORTS, ms: (ms - before.ms) / REPORTS };
    }
    await worker.terminate();
    if (done.accepted !== REPORTS) {
      throw new Error(
        `${done.accepted} of ${REPORTS} accepted; refused e.g. ${JSON.stringify(done.refused)}`,
      );
    }
    let drainedAfter: number | undefined;
    if (drain) {
      const expected = before + eventsOf(rows);
      await waitFor(
        async () => {
          const messages = (await jsm.streams.info(stream)).state.messages;
          if (messages < expected) throw new Error(`${messages} of ${expected}`);
        },
        { what: 'every event on JetStream', timeoutMs: 900_000, intervalMs: 250 },
      );
      drainedAfter = (performance.now() - started) / 1000;
    }
    await victims.stop();
    console.error(`${label}: ${(REPORTS / done.seconds).toFixed(0)} cases/s`);
    return {
      rate: REPORTS / done.seconds,
      seconds: done.seconds,
      load: loadAfter,
      cpu,
      mix,
      drainedAfter,
      db,
    };
  }

  const raw: Awaited<ReturnType<typeof rawInsert>>[] = [];
  const sealed: Awaited<ReturnType<typeof intake>>[] = [];
  const copied: Awaited<ReturnType<typeof intake>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw.push(await rawInsert(round));
    console.error(`raw: ${raw.at(-1)!.rate.toFixed(0)} docs/s`);
    sealed.push(await intake(`sealed${round}`, undefined, DRAIN && round === 0));
    mixes.push(sealed.at(-1)!.mix);
    copied.push(await intake(`copied${round}`, new CopyCipher(), false));
  }

  // The service's own documents (sealed data, clear state, outbox) written by the raw driver:
  // what its documents cost the store, apart from everything else the service does.
  const docs = await mongo.db(sealed[0]!.db).collection('cases').find({}).toArray();
  console.error(
    JSON.stringify(docs[7]),
    (await import('mongodb')).BSON.calculateObjectSize(docs[7]!),
    (await import('mongodb')).BSON.calculateObjectSize(plain[7]!),
  );
  const again = mongo.db(names.database('docs')).collection('cases');
  const docsStarted = performance.now();
  await windowed(docs.length, BATCH, WINDOW, (i) =>
    again.insertMany(docs.slice(i, i + BATCH), { ordered: false }),
  );
  const docsRate = docs.length / ((performance.now() - docsStarted) / 1000);

  // Encryption alone, in memory: a data key, its wrap and the sealed personal data of each
  // victim, one value as the service seals it (its JSON, then AES-GCM).
  const cipher = new EnvelopeCipher([{ id: 'bench', key: randomBytes(32) }], 'bench');
  let cryptoSeconds = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    bytes = 0;
    for (const [i, r] of rows.entries()) {
      const id = `vc_${String(i).padStart(32, '0')}`;
      const { key } = cipher.newKey(id);
      const v = r.case!.victim!;
      const personal = JSON.stringify({
        reference: 'VC-0000-0000-0000-0000',
        victim: {
          displayName: v.displayName,
          email: v.email,
          phone: v.phone,
          preferredChannel: 'email',
          notes: v.notes,
        },
        needs: r.case!.needs,
        riskFlags: r.case!.riskFlags,
      });
      bytes += cipher.seal(key, id, 'personal', personal).length;
    }
    cryptoSeconds = Math.min(cryptoSeconds, (performance.now() - started) / 1000);
  }

  const rawRate = median(raw.map((m) => m.rate));
  const sealedRate = median(sealed.map((m) => m.rate));
  const copiedRate = median(copied.map((m) => m.rate));
  const ratios = raw.map((m, i) => sealed[i]!.rate / m.rate);
  const cpuPer = (list: readonly { cpu: { storeUs: number; ownUs: number } }[]) =>
    median(list.map((m) => m.cpu.storeUs + m.cpu.ownUs));
  const drained = sealed[0]!.drainedAfter;
  results.push(
    {
      name: `baseline: raw driver insertMany (${BATCH}/batch, ${WINDOW} in flight)`,
      opsPerSecond: rawRate,
      note: `median of ${ROUNDS}: ${rates(raw)}; ${cpuNote(raw.map((m) => m.cpu))}`,
    },
    {
      name: `victims ImportCases, envelope encryption`,
      opsPerSecond: sealedRate,
      note: `median of ${ROUNDS}: ${rates(sealed)}; ${REPORTS} reports each, same batches and window; ${cpuNote(
        sealed.map((m) => m.cpu),
        true,
      )}`,
    },
    {
      name: `victims ImportCases, no encryption (copy cipher)`,
      opsPerSecond: copiedRate,
      note: `median of ${ROUNDS}: ${rates(copied)}; ${cpuNote(
        copied.map((m) => m.cpu),
        true,
      )}`,
    },
    {
      name: `raw driver insertMany of the service's own documents`,
      opsPerSecond: docsRate,
      note: `the ${docs.length} case documents of the first encrypted run, copied as they are; load ${load().toFixed(1)}`,
    },
    ...(drained === undefined
      ? []
      : [
          {
            name: `events on JetStream (first encrypted run)`,
            opsPerSecond: eventsOf(rows) / drained,
            note: `${eventsOf(rows)} events, all out ${drained.toFixed(1)} s after the import began (${(drained - sealed[0]!.seconds).toFixed(1)} s after it ended); ops = events`,
          },
        ]),
    {
      name: 'envelope encryption alone (in memory)',
      opsPerSecond: REPORTS / cryptoSeconds,
      p50Ms: (cryptoSeconds * 1000) / REPORTS,
      note: `per victim: a data key, its wrap, its personal data sealed (${(bytes / REPORTS).toFixed(0)} B); best of 3; ms = mean per victim`,
    },
  );
  checks.push(
    {
      target: `bulk intake with encryption >= ${TARGET_SHARE * 100}% of the raw driver's insert rate (median of per-round ratios)`,
      measured: `rounds ${ratios.map((r) => `${(100 * r).toFixed(0)}%`).join(', ')}; medians ${sealedRate.toFixed(0)} vs ${rawRate.toFixed(0)} reports/s; CPU per report, store + this process, raw vs intake: ${cpuPer(raw).toFixed(0)} vs ${cpuPer(sealed).toFixed(0)} µs (${((100 * cpuPer(raw)) / cpuPer(sealed)).toFixed(0)}%)`,
      pass: median(ratios) >= TARGET_SHARE,
    },
    {
      target: 'encryption overhead reported (intake with vs without it; cryptography alone)',
      measured: `intake ${(100 * (1 - sealedRate / copiedRate)).toFixed(0)}% slower with encryption (medians); ${((cryptoSeconds * 1000) / REPORTS).toFixed(3)} ms of cryptography per victim = ${((100 * cryptoSeconds) / (REPORTS / sealedRate)).toFixed(1)}% of the encrypted intake's time; machine: ${cpus().length} cores shared with other work`,
      pass: true,
    },
  );
  await nc.close();
  await mongo.close();
} catch (error) {
  // Said before stopping the servers, whose shutdown may outlast a crashed run's event loop.
  console.error(error);
  process.exitCode = 1;
} finally {
  await stack.stop();
  await store?.stop();
}

if (results.length > 0)
  publish('victims', results, checks, fileURLToPath(new URL('./results', import.meta.url)));
// Where the store's time goes: its commands per report during the encrypted imports (the last
// round's; the relay holds a bulk import's events back, so publishing is not in them).
const mix = Object.entries(mixes.at(-1) ?? {}).sort((a, b) => b[1].ms - a[1].ms);
if (mix.length > 0) {
  console.log('\nStore commands per report, encrypted import (count, ms from request to reply):');
  for (const [key, { count, ms }] of mix) {
    console.log(`  ${key.padEnd(64)} ${count.toFixed(4).padStart(8)} ${ms.toFixed(4).padStart(8)} ms`);
  }
}
