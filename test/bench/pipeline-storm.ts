/**
 * The pipeline bench's storm (issue 22): a burst of 1,000 incidents and 10,000 reports from
 * 200 agencies, with 50,000 victim reports of the same phishing campaign, every count times a
 * scale (pipeline-storm-plan.ts), all through the gateway as operators would send them:
 * - the agencies registered (coordinator), four per jurisdiction (CSIRT, police, victim
 *   support, regulator), each subscribed to its own jurisdiction; each incident's report names
 *   one jurisdiction, so its response engages that jurisdiction's CSIRT, police and victim
 *   support, not the 200;
 * - the burst: `clients` closed-loop callers send the plan's reports in order, analysts of the
 *   incident's agencies; a joining report names the indicator of the report that opened its
 *   incident (it waits for that one's answer if it is still out);
 * - beside it, the campaign's victim reports in bulk (`/v1/victim-cases:import`, `batch` rows a
 *   call, `window` calls in flight) from the first incident's opening on, each row linked to one
 *   of the incidents opened by then, in turn;
 * - the agencies read their feeds (gRPC StreamFeed) and acknowledge each engagement request
 *   (the Observer, as in the regular phases).
 * Measured: reports per second and p50/p99 in the burst; per incident, from the answer to the
 * report that opened it until it was triaged (active), engaged (each expected agency assigned
 * in intake) and notified (an engagement request in each expected agency's feed), p50/p99, and
 * from the burst's start until every incident was; victim reports per second and p50/p99 of a
 * batch; what was not done within `drainMs` after the burst and the campaign ended.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { victimsV1 } from '@beacon/proto';
import { waitFor } from '@beacon/testkit/infra';
import { lagSummary, summarise, type Sample } from './phases.js';
import {
  completedAt,
  expectedEngagements,
  stormAgencies,
  stormCounts,
  stormReports,
  unexpected,
  type StormAgency,
} from './pipeline-storm-plan.js';
import { Observer, post, reportBody } from './pipeline-load.js';
import type { Check, Row } from './report.js';
import { campaign, windowed } from './victims-campaign.js';

export interface StormOptions {
  /** The gateway's REST base URL and gRPC address. */
  readonly http: string;
  readonly grpc: string;
  readonly nc: NatsConnection;
  readonly subjectRoot: string;
  /** Mints a user token (the stack's development issuer). */
  readonly mint: (
    subject: string,
    roles: ('agency_analyst' | 'victim_officer')[],
    agencyId?: string,
  ) => Promise<string>;
  readonly coordinatorToken: string;
  readonly scale: number;
  readonly clients: number;
  readonly drainMs: number;
  /** Victim reports per import call, and calls in flight. */
  readonly victimBatch: number;
  readonly victimWindow: number;
  /** Incidents stored before the storm (labels the acknowledgements' samples). */
  readonly storedAtStart: number;
  /** CPU seconds of each process so far, by name. */
  readonly cpu: () => Record<string, number>;
}

const name = (what: string) => `storm: ${what}`;

/** Registers the storm's agencies, each subscribed to the events of its own jurisdiction. */
async function register(options: StormOptions, agencies: readonly StormAgency[]): Promise<void> {
  await windowed(agencies.length, 1, Math.min(8, options.clients), async (i) => {
    const agency = agencies[i]!;
    await post(options.http, '/v1/agencies', options.coordinatorToken, {
      agency: {
        id: agency.id,
        name: `${agency.id} (storm)`,
        kind: agency.kind,
        jurisdictions: [agency.jurisdiction],
        sectors: ['financial-services'],
        clearance: 'TLP_AMBER',
        contacts: [
          { role: 'duty-officer', name: 'Duty officer', email: `duty@${agency.id}.example` },
          { role: 'deputy', name: 'Deputy', email: `deputy@${agency.id}.example` },
        ],
      },
    });
    await post(options.http, '/v1/subscriptions', options.coordinatorToken, {
      subscription: { id: 'default', agencyId: agency.id, jurisdictions: [agency.jurisdiction] },
    });
  });
  // The campaign discloses a few risks: those are routed at once to a crisis line.
  await post(options.http, '/v1/support-organisations', options.coordinatorToken, {
    organisation: {
      id: 'storm-crisis-line',
      name: 'Crisis line',
      jurisdictions: ['DE', 'AT', 'FR'],
      languages: ['de', 'en', 'fr', 'tr'],
      crisisCapable: true,
      capacity: 100_000,
      accepting: true,
    },
    expectedVersion: 0,
  });
}

/** A promise settled from outside: an incident's id, once the report opening it is answered. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed opening report is counted once, where it failed; waiters see it as their own error.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The indicator of storm incident `k` (distinct from the regular phases' 10.x.y.z). */
const indicator = (k: number) => `172.${16 + ((k >> 16) & 15)}.${(k >> 8) & 255}.${k & 255}`;

