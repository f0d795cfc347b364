import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Db } from 'mongodb';
import { parseJurisdiction, type Tlp } from '@beacon/domain';
import { createLogger, encodeEnvelope } from '@beacon/platform';
import type { TestNames } from '@beacon/testkit';
import {
  ChannelDelivery,
  type ChannelDeliveryOptions,
  type DeadLetter,
} from '../src/app/channel-delivery.js';
import { FeedAccessCheck } from '../src/app/feed-access-check.js';
import type { DeliveryRecord, IncidentFacts, StoredAgency } from '../src/app/ports.js';
import { feedSubject } from '../src/adapters/nats/feeds.js';
import type { Channels } from '../src/domain/agency.js';
import { MongoDeadLetterStore } from '../src/adapters/mongo/dead-letters.js';
import { MongoDeliveryLog } from '../src/adapters/mongo/delivery-log.js';

/** An agency record with valid defaults and the channels a test gives it. */
export function agency(id: string, channels: Channels): StoredAgency {
  return {
    id,
    name: `Agency ${id}`,
    kind: 'csirt',
    jurisdictions: [parseJurisdiction('DE')!],
    sectors: ['energy'],
    clearance: 'RED',
    contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@agency.example' }],
    channels,
    engagedIncidentIds: [],
    version: 1,
  };
}

export interface PublishedEvent {
  readonly id: string;
  readonly incidentId: string;
  readonly tlp: Tlp;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly seq: number;
}

export interface Kit {
  readonly stream: string;
  readonly root: string;
  readonly js: JetStreamClient;
  readonly log: MongoDeliveryLog;
  readonly deadLetters: MongoDeadLetterStore;
  readonly agencies: Map<string, StoredAgency>;
  /**
   * What notify knows of incidents, as the delivery's access check reads it at each attempt.
   * An incident the test did not describe engages every agency of the kit.
   */
  readonly incidents: Map<string, IncidentFacts>;
  /** Publishes one event into an agency's feed, as the fan-out does. */
  publish(
    agencyId: string,
    event?: Partial<Omit<PublishedEvent, 'seq'>> & { readonly time?: Date },
  ): Promise<PublishedEvent>;
  /** Starts channel delivery on the test's feed; stopped after the test. */
  startDelivery(
    options: Partial<Omit<ChannelDeliveryOptions, 'nc' | 'stream' | 'subjectRoot' | 'durable'>>,
  ): Promise<ChannelDelivery>;
  /** The agency's delivery records for the incident, read from Mongo. */
  records(agencyId: string, incidentId: string): Promise<DeliveryRecord[]>;
  letters(agencyId: string): Promise<DeadLetter[]>;
  /** A webhook receiver on the loopback, closed after the test. */
  receiver(behaviour?: Behaviour): Promise<Receiver>;
}

export const INCIDENT = 'inc-1';

/**
 * The `kit` fixture: the test's own feeds stream and subject root, a delivery log and a
 * dead-letter store in the test's database, agencies held in memory, and every delivery it
 * starts stopped afterwards.
 */
export async function createKit(
  { nats, jsm, names, db }: { nats: NatsConnection; jsm: JetStreamManager; names: TestNames; db: Db },
  onCleanup: (cleanup: () => Promise<void>) => void,
): Promise<Kit> {
  const stream = names.stream('FEEDS');
  const root = names.subject('beacon.feed');
  await jsm.streams.add({ name: stream, subjects: [`${root}.>`], duplicate_window: 60 * 1e9 });
  const js = jetstream(nats);
  const log = new MongoDeliveryLog(db);
  const deadLetters = new MongoDeadLetterStore(db);
  await log.init();
  await deadLetters.init();
  const agencies = new Map<string, StoredAgency>();
  const incidents = new Map<string, IncidentFacts>();
  const running: ChannelDelivery[] = [];
  const receivers: Receiver[] = [];
  onCleanup(async () => {
    for (const delivery of running) await delivery.stop();
    for (const receiver of receivers) await receiver.close();
  });
  return {
    stream,
    root,
    js,
    log,
    deadLetters,
    agencies,
    incidents,
    async publish(agencyId, event = {}) {
      const id = event.id ?? randomUUID();
      const incidentId = event.incidentId ?? INCIDENT;
      const tlp = event.tlp ?? 'AMBER';
      const subject = event.subject ?? `incident/${incidentId}`;
      const data = event.data ?? new TextEncoder().encode(`payload of ${id}`);
      const encoded = encodeEnvelope({
        id,
        time: event.time ?? new Date(),
        source: 'intake',
        domain: 'incident',
        event: 'opened',
        subject,
        tlp,
        incidentId,
        schema: 'beacon.intake.v1.IncidentOpened',
        data,
      });
      const feed = feedSubject(root, { agencyId, incidentId, tlp, type: 'incident.opened' });
      const ack = await js.publish(feed, encoded.data, {
        msgID: `${id}.${agencyId}`,
      });
      return { id, incidentId, tlp, subject, data, seq: ack.seq };
    },
    async startDelivery(options) {
      const delivery = new ChannelDelivery({
        nc: nats,
        stream,
        subjectRoot: root,
        durable: 'notify-channels',
        agencies: {
          get: async (id) => agencies.get(id),
          all: async () => [...agencies.values()].map((agency) => ({ agency })),
        },
        access: new FeedAccessCheck({
          agencies: { get: async (id) => agencies.get(id) },
          incidents: {
            get: async (incidentId) =>
              incidents.get(incidentId) ?? {
                incidentId,
                tlp: 'CLEAR',
                sectors: [],
                jurisdictions: [],
                engagedAgencyIds: [...agencies.keys()],
                version: 1,
              },
          },
          maxAgeMs: 0,
        }),
        log,
        deadLetters,
        storm: { windowMs: 60_000, threshold: 1_000 },
        retry: { baseMs: 50, capMs: 1_000, maxAttempts: 4 },
        clock: { now: () => new Date() },
        random: Math.random,
        logger: createLogger({ name: 'notify-test', level: 'silent' }),
        ...options,
      });
      await delivery.start();
      running.push(delivery);
      return delivery;
    },
    records: (agencyId, incidentId) => log.list(agencyId, incidentId),
    letters: (agencyId) => deadLetters.list(agencyId),
    async receiver(behaviour) {
      const receiver = await startReceiver(behaviour);
      receivers.push(receiver);
      return receiver;
    },
  };
}

export interface ReceivedRequest {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver does with its n-th request (0-based): answer with a status, or hang up. */
export type Behaviour = (index: number, request: ReceivedRequest) => number | 'hang-up';

export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A webhook receiver on the loopback that records every request it gets, whole. */
export async function startReceiver(behaviour: Behaviour = () => 200): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = requests.length;
      requests.push(request);
      const answer = behaviour(index, request);
      if (answer === 'hang-up') {
        // Received and processed, but the sender never learns it: the duplicate's origin.
        req.socket.destroy();
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'failing on purpose');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
