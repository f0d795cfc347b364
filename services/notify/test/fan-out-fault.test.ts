import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import type { Tlp } from '@beacon/domain';
import { createDevIssuer, encodeEnvelope, tlpToProto } from '@beacon/platform';
import { intakeV1, notifyV1 } from '@beacon/proto';
import {
  freePort,
  grpcServing,
  infraDir,
  ManagedProcess,
  repoRoot,
  test as base,
  waitFor,
} from '@beacon/testkit';
import { agency, call, subscription } from './harness.js';

/** Notify as an OS process of its own, run from source, which the test may kill -9. */
interface NotifyProcess {
  readonly process: ManagedProcess;
  readonly address: string;
  readonly events: { readonly stream: string; readonly root: string };
  readonly feeds: { readonly stream: string; readonly root: string };
  readonly fanOutConsumer: string;
  readonly coordinatorToken: string;
  /** Starts the process (again) and waits until it serves gRPC, i.e. its consumers are bound. */
  start(): Promise<void>;
}

const test = base.extend(
  'notify',
  async ({ infra, names, jsm, mongoClient }, { onCleanup }): Promise<NotifyProcess> => {
    const dir = join(infraDir, 'test', 'apps', `notify-${names.id}`);
    mkdirSync(dir, { recursive: true });
    const issuer = await createDevIssuer({});
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
    const port = await freePort();
    const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
    const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
    const fanOutConsumer = names.stream('fanout');
    const database = names.database('notify');
    const proc = new ManagedProcess({
      name: 'notify',
      command: process.execPath,
      // From source, as the tests resolve workspace packages: no build needs to be fresh.
      args: ['--conditions=source', '--import', 'tsx', join(repoRoot, 'services/notify/src/main.ts')],
      logFile: join(dir, 'notify.log'),
      env: {
        AUTH_ISSUER: issuer.issuer,
        AUTH_AUDIENCE: issuer.audience,
        AUTH_JWKS_FILE: jwksFile,
        MONGO_URL: infra.mongoUrl,
        NOTIFY_DB: database,
        NATS_URL: infra.natsUrl,
        NOTIFY_GRPC_PORT: String(port),
        EVENTS_STREAM: events.stream,
        EVENTS_SUBJECT_ROOT: events.root,
        FEEDS_STREAM: feeds.stream,
        FEEDS_SUBJECT_ROOT: feeds.root,
        NOTIFY_FANOUT_CONSUMER: fanOutConsumer,
        NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
        ACK_SUBJECT_ROOT: names.subject('beacon.ack'),
        LOG_LEVEL: 'info',
      },
    });
    const address = `127.0.0.1:${port}`;
    // Registered before the process starts, so a half-started one never outlives the test. The
    // fixture depends on `jsm` so that this runs before `jsm` deletes the test's streams.
    onCleanup(async () => {
      await proc.stop();
      await mongoClient.db(database).dropDatabase();
    });
    void jsm;
    const notify: NotifyProcess = {
      process: proc,
      address,
      events,
      feeds,
      fanOutConsumer,
      coordinatorToken: await issuer.mint({ subject: 'cc', roles: ['coordinator'], clearance: 'RED' }),
      start: async () => {
        proc.start();
        await waitFor(() => grpcServing(address), {
          what: `notify (log: ${proc.spec.logFile})`,
          timeoutMs: 30_000,
          intervalMs: 100,
          abortIf: () => proc.exitReason,
        });
      },
    };
    await notify.start();
    return notify;
  },
);

interface BurstEvent {
  readonly id: string;
  readonly incidentId: string;
  readonly tlp: Extract<Tlp, 'GREEN' | 'AMBER'>;
  readonly sector: 'energy' | 'health';
  readonly jurisdiction: 'DE-BY' | 'FR';
}