/** Runs the storm on a running pipeline; returns its table rows and checks. */
export async function storm(options: StormOptions): Promise<{ rows: Row[]; checks: Check[] }> {
  const counts = stormCounts(options.scale);
  const agencies = stormAgencies(counts.agencies);
  const plan = stormReports(counts, Math.ceil((options.clients * counts.incidents) / counts.reports) + 1);
  console.error(
    `storm at scale ${options.scale}: ${counts.incidents} incidents, ${counts.reports} reports, ` +
      `${counts.agencies} agencies, ${counts.victims} victim reports; ${options.clients} clients`,
  );
  const setupStarted = performance.now();
  await register(options, agencies);
  const reporters = await Promise.all(
    agencies.map((a) => options.mint(`storm-reporter-${a.id}`, ['agency_analyst'], a.id)),
  );
  const analysts = await Promise.all(
    agencies.map(async (a) => ({
      id: a.id,
      token: await options.mint(`storm-analyst-${a.id}`, ['agency_analyst'], a.id),
    })),
  );
  const officer = await options.mint(
    'storm-officer',
    ['victim_officer'],
    agencies.find((a) => a.kind === 'AGENCY_KIND_VICTIM_SUPPORT')!.id,
  );
  const opened = new Map<string, number>();
  const observer = new Observer({
    grpc: options.grpc,
    http: options.http,
    nc: options.nc,
    subjectRoot: options.subjectRoot,
    agencies: analysts,
    stored: () => options.storedAtStart + opened.size,
  });
  const setupSeconds = (performance.now() - setupStarted) / 1000;

  const incidents = Array.from({ length: counts.incidents }, () => deferred<string>());
  /** Incidents opened so far, in the order their opening reports were answered. */
  const openedIds: string[] = [];
  const firstOpened = deferred<void>();
  const expected = new Map<string, readonly string[]>();
  const samples = { open: [] as Sample[], join: [] as Sample[], victim: [] as Sample[] };
  const errors: Record<string, { count: number; first: string }> = {};
  const fail = (kind: string, error: unknown) => {
    const entry = (errors[kind] ??= {
      count: 0,
      first: error instanceof Error ? error.message : String(error),
    });
    entry.count += 1;
  };
  let victimsAccepted = 0;
  let victimsRefused = 0;
  const victimRows = campaign(counts.victims, 22, Date.now(), 'storm-campaign');
  const cpuBefore = options.cpu();
  const startedMs = performance.now();

  let next = 0;
  const burst = Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (next < plan.length) {
        const report = plan[next++]!;
        const incident = incidents[report.incident]!;
        const jurisdiction = agencies[report.reporter]!.jurisdiction;
        const body = reportBody(indicator(report.incident), jurisdiction);
        try {
          const target = report.kind === 'join' ? await incident.promise : undefined;
          const began = performance.now();
          const answer = await post(options.http, '/v1/reports', reporters[report.reporter]!, body);
          const ended = performance.now();
          const id = (answer['incident'] as { id?: string } | undefined)?.id;
          if (!id) throw new Error('the report names no incident');
          if (report.kind === 'open') {
            if (answer['attached']) throw new Error(`a new indicator joined ${id}`);
            opened.set(id, ended);
            expected.set(id, expectedEngagements(report.incident, agencies));
            openedIds.push(id);
            incident.resolve(id);
            firstOpened.resolve();
          } else if (!answer['attached'] || id !== target) {
            throw new Error(`a report naming ${indicator(report.incident)} did not join ${target}`);
          }
          samples[report.kind].push({ startedMs: began, endedMs: ended, stored: options.storedAtStart });
        } catch (error) {
          fail(report.kind, error);
          if (report.kind === 'open') incident.reject(error);
        }
      }
    }),
  ).then(() => {
    firstOpened.reject(new Error('no incident opened'));
    return performance.now();
  });

  const victims = windowed(victimRows.length, options.victimBatch, options.victimWindow, async (offset) => {
    const slice = victimRows.slice(offset, offset + options.victimBatch);
    try {
      await firstOpened.promise;
      const rows = slice.map((row, i) => ({
        ...row,
        case: { ...row.case!, incidentIds: [openedIds[(offset + i) % openedIds.length]!] },
      }));
      const began = performance.now();
      const answer = victimsV1.ImportCasesResponse.fromJSON(
        await post(
          options.http,
          '/v1/victim-cases:import',
          officer,
          victimsV1.ImportCasesRequest.toJSON({ rows, firstRow: offset + 1 }),
        ),
      );
      samples.victim.push({ startedMs: began, endedMs: performance.now(), stored: options.storedAtStart });
      victimsAccepted += answer.cases.length;
      victimsRefused += answer.errors.length;
      if (answer.errors[0]) fail('victim row', new Error(JSON.stringify(answer.errors[0])));
    } catch (error) {
      fail('victim batch', error);
    }
  }).then(() => performance.now());

  const [burstEndedMs, victimsEndedMs] = await Promise.all([burst, victims]);
  const done = () => ({
    triaged: [...opened.keys()].filter((id) => observer.triaged.has(id)).length,
    engaged: completedAt(expected, observer.assigned),
    notified: completedAt(expected, observer.notified),
  });
  await waitFor(
    async () => {
      const now = done();
      if (now.triaged < opened.size || now.engaged.size < opened.size || now.notified.size < opened.size)
        throw new Error('incidents still in progress');
    },
    {
      what: 'every storm incident triaged, engaged and notified',
      timeoutMs: options.drainMs,
      intervalMs: 500,
    },
  ).catch(() => undefined);
  const drainedMs = performance.now();
  observer.acknowledging = false;
  await observer.settled();
  const cpuAfter = options.cpu();
  observer.close();

  const rows: Row[] = [];
  const reports = [...samples.open, ...samples.join];
  const all = summarise(reports);
  const burstSeconds = (burstEndedMs - startedMs) / 1000;
  const errorNote = Object.entries(errors)
    .map(([kind, e]) => `${e.count} ${kind} errors (${e.first.slice(0, 160)})`)
    .join('; ');
  const opens = summarise(samples.open);
  const joins = summarise(samples.join);
  rows.push({
    name: name(`burst, ${counts.reports.toLocaleString('en')} reports from ${counts.agencies} agencies`),
    opsPerSecond: reports.length / burstSeconds,
    p50Ms: all.p50Ms,
    p99Ms: all.p99Ms,
    note: [
      `${samples.open.length} opened (p50 ${opens.p50Ms.toFixed(0)} ms, p99 ${opens.p99Ms.toFixed(0)} ms), ` +
        `${samples.join.length} joined (p50 ${joins.p50Ms.toFixed(0)} ms, p99 ${joins.p99Ms.toFixed(0)} ms) ` +
        `in ${burstSeconds.toFixed(1)} s by ${options.clients} clients; agencies registered and subscribed in ${setupSeconds.toFixed(1)} s`,
      errorNote,
    ]
      .filter(Boolean)
      .join('; '),
  });
  const victimsSummary = summarise(samples.victim);
  rows.push({
    name: name(`victim reports of one campaign (${options.victimBatch} a call)`),
    opsPerSecond: victimsAccepted / victimsSummary.seconds,
    p50Ms: victimsSummary.p50Ms,
    p99Ms: victimsSummary.p99Ms,
    note:
      `${victimsAccepted} cases opened, ${victimsRefused} rows refused, in ${victimsSummary.seconds.toFixed(1)} s ` +
      `from the first call, done ${((victimsEndedMs - startedMs) / 1000).toFixed(1)} s after the burst's start ` +
      `(${options.victimWindow} calls in flight); p50/p99 of a call of ${options.victimBatch} rows`,
  });
  const now = done();
  const stages = [
    ['triaged (response active)', observer.triaged],
    ['engaged (its agencies assigned in intake)', now.engaged],
    ['notified (engagement request in each engaged agency’s feed)', now.notified],
  ] as const;
  const checks: Check[] = [];
  for (const [stage, times] of stages) {
    const lag = lagSummary(opened, times);
    const seen = [...opened.keys()].flatMap((id) => (times.has(id) ? [times.get(id)!] : []));
    const last = seen.length > 0 ? Math.max(...seen) : Number.NaN;
    const untilAll = (last - startedMs) / 1000;
    rows.push({
      name: name(`opening report answered → ${stage}`),
      opsPerSecond: lag.arrived / untilAll,
      p50Ms: lag.p50Ms,
      p99Ms: lag.p99Ms,
      note:
        (lag.missing === 0
          ? `every one of ${lag.arrived} incidents ${untilAll.toFixed(1)} s after the burst's start`
          : `${lag.missing} of ${opened.size} not within ${options.drainMs / 1000} s of the burst's and campaign's end`) +
        `; ${(lag.arrived / untilAll).toFixed(2)} incidents/s from the burst’s start to the last (ops/s)`,
    });
    checks.push({
      target: `storm: every incident ${stage.split(' ')[0]} within the drain`,
      measured:
        lag.missing === 0
          ? `all ${lag.arrived} within ${untilAll.toFixed(1)} s of the burst's start`
          : `${lag.missing} of ${opened.size} missing`,
      pass: lag.missing === 0 && opened.size === counts.incidents,
    });
  }
  const acks = summarise(observer.acks);
  rows.push({
    name: name('agency acknowledgements'),
    opsPerSecond: Number.NaN,
    p50Ms: acks.p50Ms,
    p99Ms: acks.p99Ms,
    note:
      `${acks.samples} acknowledged from engagement requests in the feeds; ` +
      `${unexpected(expected, observer.assigned)} assignments beyond the expected ones (e.g. regulators from level 2)` +
      (observer.ackErrors.count ? `; ${observer.ackErrors.count} errors (${observer.ackErrors.first})` : ''),
  });
  const perIncident = Math.max(1, opened.size);
  rows.push({
    name: name('CPU ms per incident'),
    opsPerSecond: Number.NaN,
    note:
      `from the burst's start to ${((drainedMs - startedMs) / 1000).toFixed(1)} s after it, with its reports and victims: ` +
      Object.keys(cpuAfter)
        .map((k) => `${k} ${(((cpuAfter[k]! - (cpuBefore[k] ?? 0)) * 1000) / perIncident).toFixed(0)}`)
        .join(', '),
  });
  return { rows, checks };
}
