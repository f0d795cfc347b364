/**
 * The pipeline bench's clients, as operators use Beacon through the gateway: reporters whose
 * TLP:GREEN reports open incidents or join them (REST), victim officers opening cases, and
 * agencies that read their feeds (gRPC StreamFeed) and acknowledge the engagements they are
 * asked for (REST). Beside them, a tap on intake's events marks when each response left triage.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { credentials, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { eventsV1, intakeV1, notifyV1 } from '@beacon/proto';
import type { Sample } from './phases.js';

export type CallKind = 'open' | 'join' | 'victim' | 'ack';

export interface DriveOptions {
  /** The gateway's REST base URL. */
  readonly http: string;
  /** Closed-loop callers, each its own reporter (token subject). */
  readonly reporterTokens: readonly string[];
  readonly officerToken: string;
  readonly durationMs: number;
  /** Shares of the calls that join an incident of this run, and that open a victim case. */
  readonly joinShare: number;
  readonly victimShare: number;
  /** Incidents stored before the first call; each opened one adds to it. */
  readonly storedAtStart: number;
  /** Distinct from every other drive's, so no report repeats another's indicator. */
  readonly runTag: number;
  /**
   * Calls per second offered by all the callers together, each call at its slot whether or not
   * the ones before were answered (a caller still waiting makes its next call late, and the
   * drive reports the rate it reached); absent: closed loop, each call as soon as the last.
   */
  readonly ratePerSecond?: number;
}

export interface DriveResult {
  readonly samples: Readonly<Record<Exclude<CallKind, 'ack'>, Sample[]>>;
  /** Incidents opened, with when the submission that opened each was acknowledged (ms). */
  readonly opened: Map<string, number>;
  readonly errors: Record<string, { count: number; first: string }>;
  readonly startedMs: number;
  readonly endedMs: number;
  /** Incidents stored at the end (what was there, and what this drive opened). */
  readonly storedAtEnd: number;
}

/** A small deterministic generator, so runs with the same settings make the same mix. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export function reportBody(ip: string, jurisdiction = 'FR'): Record<string, unknown> {
  return {
    title: `Phishing wave against a regional bank (${ip})`,
    description: 'Credential-harvesting pages imitating online banking; SMS lures.',
    tlp: 'TLP_GREEN',
    classification: { rsitClass: 'fraud', rsitType: 'phishing' },
    sectors: ['financial-services'],
    jurisdictions: [jurisdiction],
    observables: [{ type: 'ipv4', value: ip }],
    awareAt: new Date(Date.now() - 600_000).toISOString(),
  };
}

function victimCaseBody(incidentId: string, n: number): Record<string, unknown> {
  return {
    case: {
      incidentIds: [incidentId],
      jurisdiction: 'FR',
      language: 'fr',
      victim: { kind: 'VICTIM_KIND_PERSON', displayName: `Bench victim ${n}` },
      needs: [{ psychologicalDistress: { instrument: 'SCREENING_INSTRUMENT_K10', score: 18 } }],
      consents: [{ purpose: 'CONSENT_PURPOSE_SHARE_SUPPORT', granted: true, wordingVersion: 'bench-1' }],
    },
  };
}

export async function post(
  http: string,
  path: string,
  token: string,
  body: unknown,
  key?: string,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${http}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * `reporterTokens.length` callers, each issuing its next call as soon as its last one is
 * answered (or at its slot, at `ratePerSecond`), for `durationMs`: a report with an indicator never seen (opens an incident), one
 * naming an indicator of an incident opened in this drive (joins it), or a victim case on such
 * an incident.
 */
