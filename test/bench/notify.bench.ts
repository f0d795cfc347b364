/**
 * Fan-out of intake's events to the agencies' feeds, against a raw JetStream publish→consume
 * baseline measured in the same run on the same servers. Notify runs as a process of its own
 * (as deployed; so the load generator and the feed readers do not share its event loop), with
 * its own streams and database; `NOTIFY_BENCH_AGENCIES` agencies (default 200) are registered through
 * its gRPC API with mixed subscriptions, then `NOTIFY_BENCH_EVENTS` intake envelopes (default
 * 2,000) are published onto BEACON_EVENTS in `NOTIFY_BENCH_ROUNDS` bursts (default 5) that take
 * turns with the baseline's, and BEACON_FEEDS is read until every feed message the rules call
 * for has arrived. Latency is then measured at half of each side's rate for `BENCH_DURATION_MS`.
 * Each side's notes give the CPU (from /proc) that this process, notify, nats-server and the store spent
 * per 1,000 messages over its bursts: the figure least moved by other work on the machine. Run
 * with `pnpm bench notify`; prints a table and writes JSON to results/.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import {
  connectNats,
  createDevIssuer,
  encodeEnvelope,
  ensureStream,
  JetStreamPublisher,
} from '@beacon/platform';
import { intakeV1, notifyV1 } from '@beacon/proto';
import { freePort, infraDir, testNames, waitFor } from '@beacon/testkit/infra';
import { latencyAtRate, processCpuSeconds } from './measure.js';
import { publish, type Check, type Row } from './report.js';
import { startBenchStack, startService } from './services.js';

const AGENCIES = Number(process.env['NOTIFY_BENCH_AGENCIES'] ?? 200);
const EVENTS = Number(process.env['NOTIFY_BENCH_EVENTS'] ?? 2_000);
const BASELINE_MESSAGES = Number(process.env['NOTIFY_BENCH_BASELINE_MESSAGES'] ?? 100_000);
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 10_000);
/** Baseline and fan-out bursts alternate this many times; each side's messages are split evenly. */
const ROUNDS = Number(process.env['NOTIFY_BENCH_ROUNDS'] ?? 5);
const WARMUP_EVENTS = 100;
/**
 * The baseline's publish path: `client` (default), the NATS client's `js.publish` as an
 * application would write it; `lean`, the one-subscription publisher notify's fan-out uses, so
 * that the share can also be read against the same publish path on both sides.
 */