/** An `incident.opened` envelope as intake publishes it. */
function incidentOpened(e: BurstEvent) {
  const incident = intakeV1.Incident.fromPartial({
    id: e.incidentId,
    title: `Outage ${e.incidentId}`,
    status: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
    tlp: tlpToProto(e.tlp),
    classification: { rsitClass: 'availability', rsitType: 'outage' },
    sectors: [e.sector],
    jurisdictions: [e.jurisdiction],
    // AMBER is need-to-know: only an engaged agency may read it.
    engagedAgencyIds: e.tlp === 'AMBER' ? ['cert-de'] : [],
    version: 0,
  });
  return encodeEnvelope({
    id: e.id,
    time: new Date(),
    source: 'intake',
    domain: 'incident',
    event: 'opened',
    subject: e.incidentId,
    tlp: e.tlp,
    incidentId: e.incidentId,
    schema: 'beacon.intake.v1.IncidentOpened',
    data: intakeV1.IncidentOpened.encode({ incident }).finish(),
  });
}

/** Who must receive an event, by the agencies and subscriptions the test registers. */
function recipientsOf(e: BurstEvent): string[] {
  const green = e.tlp === 'GREEN';
  return [
    // RED clearance, everything, engaged on the AMBER incidents
    'cert-de',
    // RED clearance, everything, engaged on nothing: AMBER is not for it
    ...(green ? ['cert-eu'] : []),
    // the energy sector only
    ...(green && e.sector === 'energy' ? ['energy-reg'] : []),
    // GREEN clearance, Germany only
    ...(green && e.jurisdiction === 'DE-BY' ? ['lka-by'] : []),
  ];
}

/** The agency a feed subject `<root>.<agencyId>.<domain>.<event>` belongs to. */
const agencyOf = (notify: NotifyProcess, subject: string) =>
  subject.slice(notify.feeds.root.length + 1).split('.')[0]!;

/** Every copy in the feeds, as `<event id> → <agency id>`, by the event id each carries. */
async function readFeeds(notify: NotifyProcess, jsm: JetStreamManager, js: JetStreamClient) {
  const count = (await jsm.streams.info(notify.feeds.stream)).state.messages;
  const copies: string[] = [];
  if (count === 0) return copies;
  const reader = await js.consumers.get(notify.feeds.stream);
  for await (const m of await reader.fetch({ max_messages: count, expires: 10_000 })) {
    copies.push(`${m.headers?.get('Beacon-Event-Id') ?? '(no event id)'} → ${agencyOf(notify, m.subject)}`);
    if (copies.length === count) break;
  }
  if (copies.length !== count) throw new Error(`read ${copies.length} of ${count} feed copies`);
  return copies;
}

const AGENCIES = ['cert-de', 'cert-eu', 'energy-reg', 'lka-by', 'fraud-desk', 'no-subs'];

/** What the test saw when it killed notify. */
interface Crash {
  /** Copies the feeds held once notify was dead, as `<event id> → <agency id>`. */
  readonly stored: readonly string[];
  /** Events notify had acked, as far as the test saw: the rest come back to the restarted notify. */
  readonly acked: ReadonlySet<string>;
  /** How often each copy had been sent by then. */
  readonly sent: ReadonlyMap<string, number>;
}