export async function drive(options: DriveOptions): Promise<DriveResult> {
  const samples: DriveResult['samples'] = { open: [], join: [], victim: [] };
  const opened = new Map<string, number>();
  const recent: { incidentId: string; ip: string }[] = [];
  const errors: DriveResult['errors'] = {};
  const fail = (kind: string, error: unknown) => {
    const entry = (errors[kind] ??= {
      count: 0,
      first: error instanceof Error ? error.message : String(error),
    });
    entry.count += 1;
  };
  let stored = options.storedAtStart;
  let sequence = 0;
  const startedMs = performance.now();
  const until = startedMs + options.durationMs;
  let slot = 0;
  /** Waits for the next call's slot at the offered rate; false once the drive is over. */
  const paced = async () => {
    if (!options.ratePerSecond) return performance.now() < until;
    const at = startedMs + (slot++ * 1000) / options.ratePerSecond;
    if (at >= until) return false;
    const wait = at - performance.now();
    if (wait > 0) await delay(wait);
    return true;
  };
  await Promise.all(
    options.reporterTokens.map(async (token, client) => {
      const next = random(options.runTag * 7919 + client + 1);
      while (await paced()) {
        const roll = next();
        const target =
          recent.length > 0 ? recent[Math.floor(next() * Math.min(recent.length, 200))] : undefined;
        const kind =
          target && roll < options.victimShare
            ? 'victim'
            : target && roll < options.victimShare + options.joinShare
              ? 'join'
              : 'open';
        const n = sequence++;
        const startedAt = performance.now();
        const storedNow = stored;
        try {
          if (kind === 'victim') {
            await post(
              options.http,
              '/v1/victim-cases',
              options.officerToken,
              victimCaseBody(target!.incidentId, n),
              `bench-${options.runTag}-victim-${n}`,
            );
          } else {
            const ip =
              kind === 'join' ? target!.ip : `10.${options.runTag & 255}.${(n >> 8) & 255}.${n & 255}`;
            const answer = await post(options.http, '/v1/reports', token, reportBody(ip));
            const incidentId = (answer['incident'] as { id?: string } | undefined)?.id;
            if (!incidentId) throw new Error('the report names no incident');
            if (kind === 'open') {
              if (answer['attached']) throw new Error(`a new indicator joined ${incidentId}`);
              opened.set(incidentId, performance.now());
              stored += 1;
              recent.unshift({ incidentId, ip });
              if (recent.length > 400) recent.length = 200;
            } else if (!answer['attached']) {
              throw new Error(`a report naming ${ip} did not join ${target!.incidentId}`);
            }
          }
          samples[kind].push({ startedMs: startedAt, endedMs: performance.now(), stored: storedNow });
        } catch (error) {
          fail(kind, error);
        }
      }
    }),
  );
  return { samples, opened, errors, startedMs, endedMs: performance.now(), storedAtEnd: stored };
}

/** Records when `agencyId` was first seen for `incidentId`. */
function firstSeen(seen: Map<string, Map<string, number>>, incidentId: string, agencyId: string): void {
  let agencies = seen.get(incidentId);
  if (!agencies) seen.set(incidentId, (agencies = new Map<string, number>()));
  if (!agencies.has(agencyId)) agencies.set(agencyId, performance.now());
}

/**
 * What the agencies and intake's events show: when each incident's `opened` event reached the
 * watched agency's feed, when each response started (incident in triage) and left triage
 * (active), when intake assigned each agency to it and when its engagement request reached
 * each agency's feed, and the agencies' acknowledgements of the engagements they were asked for.
 */