const BASELINE_PUBLISHER = process.env['NOTIFY_BENCH_BASELINE_PUBLISHER'] ?? 'client';
if (BASELINE_PUBLISHER !== 'client' && BASELINE_PUBLISHER !== 'lean') {
  throw new Error(`NOTIFY_BENCH_BASELINE_PUBLISHER must be client or lean, not ${BASELINE_PUBLISHER}`);
}
/** Publishes awaiting their ack at once: the raw baseline's, and the event burst's. */
const BASELINE_WINDOW = 256;
const EVENT_WINDOW = 64;
/** A burst fails when no feed message arrives for this long. */
const STALL_MS = 30_000;
const TARGET_SHARE = 0.5;
const TARGET_P99_MS = 50;
const SEED = 2026;
/** Other work on the machine moves every figure here; the notes say how busy it was. */
const load = () => `load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;

// ── The agencies, their subscriptions and the events, from a seed ───────────────────────────
type Tlp = 'CLEAR' | 'GREEN' | 'AMBER' | 'AMBER+STRICT' | 'RED';
const TLPS: readonly Tlp[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const tlpRank = (tlp: Tlp) => TLPS.indexOf(tlp);
const tlpWire = (tlp: Tlp) => tlpRank(tlp) + 1;
/** Incidents never concern `nuclear`: subscriptions to it are the ones that never match. */
const SECTORS = [
  'energy',
  'water-and-wastewater',
  'healthcare-and-public-health',
  'financial-services',
  'communications',
  'transportation-systems',
  'information-technology',
  'government-facilities',
  'chemical',
] as const;
const JURISDICTIONS = ['DE', 'DE-BY', 'DE-BE', 'FR', 'FR-IDF', 'NL', 'AT', 'BE', 'PL'] as const;
const RSIT = ['availability', 'intrusions', 'malicious-code', 'fraud', 'information-gathering'] as const;
const KINDS = ['opened', 'report-attached', 'severity-changed', 'agency-assigned'] as const;
type Kind = (typeof KINDS)[number];

/** mulberry32: the same agencies and events on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const some = <T>(list: readonly T[], most: number): T[] => {
    const count = 1 + int(most);
    return [...new Set(Array.from({ length: count }, () => pick(list)))];
  };
  const weighted = <T>(choices: readonly (readonly [T, number])[]): T => {
    let r = next();
    for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
    return choices.at(-1)![0];
  };
  return { next, int, pick, some, weighted };
}

const agencyId = (n: number) => `agency-${String(n).padStart(3, '0')}`;
const incidentId = (n: number) => `bench-incident-${n}`;

interface Filters {
  readonly eventTypes: string[];
  readonly rsitClasses: string[];
  readonly sectors: string[];
  readonly jurisdictions: string[];
  readonly minNcissLevel: number;
  readonly incidentIds: string[];
  readonly reach: notifyV1.SubscriptionReach;
}
interface BenchAgency {
  readonly id: string;
  readonly clearance: Tlp;
  readonly subscriptions: readonly (Filters & { readonly id: string })[];
}

function generateAgencies(count: number): BenchAgency[] {
  const r = random(SEED);
  const none: Filters = {
    eventTypes: [],
    rsitClasses: [],
    sectors: [],
    jurisdictions: [],
    minNcissLevel: 0,
    incidentIds: [],
    reach: notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_NAMED_AND_REACHED,
  };
  // Remits as agencies write them; weights so that about a third of the agencies take an event.
  const templates: readonly (readonly [() => Filters, number])[] = [
    [() => none, 0.05],
    [() => ({ ...none, eventTypes: ['incident.opened'], sectors: r.some(SECTORS, 2) }), 0.2],
    [() => ({ ...none, eventTypes: ['incident.*'], jurisdictions: [r.pick(JURISDICTIONS)] }), 0.2],
    [() => ({ ...none, minNcissLevel: 2 + r.int(3) }), 0.15],
    [() => ({ ...none, rsitClasses: r.some(RSIT, 2), jurisdictions: r.some(JURISDICTIONS, 3) }), 0.15],
    [() => ({ ...none, sectors: [r.pick(SECTORS)], minNcissLevel: 3 }), 0.1],
    [() => ({ ...none, eventTypes: ['incident.severity-changed', 'incident.agency-assigned'] }), 0.05],
    // Incidents it follows, most of which the run never produces.
    [() => ({ ...none, incidentIds: [incidentId(r.int(EVENTS)), incidentId(r.int(EVENTS))] }), 0.04],
    // Never matched: no incident concerns nuclear or Japan.
    [() => ({ ...none, sectors: ['nuclear'] }), 0.03],
    [() => ({ ...none, jurisdictions: ['JP'] }), 0.03],
  ];
  return Array.from({ length: count }, (_, n) => {
    const id = agencyId(n);
    const clearance = r.weighted<Tlp>([
      ['GREEN', 0.2],
      ['AMBER', 0.35],
      ['AMBER+STRICT', 0.1],
      ['RED', 0.35],
    ]);
    const subscriptionCount = r.next() < 0.1 ? 0 : 1 + r.int(3);
    const subscriptions = Array.from({ length: subscriptionCount }, (_, s) => ({
      id: `sub-${s}`,
      ...r.weighted(templates)(),
    }));
    return { id, clearance, subscriptions };
  });
}

interface IncidentFacts {
  readonly id: string;
  readonly tlp: Tlp;
  readonly rsitClass: string;
  readonly sectors: string[];
  readonly jurisdictions: string[];
  /** Absent: not scored yet. */
  readonly level?: number;
  readonly engaged: string[];
  readonly sourceAgencyId: string;
  readonly version: number;
}
interface BenchEvent {
  readonly id: string;
  readonly kind: Kind;
  readonly incident: IncidentFacts;
  readonly subject: string;
  readonly envelope: Uint8Array;
}

/**
 * Event `i` is the `i % 4`th of incident `i / 4`'s life: opened, a report attached, its
 * severity changed, an agency assigned; each carries the incident as intake announces it.
 */
function incidentAt(n: number, step: number, agencies: number): IncidentFacts {
  const r = random(SEED * 7919 + n);
  const level = r.next() < 0.8 ? r.int(6) : undefined;
  const engaged = Array.from({ length: r.int(3) }, () => agencyId(r.int(agencies)));
  const sourceAgencyId = r.next() < 0.5 ? agencyId(r.int(agencies)) : '';
  const assigned = agencyId(r.int(agencies));
  return {
    id: incidentId(n),
    tlp: r.weighted<Tlp>([
      ['CLEAR', 0.15],
      ['GREEN', 0.4],
      ['AMBER', 0.25],
      ['AMBER+STRICT', 0.05],
      ['RED', 0.15],
    ]),
    rsitClass: r.pick(RSIT),
    sectors: r.some(SECTORS, 2),
    jurisdictions: r.some(JURISDICTIONS, 2),
    ...(level === undefined ? {} : { level: step >= 2 ? Math.min(5, level + 1) : level }),
    engaged: step >= 3 ? [...new Set([...engaged, assigned])] : engaged,
    sourceAgencyId,
    version: step,
  };
}

function benchEvent(i: number, agencies: number, runId: string): BenchEvent {
  const kind = KINDS[i % KINDS.length]!;
  const facts = incidentAt(Math.floor(i / KINDS.length), i % KINDS.length, agencies);
  const incident = intakeV1.Incident.fromPartial({
    id: facts.id,
    title: `Outage at a ${facts.sectors[0]} operator in ${facts.jurisdictions[0]}`,
    status: intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE,
    tlp: tlpWire(facts.tlp),
    classification: { rsitClass: facts.rsitClass, rsitType: 'other' },
    sectors: facts.sectors,
    jurisdictions: facts.jurisdictions,
    ...(facts.level === undefined
      ? {}
      : {
          severity: { score: 20 + 15 * facts.level, level: facts.level, levelName: `level-${facts.level}` },
        }),
    reportIds: [`report-${i}`],
    engagedAgencyIds: facts.engaged,
    observables: [
      { type: 'ipv4', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      { type: 'domain', value: `c2-${i}.example.net` },
    ],
    awareAt: new Date(),
    openedAt: new Date(),
    updatedAt: new Date(),
    version: facts.version,
    sourceAgencyId: facts.sourceAgencyId,
  });
  const payloads: Record<Kind, [string, Uint8Array]> = {
    opened: ['IncidentOpened', intakeV1.IncidentOpened.encode({ incident }).finish()],
    'report-attached': [
      'ReportAttached',
      intakeV1.ReportAttached.encode({ incidentId: facts.id, reportId: `report-${i}`, incident }).finish(),
    ],
    'severity-changed': [
      'SeverityChanged',
      intakeV1.SeverityChanged.encode({
        incident,
        previousScore: 20,
        previousLevel: 0,
        changes: [],
      }).finish(),
    ],
    'agency-assigned': [
      'AgencyAssigned',
      intakeV1.AgencyAssigned.encode({ incident, agencyId: facts.engaged.at(-1) ?? '' }).finish(),
    ],
  };
  const [schema, data] = payloads[kind];
  const encoded = encodeEnvelope({
    id: `${runId}-event-${i}`,
    time: new Date(),
    source: 'intake',
    domain: 'incident',
    event: kind,
    subject: facts.id,
    tlp: facts.tlp,
    incidentId: facts.id,
    schema: `beacon.intake.v1.${schema}`,
    data,
  });
  return { id: encoded.id, kind, incident: facts, subject: encoded.subject, envelope: encoded.data };
}

/**
 * Who must receive an event, written from the rules rather than taken from notify: cleared for
 * its label; CLEAR and GREEN go to anyone cleared, AMBER, AMBER+STRICT and RED only to agencies
 * engaged on the incident (assigned, or its source); and at least one subscription passes.
 */
function recipientsOf(event: BenchEvent, agencies: readonly BenchAgency[]): Set<string> {
  const { incident } = event;
  const type = `incident.${event.kind}`;
  const engaged = new Set([
    ...incident.engaged,
    ...(incident.sourceAgencyId ? [incident.sourceAgencyId] : []),
  ]);
  const within = (inner: string, outer: string) =>
    inner === outer || (outer.length === 2 && inner.slice(0, 2) === outer);
  const passes = (f: Filters) =>
    (f.eventTypes.length === 0 ||
      f.eventTypes.some((p) => (p.endsWith('.*') ? type.startsWith(p.slice(0, -1)) : p === type))) &&
    (f.incidentIds.length === 0 || f.incidentIds.includes(incident.id)) &&
    (f.rsitClasses.length === 0 || f.rsitClasses.includes(incident.rsitClass)) &&
    (f.sectors.length === 0 || incident.sectors.some((s) => f.sectors.includes(s))) &&
    (f.jurisdictions.length === 0 ||
      incident.jurisdictions.some((j) => f.jurisdictions.some((s) => within(j, s)))) &&
    (f.minNcissLevel === 0 || (incident.level ?? -1) >= f.minNcissLevel);
  const ids = agencies
    .filter(
      (a) =>
        tlpRank(incident.tlp) <= tlpRank(a.clearance) &&
        (tlpRank(incident.tlp) <= tlpRank('GREEN') || engaged.has(a.id)) &&
        a.subscriptions.some(passes),
    )
    .map((a) => a.id);
  return new Set(ids);
}

// ── Measuring ───────────────────────────────────────────────────────────────────────────────
const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** Runs `op(0…count-1)` with at most `window` of them under way. */
async function pipelined(count: number, window: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await op(next++);
    }),
  );
}

/** Resolves when `count()` reaches `target`; rejects when it stops growing for `STALL_MS`. */
function reaching(what: string, count: () => number, target: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = -1;
    let since = performance.now();
    const timer = setInterval(() => {
      const now = count();
      if (now >= target) {
        clearInterval(timer);
        resolve();
      } else if (now !== last) {
        last = now;
        since = performance.now();
      } else if (performance.now() - since > STALL_MS) {
        clearInterval(timer);
        reject(new Error(`${what}: ${now} of ${target} after ${STALL_MS} ms without progress`));
      }
    }, 2);
  });
}

/**
 * Reads a stream from its start with an ordered consumer, handing each message over on arrival.
 * Up to 1,024 messages are asked for at a time: at 15,000 messages a second a window of 256
 * lasts 17 ms, less than this busy process's callbacks are late at p99, and the reader then
 * waited for its own next pull (the delivery stage's p99 reached 146 ms in one run).
 */
async function readStream(
  nc: NatsConnection,
  stream: string,
  subjects: string,
  onMessage: (m: JsMsg) => void,
) {
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: [subjects] });
  return consumer.consume({ max_messages: 1024, callback: onMessage });
}

const timed = async <T>(run: () => Promise<T>) => {
  const started = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - started) / 1000 };
};

const rows: Row[] = [];
const checks: Check[] = [];
const stack = await startBenchStack();
const names = testNames();
/** Notify's process, once started (it runs in a process of its own, as in production). */
let notifyPid: number | undefined;
const cpuOf = (pid: number | undefined) => (pid === undefined ? 0 : processCpuSeconds(pid));
/**
 * CPU of this process (the baseline's client, the event publisher and the feed readers),
 * notify, the NATS server and the mongo-wire store: other work on the machine moves rates and
 * latencies, hardly these.
 */
const cpuNow = () => {
  const own = process.cpuUsage();
  return {
    bench: (own.user + own.system) / 1e6,
    notify: cpuOf(notifyPid),
    nats: cpuOf(stack.processes.nats?.pid),
    store: cpuOf(stack.processes.mongo?.pid),
  };
};
type Cpu = ReturnType<typeof cpuNow>;
const cpuSince = (from: Cpu): Cpu => {
  const now = cpuNow();
  return {
    bench: now.bench - from.bench,
    notify: now.notify - from.notify,
    nats: now.nats - from.nats,
    store: now.store - from.store,
  };
};
const addCpu = (a: Cpu, b: Cpu): Cpu => ({
  bench: a.bench + b.bench,
  notify: a.notify + b.notify,
  nats: a.nats + b.nats,
  store: a.store + b.store,
});
/** Milliseconds of CPU per 1,000 messages, per process. */
const perThousand = (cpu: Cpu, messages: number) => {
  const ms = (seconds: number) => ((1e6 * seconds) / messages).toFixed(0);
  return `bench process ${ms(cpu.bench)}, notify ${ms(cpu.notify)}, nats-server ${ms(cpu.nats)}, store ${ms(cpu.store)} ms CPU per 1,000 messages`;
};
/** Run in reverse at the end, also after a failure, so no connection outlives the servers. */
const cleanups: (() => unknown)[] = [];
try {
  const nc = await connectNats({ servers: stack.endpoints.natsUrl, name: 'bench' });
  cleanups.push(() => nc.close());
  const js = jetstream(nc);
  const agencies = generateAgencies(AGENCIES);
  // One representative feed message, so the baseline moves the same bytes and headers.
  const sample = benchEvent(0, AGENCIES, names.id);

  // ── Baseline: publish with its ack, consume with an ordered pull consumer ──────────────────
  const rawStream = names.stream('RAW');
  await ensureStream(await jetstreamManager(nc), { name: rawStream, subjects: [names.subject('raw.>')] });
  const rawSubject = names.subject(`raw.${agencyId(0)}.incident.opened`);
  const rawArrivals = new Map<string, () => void>();
  let rawReceived = 0;
  const rawReader = await readStream(nc, rawStream, names.subject('raw.>'), (m) => {
    rawReceived += 1;
    const id = m.headers?.get('Beacon-Event-Id');
    if (id) rawArrivals.get(id)?.();
  });
  const lean = BASELINE_PUBLISHER === 'lean' ? new JetStreamPublisher(nc) : undefined;
  const rawPublish = (n: number) => {
    const h = headers();
    const id = `raw-${n}`;
    h.set('Beacon-Event-Id', id);
    h.set('Beacon-Event-Type', 'incident.opened');
    const options = { msgID: `${id}.${agencyId(0)}`, headers: h };
    return {
      id,
      ack: lean
        ? lean.publish(rawSubject, sample.envelope, options)
        : js.publish(rawSubject, sample.envelope, options),
    };
  };
  let rawSent = 0;
  const rawBurst = async (count: number) => {
    const from = rawSent;
    const target = rawReceived + count;
    rawSent += count;
    const arrived = reaching('baseline', () => rawReceived, target);
    await pipelined(count, BASELINE_WINDOW, (i) => rawPublish(from + i).ack);
    await arrived;
  };
  // ── Notify in a process of its own, on this run's streams and database ────────────────────
  const issuer = await createDevIssuer({});
  const jwksFile = join(infraDir, 'bench', `notify-jwks-${names.id}.json`);
  writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
  const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
  const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
  const channelsDurable = names.stream('channels');
  const notify = await startService(
    'notify',
    `notify-${names.id}`,
    {
      MONGO_URL: stack.endpoints.mongoUrl,
      NATS_URL: stack.endpoints.natsUrl,
      NOTIFY_DB: names.database('notify'),
      EVENTS_STREAM: events.stream,
      EVENTS_SUBJECT_ROOT: events.root,
      FEEDS_STREAM: feeds.stream,
      FEEDS_SUBJECT_ROOT: feeds.root,
      NOTIFY_FANOUT_CONSUMER: names.stream('fanout'),
      NOTIFY_CHANNELS_CONSUMER: channelsDurable,
      NOTIFY_HTTP_PORT: String(await freePort()),
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_FILE: jwksFile,
    },
    join(infraDir, 'bench'),
  );
  notifyPid = notify.process.pid;
  cleanups.push(() => notify.process.stop());
  const client = new notifyV1.NotifyServiceClient(notify.address, credentials.createInsecure());
  cleanups.push(() => client.close());
  const metadata = new Metadata();
  metadata.set(
    'authorization',
    `Bearer ${await issuer.mint({ subject: 'bench', roles: ['coordinator'], clearance: 'RED' })}`,
  );
  type Unary = (
    request: unknown,
    metadata: Metadata,
    options: { deadline: Date },
    callback: (error: ServiceError | null) => void,
  ) => unknown;
  const unary = (method: 'putAgency' | 'putSubscription', request: unknown) =>
    new Promise<void>((resolve, reject) =>
      (client[method] as Unary).call(
        client,
        request,
        metadata,
        { deadline: new Date(Date.now() + 30_000) },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  const { AgencyKind } = notifyV1;
  const kinds = [
    AgencyKind.AGENCY_KIND_CSIRT,
    AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT,
    AgencyKind.AGENCY_KIND_REGULATOR,
    AgencyKind.AGENCY_KIND_OPERATOR,
    AgencyKind.AGENCY_KIND_VICTIM_SUPPORT,
  ];
  const registered = await timed(() =>
    pipelined(agencies.length, 8, async (n) => {
      const a = agencies[n]!;
      await unary('putAgency', {
        agency: {
          id: a.id,
          name: `Agency ${n}`,
          kind: kinds[n % kinds.length]!,
          jurisdictions: [JURISDICTIONS[n % JURISDICTIONS.length]!],
          sectors: [SECTORS[n % SECTORS.length]!],
          clearance: tlpWire(a.clearance),
          contacts: [
            { role: 'duty-officer', name: 'Duty officer', email: `duty@${a.id}.example`, phone: '' },
          ],
          version: 0,
        },
        expectedVersion: 0,
      });
      for (const s of a.subscriptions) {
        await unary('putSubscription', { subscription: { ...s, agencyId: a.id } });
      }
    }),
  );
  const subscriptionCount = agencies.reduce((sum, a) => sum + a.subscriptions.length, 0);
  console.error(
    `registered ${agencies.length} agencies, ${subscriptionCount} subscriptions in ${registered.seconds.toFixed(1)} s`,
  );

  // Every feed message is matched to its event by `Beacon-Event-Id`; a copy the rules do not
  // call for, or a second one, counts as unexpected.
  interface Expectation {
    readonly recipients: Set<string>;
    readonly arrived: Set<string>;
    /** When the event was due to be published, in the latency phase. */
    due?: number;
    /** When BEACON_EVENTS acknowledged it (stored), in the latency phase. */
    acked?: number;
    /** Its place among its incident's events, which notify handles one after the other. */
    readonly place: number;
    done?: () => void;
  }
  const expected = new Map<string, Expectation>();
  let delivered = 0;
  let unexpected = 0;
  const perDelivery: number[] = [];
  const perEvent: number[] = [];
  /**
   * Where a feed message's latency goes, in the latency phase: the event's publish until the
   * events stream acknowledged it; from that ack until the feed copy was stored (notify's
   * consume, match, facts and publish; the stream's own timestamp, same machine, same clock);
   * from then until this process received it (delivery to the feed reader).
   */
  const stages = { publish: [] as number[], notify: [] as number[], delivery: [] as number[] };
  /** The notify stage by the event's place among its incident's events (published back to back). */
  const notifyByPlace = KINDS.map(() => [] as number[]);
  const nowOf = (m: JsMsg) => Number(m.timestampNanos / 1_000_000n) - performance.timeOrigin;
  const feedReader = await readStream(nc, feeds.stream, `${feeds.root}.>`, (m) => {
    const at = performance.now();
    const agency = m.subject.slice(feeds.root.length + 1).split('.')[0]!;
    const x = expected.get(m.headers?.get('Beacon-Event-Id') ?? '');
    if (!x || !x.recipients.has(agency) || x.arrived.has(agency)) {
      unexpected += 1;
      return;
    }
    delivered += 1;
    x.arrived.add(agency);
    if (x.due !== undefined) {
      perDelivery.push(at - x.due);
      const stored = nowOf(m);
      if (x.acked !== undefined) {
        stages.notify.push(stored - x.acked);
        notifyByPlace[x.place]!.push(stored - x.acked);
      }
      stages.delivery.push(at - stored);
    }
    if (x.arrived.size === x.recipients.size) {
      if (x.due !== undefined) perEvent.push(at - x.due);
      x.done?.();
    }
  });
  let nextEvent = 0;
  const nextEvents = (count: number) =>
    Array.from({ length: count }, () => {
      const place = nextEvent % KINDS.length;
      const event = benchEvent(nextEvent++, AGENCIES, names.id);
      const expectation: Expectation = {
        recipients: recipientsOf(event, agencies),
        arrived: new Set(),
        place,
      };
      expected.set(event.id, expectation);
      return { event, expectation };
    });
  const publishEvent = (event: BenchEvent) =>
    js.publish(`${events.root}.${event.subject}`, event.envelope, { msgID: event.id });
  const burst = async (count: number) => {
    const batch = nextEvents(count);
    const feedMessages = batch.reduce((sum, b) => sum + b.expectation.recipients.size, 0);
    const target = delivered + feedMessages;
    const arrived = reaching('fan-out burst', () => delivered, target);
    const started = performance.now();
    await pipelined(count, EVENT_WINDOW, (i) => publishEvent(batch[i]!.event));
    const publishedSeconds = (performance.now() - started) / 1000;
    await arrived;
    return { feedMessages, publishedSeconds, seconds: (performance.now() - started) / 1000 };
  };
  const jsm = await jetstreamManager(nc);
  /** Waits until notify's fan-out and channel consumers have settled every message. */
  const settled = () =>
    waitFor(
      async () => {
        const infos = await Promise.all([
          jsm.consumers.info(events.stream, names.stream('fanout')),
          jsm.consumers.info(feeds.stream, `${channelsDurable}-webhook`),
        ]);
        if (infos.some((i) => i.num_pending > 0 || i.num_ack_pending > 0)) throw new Error('still working');
      },
      { what: 'notify consumers settled', timeoutMs: 600_000, intervalMs: 50 },
    );

  // Both sides warm up; then baseline and fan-out bursts take turns, so that whatever else the
  // machine is doing weighs on both alike. Each side's rate is its messages over its seconds.
  await rawBurst(Math.min(10_000, BASELINE_MESSAGES));
  await burst(WARMUP_EVENTS);
  await settled();
  let rawSeconds = 0;
  const peak = { feedMessages: 0, publishedSeconds: 0, seconds: 0 };
  const shares: number[] = [];
  let rawCpu: Cpu = { bench: 0, notify: 0, nats: 0, store: 0 };
  let fanCpu: Cpu = { bench: 0, notify: 0, nats: 0, store: 0 };
  const loads: number[] = [];
  const rawPerRound = Math.floor(BASELINE_MESSAGES / ROUNDS);
  const eventsPerRound = Math.floor(EVENTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const rawFrom = cpuNow();
    const raw = await timed(() => rawBurst(rawPerRound));
    rawCpu = addCpu(rawCpu, cpuSince(rawFrom));
    const fanFrom = cpuNow();
    const fan = await burst(eventsPerRound);
    loads.push(loadavg()[0]!);
    rawSeconds += raw.seconds;
    peak.feedMessages += fan.feedMessages;
    peak.publishedSeconds += fan.publishedSeconds;
    peak.seconds += fan.seconds;
    shares.push(fan.feedMessages / fan.seconds / (rawPerRound / raw.seconds));
    console.error(
      `round ${round + 1}: baseline ${(rawPerRound / raw.seconds).toFixed(0)}/s, fan-out ${(fan.feedMessages / fan.seconds).toFixed(0)} feed messages/s`,
    );
    // The next baseline burst starts only once notify has stored what the last events carried;
    // that work is the fan-out's, so its CPU counts until then.
    await settled();
    fanCpu = addCpu(fanCpu, cpuSince(fanFrom));
  }
  const rawRate = (rawPerRound * ROUNDS) / rawSeconds;
  const feedRate = peak.feedMessages / peak.seconds;
  const eventRate = (eventsPerRound * ROUNDS) / peak.seconds;
  const peakLoad = `load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores`;
  console.error(
    `baseline: ${rawRate.toFixed(0)} messages/s; fan-out: ${eventsPerRound * ROUNDS} events → ${peak.feedMessages} feed messages in ${peak.seconds.toFixed(2)} s = ${feedRate.toFixed(0)}/s`,
  );
  const drain = await timed(settled);
  rows.push({
    name: `fan-out to ${AGENCIES} agencies (feed messages)`,
    opsPerSecond: feedRate,
    note: `${perThousand(fanCpu, peak.feedMessages)}; ${eventsPerRound * ROUNDS} events → ${peak.feedMessages} feed messages (${(peak.feedMessages / (eventsPerRound * ROUNDS)).toFixed(1)}/event, ${subscriptionCount} subscriptions) in ${peak.seconds.toFixed(2)} s; events published in ${peak.publishedSeconds.toFixed(2)} s; share of the baseline per round ${Math.round(100 * Math.min(...shares))}–${Math.round(100 * Math.max(...shares))}%; ${peakLoad}`,
  });
  rows.push({
    name: 'fan-out: events handled',
    opsPerSecond: eventRate,
    note: `fan-out and push-channel consumers settled ${drain.seconds.toFixed(2)} s after the last feed message (no agency here has a webhook or e-mail channel, so the channel consumers read no feed message)`,
  });

  // ── Latency at half of each side's peak rate ─────────────────────────────────────────────
  const rawLatencyFrom = rawSent;
  const rawLatency = await latencyAtRate(
    (i) =>
      new Promise<void>((resolve, reject) => {
        const { id, ack } = rawPublish(rawLatencyFrom + i);
        const timer = setTimeout(() => reject(new Error(`${id} never arrived`)), STALL_MS);
        rawArrivals.set(id, () => {
          clearTimeout(timer);
          rawArrivals.delete(id);
          resolve();
        });
        ack.catch(reject);
      }),
    { ratePerSecond: Math.max(1, rawRate / 2), durationMs: DURATION_MS },
  );
  await rawReader.close();
  // The baseline heads the table.
  rows.unshift({
    name: 'baseline: raw JetStream publish→consume',
    opsPerSecond: rawRate,
    p50Ms: rawLatency.p50Ms,
    p99Ms: rawLatency.p99Ms,
    note: [
      perThousand(rawCpu, rawPerRound * ROUNDS),
      `published with ${BASELINE_PUBLISHER === 'lean' ? 'the one-subscription publisher notify uses' : 'the client’s js.publish'}`,
      `${rawPerRound * ROUNDS} messages in ${ROUNDS} bursts taking turns with the fan-out's, of ${sample.envelope.length} B + headers, ${BASELINE_WINDOW} publishes in flight, ordered consumer`,
      `latency publish→receive at ${rawLatency.ratePerSecond.toFixed(0)}/s`,
      peakLoad,
      rawLatency.errors ? `${rawLatency.errors} errors (${rawLatency.firstError})` : '',
    ]
      .filter(Boolean)
      .join('; '),
  });
  console.error(
    `baseline: p99 ${rawLatency.p99Ms.toFixed(2)} ms at ${rawLatency.ratePerSecond.toFixed(0)}/s`,
  );

  // The fan-out's latency, at half its own peak.
  const rate = Math.max(1, eventRate / 2);
  const interval = 1000 / rate;
  const latencyBatch = nextEvents(Math.max(1, Math.floor((DURATION_MS / 1000) * rate)));
  let t0 = 0;
  // This process publishes the events and reads the feeds (notify has a process of its own):
  // how busy its event loop is, and how late its callbacks run, say how much of a tail is the
  // harness's.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const loopBefore = performance.eventLoopUtilization();
  const latency = await latencyAtRate(
    (i) => {
      // latencyAtRate calls op(0) at once and op(i) when `i * interval` is due: the same clock.
      if (i === 0) t0 = performance.now();
      const { event, expectation } = latencyBatch[i]!;
      expectation.due = t0 + i * interval;
      const published = publishEvent(event).then(() => {
        expectation.acked = performance.now();
        stages.publish.push(expectation.acked - expectation.due!);
      });
      if (expectation.recipients.size === 0) return published;
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${expectation.arrived.size} of ${expectation.recipients.size} feeds`)),
          STALL_MS,
        );
        expectation.done = () => {
          clearTimeout(timer);
          resolve();
        };
        published.catch(reject);
      });
    },
    { ratePerSecond: rate, durationMs: DURATION_MS },
  );
  const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;
  loopDelay.disable();
  const harness = `the bench process's event loop ${(100 * loopBusy).toFixed(0)}% busy, callbacks late by p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms (max ${(loopDelay.max / 1e6).toFixed(0)} ms)`;
  await feedReader.close();

  perDelivery.sort((a, b) => a - b);
  perEvent.sort((a, b) => a - b);
  const stageNote = Object.entries(stages)
    .map(([stage, ms]) => {
      ms.sort((a, b) => a - b);
      return `${stage} p50 ${quantile(ms, 0.5).toFixed(1)} / p99 ${quantile(ms, 0.99).toFixed(1)} / max ${(ms.at(-1) ?? 0).toFixed(1)} ms`;
    })
    .join('; ');
  console.error(`where a feed message's latency goes: ${stageNote}`);
  console.error(
    `notify stage by the event's place among its incident's events: ${notifyByPlace
      .map((ms, place) => {
        ms.sort((a, b) => a - b);
        return `${KINDS[place]} p50 ${quantile(ms, 0.5).toFixed(1)} / p99 ${quantile(ms, 0.99).toFixed(1)} ms`;
      })
      .join('; ')}`,
  );
  const latencyFeedMessages = latencyBatch.reduce((sum, b) => sum + b.expectation.recipients.size, 0);
  rows.push({
    name: 'event → agency feed (each feed message)',
    opsPerSecond: latencyFeedMessages / (DURATION_MS / 1000),
    p50Ms: quantile(perDelivery, 0.5),
    p99Ms: quantile(perDelivery, 0.99),
    note: `${perDelivery.length} feed messages at ${rate.toFixed(0)} events/s (half of peak); from the event's due publish time; max ${perDelivery.at(-1)?.toFixed(1)} ms; ${harness}; ${load()}`,
  });
  for (const [stage, ms] of Object.entries(stages)) {
    rows.push({
      name: `  stage: ${stage}`,
      opsPerSecond: Number.NaN,
      p50Ms: quantile(ms, 0.5),
      p99Ms: quantile(ms, 0.99),
      note: {
        publish: 'event due → BEACON_EVENTS acknowledged it',
        notify: 'acknowledged → feed copy stored (notify: consume, match, facts, publish)',
        delivery: 'feed copy stored → received by the feed reader',
      }[stage],
    });
  }
  rows.push({
    name: 'event → all of its agencies’ feeds',
    opsPerSecond: rate,
    p50Ms: quantile(perEvent, 0.5),
    p99Ms: quantile(perEvent, 0.99),
    note: [
      `${perEvent.length} events with recipients`,
      latency.errors ? `${latency.errors} errors (${latency.firstError})` : '',
    ]
      .filter(Boolean)
      .join('; '),
  });

  const p99 = quantile(perDelivery, 0.99);
  checks.push(
    {
      target: `fan-out throughput >= ${TARGET_SHARE * 100}% of the raw JetStream message rate (feed messages)`,
      measured: `${feedRate.toFixed(0)}/s vs ${rawRate.toFixed(0)}/s = ${((100 * feedRate) / rawRate).toFixed(0)}%`,
      pass: feedRate >= TARGET_SHARE * rawRate,
    },
    {
      target: `event → agency feed p99 < ${TARGET_P99_MS} ms at half of peak`,
      measured: `${p99.toFixed(2)} ms at ${rate.toFixed(0)} events/s (${(latencyFeedMessages / (DURATION_MS / 1000)).toFixed(0)} feed messages/s)`,
      pass: p99 < TARGET_P99_MS,
    },
    {
      target: 'feeds carry exactly what the rules call for',
      measured: `${delivered} expected feed messages arrived, ${unexpected} unexpected or duplicate`,
      pass: unexpected === 0 && latency.errors === 0,
    },
  );
  publish('notify', rows, checks, fileURLToPath(new URL('./results', import.meta.url)));
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  await stack.stop();
}