describe('the fan-out under a crash of notify', () => {
  test(
    'kill -9 mid-fan-out: after the restart every matched event is in every matching feed exactly once',
    { timeout: 60_000 },
    async ({ notify, nats, jsm }) => {
      const client = new notifyV1.NotifyServiceClient(notify.address, credentials.createInsecure());
      const cc = notify.coordinatorToken;
      try {
        for (const a of [
          agency('cert-de', 'RED'),
          agency('cert-eu', 'RED'),
          agency('energy-reg', 'AMBER', { kind: notifyV1.AgencyKind.AGENCY_KIND_REGULATOR }),
          agency('lka-by', 'GREEN', { kind: notifyV1.AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT }),
          agency('fraud-desk', 'RED', { kind: notifyV1.AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT }),
          agency('no-subs', 'RED'),
        ]) {
          await call(client, 'putAgency', { agency: a, expectedVersion: 0 }, cc);
        }
        for (const s of [
          subscription('cert-de', 'all'),
          subscription('cert-eu', 'all'),
          subscription('energy-reg', 'energy', { sectors: ['energy'] }),
          subscription('lka-by', 'de', { jurisdictions: ['DE'] }),
          // every incident of the burst is an outage, none fraud
          subscription('fraud-desk', 'fraud', { rsitClasses: ['fraud'] }),
        ]) {
          await call(client, 'putSubscription', { subscription: s }, cc);
        }
      } finally {
        client.close();
      }

      const burst: BurstEvent[] = Array.from({ length: 120 }, (_, i) => ({
        id: randomUUID(),
        incidentId: randomUUID(),
        tlp: i % 3 === 2 ? 'AMBER' : 'GREEN',
        sector: i % 2 === 0 ? 'energy' : 'health',
        jurisdiction: i % 4 < 2 ? 'DE-BY' : 'FR',
      }));
      const expected: Record<string, string[]> = Object.fromEntries(AGENCIES.map((a) => [a, []]));
      for (const e of burst) for (const a of recipientsOf(e)) expected[a]!.push(e.id);
      const total = burst.reduce((n, e) => n + recipientsOf(e).length, 0);

      // Every copy notify publishes and every ack it sends, as core NATS hands them to any
      // subscriber: a copy the feed drops as a duplicate shows here too.
      const published = new Map<string, number>();
      // By stream sequence: notify may ack the first events before the test knows their sequences.
      const acked = new Set<number>();
      let heard = 0;
      let trap: ((eventId: string) => void) | undefined;
      const copies = nats.subscribe(`${notify.feeds.root}.>`, {
        callback: (_error, m) => {
          const eventId = m.headers?.get('Beacon-Event-Id') ?? '';
          const key = `${eventId} → ${agencyOf(notify, m.subject)}`;
          published.set(key, (published.get(key) ?? 0) + 1);
          heard++;
          trap?.(eventId);
        },
      });
      // `$JS.ACK.<stream>.<consumer>.<deliveries>.<stream seq>.<consumer seq>.<time>.<pending>`
      const acks = nats.subscribe(`$JS.ACK.${notify.events.stream}.${notify.fanOutConsumer}.>`, {
        callback: (_error, m) => {
          heard++;
          const tokens = m.subject.split('.');
          const at = tokens.indexOf(notify.fanOutConsumer);
          if (at > 0 && m.string() === '+ACK') acked.add(Number(tokens[at + 2]));
        },
      });
      await nats.flush();
      try {
        const js = jetstream(nats);
        const sent = await Promise.all(
          burst.map((e) => {
            const { subject, data } = incidentOpened(e);
            return js.publish(`${notify.events.root}.${subject}`, data, { msgID: e.id });
          }),
        );
        const eventAt = new Map(sent.map((ack, i) => [ack.seq, burst[i]!.id]));
        const seqOf = new Map([...eventAt].map(([seq, id]) => [id, seq]));
        // Round trips to the server until two in a row bring nothing more from the frozen
        // notify: what it sent before it froze has been routed to the taps.
        const drained = async () => {
          for (let quiet = 0, trips = 0; quiet < 2; trips++) {
            if (trips === 500) throw new Error('notify keeps sending although frozen');
            const before = heard;
            await nats.flush();
            quiet = heard === before ? quiet + 1 : 0;
          }
        };
        // Events a dead notify held unacked return after the consumer's ack wait, 30 s in
        // production; shorten it once a restarted notify has declared its consumer.
        const shortenAckWait = () =>
          jsm.consumers.update(notify.events.stream, notify.fanOutConsumer, { ack_wait: 2e9 });

        // The crash must come once notify has acked some events, and leave an event whose copies
        // are (partly) in the feeds but which notify has not acked: only then does the restarted
        // notify send copies the feeds already hold. So freeze notify the moment a copy reaches
        // the feeds, and look; if notify had already acked that event, let it go on and try again.
        let crash: Crash | undefined;
        let failure: string | undefined;
        let attempts = 0;
        let looking = false;
        trap = (eventId) => {
          if (looking || crash || acked.size < 10) return;
          if (published.size === total) {
            failure = `the fan-out was done before a crash point was found (${attempts} attempts)`;
            return;
          }
          const seq = seqOf.get(eventId)!;
          looking = true;
          attempts++;
          notify.process.pause();
          void (async () => {
            await drained();
            if (acked.has(seq)) {
              notify.process.resume();
              looking = false;
              return;
            }
            await notify.process.kill();
            await drained();
            // Read after that: every copy in the feeds has been seen by the tap by now.
            const stored = await readFeeds(notify, jsm, js);
            const ackedEvents = new Set([...acked].map((s) => eventAt.get(s)!));
            if (stored.every((key) => ackedEvents.has(key.split(' ')[0]!))) {
              // The acks that were on their way when notify froze all landed: nothing in the
              // feeds will be sent again. Start notify again and crash it later.
              await notify.start();
              await shortenAckWait();
              looking = false;
              return;
            }
            crash = { stored, acked: ackedEvents, sent: new Map(published) };
          })().catch((error: unknown) => {
            failure = String(error);
          });
        };
        const at = await waitFor(
          async () => {
            if (!crash) throw new Error(`${attempts} attempts so far`);
            return crash;
          },
          {
            what: 'a crash mid-fan-out',
            timeoutMs: 20_000,
            intervalMs: 20,
            // While the test looks (and once it killed notify), notify being gone is no news.
            abortIf: () => failure ?? (looking ? undefined : notify.process.exitReason),
          },
        );
        trap = undefined;
        // Copies stored for events notify had not acked: they will be sent again.
        const inDoubt = at.stored.filter((key) => !at.acked.has(key.split(' ')[0]!));
        // Mid-fan-out: some events acked, some copies in the feeds but not all, some of them of
        // events not acked.
        expect(at.acked.size).toBeGreaterThan(0);
        expect(at.stored.length).toBeGreaterThan(0);
        expect(at.stored.length).toBeLessThan(total);
        expect(inDoubt.length).toBeGreaterThan(0);

        await notify.start();
        await shortenAckWait();
        await waitFor(
          async () => {
            const info = await jsm.consumers.info(notify.events.stream, notify.fanOutConsumer);
            if (info.num_pending > 0 || info.num_ack_pending > 0) {
              throw new Error(`${info.num_pending} pending, ${info.num_ack_pending} unacked`);
            }
          },
          {
            what: 'the fan-out after the restart',
            timeoutMs: 30_000,
            intervalMs: 100,
            abortIf: () => notify.process.exitReason,
          },
        );

        const feeds: Record<string, string[]> = Object.fromEntries(AGENCIES.map((a) => [a, []]));
        const stray: string[] = [];
        for (const key of await readFeeds(notify, jsm, js)) {
          const [eventId, agencyId] = key.split(' → ') as [string, string];
          if (feeds[agencyId]) feeds[agencyId].push(eventId);
          else stray.push(key);
        }
        expect(stray, 'copies in feeds of agencies never registered').toEqual([]);
        const twice = Object.entries(feeds).flatMap(([a, ids]) =>
          ids.filter((id, i) => ids.indexOf(id) !== i).map((id) => `${id} → ${a}`),
        );
        expect(twice, 'copies a feed holds more than once').toEqual([]);
        const sorted = (r: Record<string, string[]>) =>
          Object.fromEntries(Object.entries(r).map(([a, ids]) => [a, [...ids].sort()]));
        expect(sorted(feeds)).toEqual(sorted(expected));

        // The restarted notify did send copies the feeds already held, and the feeds kept one of
        // each: it is the per-(event, agency) message id that drops the second.
        const sentAgain = at.stored.filter((key) => (published.get(key) ?? 0) > (at.sent.get(key) ?? 0));
        expect(sentAgain.length, 'copies in the feeds at the crash that were sent again').toBeGreaterThan(0);
      } finally {
        trap = undefined;
        copies.unsubscribe();
        acks.unsubscribe();
      }
    },
  );
});