export class Observer {
  readonly feed = new Map<string, number>();
  readonly triageStarted = new Map<string, number>();
  readonly triaged = new Map<string, number>();
  /** By incident, then agency: when intake announced the agency assigned (first time). */
  readonly assigned = new Map<string, Map<string, number>>();
  /** By incident, then agency: when the engagement request arrived in the agency's feed. */
  readonly notified = new Map<string, Map<string, number>>();
  readonly acks: Sample[] = [];
  readonly ackErrors = { count: 0, first: '' };
  acknowledging = true;
  readonly #streams: ClientReadableStream<notifyV1.StreamFeedResponse>[] = [];
  readonly #client: notifyV1.NotifyServiceClient;
  readonly #taps: Subscription[];
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(
    private readonly options: {
      readonly grpc: string;
      readonly http: string;
      readonly nc: NatsConnection;
      readonly subjectRoot: string;
      /** Each agency with one of its analysts' tokens; the first one's feed is timed. */
      readonly agencies: readonly { readonly id: string; readonly token: string }[];
      /** Stored incidents now, for the acknowledgements' samples. */
      readonly stored: () => number;
    },
  ) {
    this.#client = new notifyV1.NotifyServiceClient(options.grpc, credentials.createInsecure());
    for (const [i, agency] of options.agencies.entries()) this.#watch(agency, i === 0);
    const statusTap = options.nc.subscribe(`${options.subjectRoot}.incident.status-changed`, {
      callback: (error, message) => {
        if (error) return;
        const envelope = eventsV1.Envelope.decode(message.data);
        const change = intakeV1.StatusChanged.decode(envelope.data);
        const id = change.incident?.id ?? envelope.incidentId;
        const status = change.incident?.status;
        if (status === intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE)
          this.triageStarted.set(id, performance.now());
        if (status === intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE)
          this.triaged.set(id, performance.now());
      },
    });
    const assignedTap = options.nc.subscribe(`${options.subjectRoot}.incident.agency-assigned`, {
      callback: (error, message) => {
        if (error) return;
        const envelope = eventsV1.Envelope.decode(message.data);
        const assigned = intakeV1.AgencyAssigned.decode(envelope.data);
        firstSeen(this.assigned, assigned.incident?.id ?? envelope.incidentId, assigned.agencyId);
      },
    });
    this.#taps = [statusTap, assignedTap];
  }

  /**
   * Reads the agency's feed from `from` on (0: new events only). A stream notify ends (its
   * lifetime is capped) is opened again after the last event seen, as a client should.
   */
  #watch(agency: { id: string; token: string }, timed: boolean, from = '0'): void {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${agency.token}`);
    const stream = this.#client.streamFeed(
      { agencyId: agency.id, fromSequence: from, heartbeatSeconds: 5 },
      metadata,
    );
    let last = from === '0' ? undefined : BigInt(from) - 1n;
    let reopened = false;
    const reopen = () => {
      if (this.#closed || reopened) return;
      reopened = true;
      this.#streams.splice(this.#streams.indexOf(stream), 1);
      const next = last === undefined ? '0' : String(last + 1n);
      // A moment's pause, so a stream refused at once is not asked for again in a tight loop.
      setTimeout(() => {
        if (!this.#closed) this.#watch(agency, timed, next);
      }, 200);
    };
    stream.on('end', reopen);
    stream.on('data', (item: notifyV1.StreamFeedResponse) => {
      if (item.item?.$case !== 'event') return;
      const event = item.item.value;
      last = BigInt(event.sequence);
      if (timed && event.type.includes('incident.opened') && !this.feed.has(event.incidentId)) {
        this.feed.set(event.incidentId, performance.now());
      }
      if (event.type.includes('engagement-requested')) {
        firstSeen(this.notified, event.incidentId, agency.id);
        if (this.acknowledging) this.#acknowledge(agency, event.incidentId);
      }
    });
    stream.on('error', (error: Error) => {
      if (/CANCELLED/.test(error.message)) return;
      // The stream's lifetime ran out (or notify shed it): carry on after the last event seen.
      if (/UNAVAILABLE/.test(error.message)) return reopen();
      // Said once per agency, and read on: an INTERNAL here is worth a look, not a lost phase.
      console.error(`feed of ${agency.id}: ${error.message}; reading on from after ${last ?? 'the start'}`);
      if (/INTERNAL/.test(error.message)) reopen();
    });
    this.#streams.push(stream);
  }

  #acknowledge(agency: { id: string; token: string }, incidentId: string): void {
    const startedMs = performance.now();
    const stored = this.options.stored();
    const done = post(
      this.options.http,
      `/v1/agencies/${agency.id}/incidents/${incidentId}:acknowledge`,
      agency.token,
      {
        agencyId: agency.id,
        incidentId,
        note: 'bench',
      },
    ).then(
      () => void this.acks.push({ startedMs, endedMs: performance.now(), stored }),
      (error: unknown) => {
        this.ackErrors.count += 1;
        this.ackErrors.first ||= error instanceof Error ? error.message : String(error);
      },
    );
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  /** Waits for acknowledgements in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  close(): void {
    this.#closed = true;
    for (const stream of this.#streams) stream.cancel();
    for (const tap of this.#taps) tap.unsubscribe();
    this.#client.close();
  }
}
