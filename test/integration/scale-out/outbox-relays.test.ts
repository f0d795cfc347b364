import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { Binary, MongoClient, type Collection } from 'mongodb';
import { describe, expect } from 'vitest';
import {
  connectMongo,
  connectNats,
  createLogger,
  ensureStream,
  eventsStream,
  OutboxRelay,
  outboxEntry,
  type OutboxFields,
  type OutboxDoc,
} from '@beacon/platform';
import {
  infraDir,
  ManagedProcess,
  recordingLogger,
  repoRoot,
  startDedicated,
  test,
  waitFor,
} from '@beacon/testkit';

type Doc = OutboxFields & { _id: string };

const logger = createLogger({ name: 'relays-test', level: 'silent' });

/** `docs` documents with `perDoc` events each, as a writer leaves them: `<doc>-e<seq>`. */
async function fillOutboxes(collection: Collection<Doc>, docs: number, perDoc: number): Promise<string[]> {
  const ids: string[] = [];
  const documents: Doc[] = [];
  for (let d = 0; d < docs; d++) {
    const _id = `doc${d}`;
    ids.push(_id);
    const outbox: Doc['outbox'] = {};
    for (let seq = 0; seq < perDoc; seq++) {
      const id = `${_id}-e${seq}`;
      outbox[id] = {
        id,
        seq,
        subject: 'thing.happened',
        data: new Binary(Buffer.from(id)),
        createdAt: new Date(),
      };
    }
    documents.push({ _id, outbox });
  }
  await collection.insertMany(documents);
  return ids;
}

/** Documents with events left, or a claim left: both must be none once the relays are done. */
async function leftovers(collection: Collection<Doc>): Promise<string[]> {
  const docs = await collection.find({}).toArray();
  return docs
    .filter((d) => Object.keys(d.outbox).length > 0 || d.outboxClaimBy)
    .map(
      (d) =>
        `${d._id}: ${Object.keys(d.outbox).length} events${d.outboxClaimBy ? `, claimed by ${d.outboxClaimBy}` : ''}`,
    );
}

/** Waits until `leftovers` finds nothing, naming what is left when it gives up. */
function untilEmptied(collection: Collection<Doc>, what: string, timeoutMs: number): Promise<void> {
  return waitFor(
    async () => {
      const left = await leftovers(collection);
      if (left.length > 0) throw new Error(`${left.length} left, e.g. ${left.slice(0, 3).join('; ')}`);
    },
    { what, timeoutMs, intervalMs: 100 },
  );
}

/** Every message of the stream, in stream order, as its body (the event id). */
async function streamBodies(js: JetStreamClient, stream: string): Promise<string[]> {
  const count = (await (await js.jetstreamManager()).streams.info(stream)).state.messages;
  const bodies: string[] = [];
  if (count === 0) return bodies;
  const reader = await js.consumers.get(stream);
  for await (const m of await reader.fetch({ max_messages: count, expires: 10_000 })) {
    bodies.push(m.string());
    if (bodies.length === count) break;
  }
  return bodies;
}

type Publish = { relay: number; id: string; ack: PubAck };

/** `js` with every publish and its acknowledgement recorded in `publishes`, as `relay`'s. */
function recording(js: JetStreamClient, relay: number, publishes: Publish[]): JetStreamClient {
  return {
    publish: async (...args: Parameters<JetStreamClient['publish']>) => {
      const ack = await js.publish(...args);
      publishes.push({ relay, id: args[2]!.msgID!, ack });
      return ack;
    },
  } as unknown as JetStreamClient;
}

describe('several outbox relays over the same documents', () => {
  test(
    'three relays all told of every document publish each event once, in order, and leave no claim',
    { timeout: 60_000 },
    async ({ infra, names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      const ids = await fillOutboxes(collection, 40, 3);

      // Each relay with a connection of its own, as replicas have; every publish and its
      // acknowledgement recorded, so a second publish of an event shows even when the stream
      // drops it as a duplicate.
      const publishes: Publish[] = [];
      const connections = await Promise.all(
        [0, 1, 2].map((i) => connectNats({ servers: infra.natsUrl, name: `relay-${i}` })),
      );
      // And a store client of its own: one shared pool would queue one relay's writes first.
      const clients = await Promise.all(
        [0, 1, 2].map((i) => connectMongo({ url: infra.mongoUrl, appName: `relay-${i}` })),
      );
      const relays = connections.map((nc, relay) => {
        return new OutboxRelay({
          sources: { docs: clients[relay]!.db(db.databaseName).collection<OutboxDoc>('docs') },
          js: recording(jetstream(nc), relay, publishes),
          subjectRoot: root,
          logger,
          sweepMs: 200,
        });
      });
      try {
        // The worst case: every relay is told of every document at the same moment, each
        // starting at a different document.
        relays.forEach((relay, i) => {
          const start = Math.floor((i * ids.length) / relays.length);
          for (const id of [...ids.slice(start), ...ids.slice(0, start)]) relay.notify('docs', id);
        });
        for (const relay of relays) relay.start();
        await untilEmptied(collection, 'relays to empty every outbox', 30_000);
      } finally {
        for (const relay of relays) await relay.stop();
        for (const nc of connections) await nc.close();
        for (const client of clients) await client.close();
      }

      const events = ids.flatMap((id) => [0, 1, 2].map((seq) => `${id}-e${seq}`));
      // Each event published once by exactly one relay: no duplicate even offered to the stream.
      expect(publishes.map((p) => p.id).sort()).toEqual([...events].sort());
      expect(publishes.filter((p) => p.ack.duplicate)).toEqual([]);
      // The work was shared, not done by one relay while the others idled.
      expect(new Set(publishes.map((p) => p.relay)).size).toBeGreaterThan(1);
      const bodies = await streamBodies(jetstream(nats), stream);
      expect([...bodies].sort()).toEqual([...events].sort());
      // One relay at a time per document, so each document's events are stored in order.
      for (const id of ids) {
        expect(bodies.filter((b) => b.startsWith(`${id}-`))).toEqual([0, 1, 2].map((seq) => `${id}-e${seq}`));
      }
    },
  );

  test(
    'a relay killed (-9) while it holds claims strands nothing: another takes over once the lease runs out',
    { timeout: 60_000 },
    async ({ infra, names, db, nats }) => {
      const leaseMs = 3_000;
      const root = names.subject('beacon.evt');
      const stream = names.stream('EVENTS');
      const collection = db.collection<Doc>('docs');
      // The doomed relay publishes to a NATS server of its own, paused: it takes claims and
      // then hangs in its first publish, as a relay does when it dies mid-claim.
      const bus = await startDedicated('nats');
      const busNc = await connectNats({ servers: bus.url, name: 'relays-test' });
      const busJsm = await jetstreamManager(busNc);
      await ensureStream(busJsm, eventsStream(stream, root));
      // One event of doc0 was already published before the crash (but not removed).
      await jetstream(busNc).publish(`${root}.thing.happened`, Buffer.from('doc0-e0'), { msgID: 'doc0-e0' });
      const doomed = new ManagedProcess({
        name: 'relay',
        command: process.execPath,
        args: [
          '--conditions=source',
          '--import',
          'tsx',
          join(repoRoot, 'test/integration/scale-out/support/relay-process.ts'),
        ],
        logFile: join(infraDir, 'test', 'apps', `relay-${names.id}.log`),
        env: {
          MONGO_URL: infra.mongoUrl,
          NATS_URL: bus.url,
          RELAY_DB: db.databaseName,
          RELAY_COLLECTION: 'docs',
          RELAY_SUBJECT_ROOT: root,
          RELAY_ID: 'doomed',
          RELAY_LEASE_MS: String(leaseMs),
        },
      });
      let survivor: OutboxRelay | undefined;
      let ids: string[] = [];
      try {
        doomed.start();
        await waitFor(
          async () => {
            if (!doomed.logTail(50).includes('relay started'))
              throw new Error(doomed.exitReason ?? 'starting');
          },
          { what: 'the doomed relay to start', timeoutMs: 30_000, intervalMs: 50 },
        );
        bus.process.pause();
        ids = await fillOutboxes(collection, 20, 2);
        const claimed = await waitFor(
          async () => {
            // Its sweep claims every document at once, then hangs in each first publish.
            const held = await collection.countDocuments({ outboxClaimBy: 'doomed' });
            if (held < ids.length) throw new Error(doomed.exitReason ?? `${held} of ${ids.length} claimed`);
            return held;
          },
          { what: 'the doomed relay to claim every document', timeoutMs: 30_000, intervalMs: 50 },
        );
        await doomed.kill();
        const killedAt = Date.now();
        bus.process.resume();
        await bus.ready();

        survivor = new OutboxRelay({
          sources: { docs: collection },
          js: jetstream(busNc),
          subjectRoot: root,
          logger,
          leaseMs,
          sweepMs: 100,
        });
        // While the dead relay's lease lasts, its documents are left alone...
        const before = await collection.find({ outboxClaimBy: 'doomed' }).toArray();
        expect(before.length).toBe(claimed);
        expect(before.every((d) => d.outboxClaimUntil!.getTime() > Date.now())).toBe(true);
        await survivor.sweep();
        expect(await collection.countDocuments({ outboxClaimBy: 'doomed' })).toBe(claimed);
        // ...and after it, the survivor's sweep takes them over.
        survivor.start();
        await untilEmptied(collection, 'the survivor to empty every outbox', 30_000);
        expect(Date.now() - killedAt).toBeLessThan(leaseMs + 10_000);
        const bodies = await streamBodies(jetstream(busNc), stream);
        const events = ids.flatMap((id) => [0, 1].map((seq) => `${id}-e${seq}`));
        // Every event stored once, the one published before the crash included.
        expect([...bodies].sort()).toEqual([...events].sort());
        void nats;
      } finally {
        await survivor?.stop();
        await doomed.kill();
        await busNc.close();
        await bus.stop();
      }
    },
  );

  test(
    'documents a writer claimed for the relay with a long lease are published by its sweep without a claim write',
    { timeout: 30_000 },
    async ({ infra, names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      const ids = await fillOutboxes(collection, 30, 2);
      // The relay's store client records every command it sends, and every update statement
      // (removals from several documents may share one command).
      const client = new MongoClient(infra.mongoUrl, { monitorCommands: true });
      const commands: string[] = [];
      const updated: string[] = [];
      client.on('commandStarted', (event) => {
        commands.push(event.commandName);
        if (event.commandName === 'update') {
          for (const u of event.command['updates'] as { q: { _id: string } }[]) updated.push(u.q._id);
        }
      });
      const relay = new OutboxRelay({
        sources: { docs: client.db(db.databaseName).collection<OutboxDoc>('docs') },
        js: jetstream(nats),
        subjectRoot: root,
        logger,
        sweepMs: 100,
        leaseMs: 1_000,
      });
      // A claim beyond the five minutes the duplicate window allows is refused.
      expect(() => relay.claimForWrite(6 * 60_000)).toThrow(/100 ms to 5 min/);
      // A bulk writer's claim for this relay, far longer than its own lease, and no announcement:
      // the sweep finds the documents. Their claim is this relay's for a minute, so no claim
      // write (a findAndModify, which reads the whole collection on FerretDB) is needed.
      await collection.updateMany({}, { $set: relay.claimForWrite(60_000) });
      try {
        relay.start();
        await untilEmptied(collection, 'the relay to empty every outbox', 20_000);
      } finally {
        await relay.stop();
        await client.close();
      }
      expect(commands).not.toContain('findAndModify');
      // One write per document: the removal of its published events, filtered by `_id` alone.
      expect(updated.sort()).toEqual([...ids].sort());
      const bodies = await streamBodies(jetstream(nats), stream);
      expect([...bodies].sort()).toEqual(ids.flatMap((id) => [`${id}-e0`, `${id}-e1`]).sort());
    },
  );

  test(
    'entries in both stored forms are published; an unreadable one is left, logged, and holds up no other document',
    { timeout: 30_000 },
    async ({ names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      // Sub-documents, as releases before the packed form wrote them.
      const old = await fillOutboxes(collection, 5, 2);
      const packed = Array.from({ length: 5 }, (_, d) => `packed${d}`);
      await collection.insertMany(
        packed.map((_id) => ({
          _id,
          outbox: Object.fromEntries(
            [0, 1].map((seq) => {
              const id = `${_id}-e${seq}`;
              return [
                id,
                outboxEntry(
                  {
                    id,
                    seq,
                    subject: 'thing.happened',
                    data: Buffer.from(id),
                    createdAt: new Date(),
                  },
                  undefined,
                ),
              ];
            }),
          ),
        })),
      );
      await collection.insertOne({
        _id: 'poison',
        outbox: { 'poison-e0': new Binary(Buffer.from([9, 1, 2])) },
      });
      const { logger: recorded, lines } = recordingLogger('relays-test');
      const relay = new OutboxRelay({
        sources: { docs: collection },
        js: jetstream(nats),
        subjectRoot: root,
        logger: recorded,
        sweepMs: 100,
      });
      try {
        relay.start();
        await waitFor(
          async () => {
            const left = await leftovers(collection);
            expect(left).toEqual(['poison: 1 events']);
            expect(
              lines.some((l) => l.msg === 'an outbox entry cannot be read; its document is left as it is'),
            ).toBe(true);
          },
          { what: 'the relay to empty every readable outbox', timeoutMs: 20_000, intervalMs: 100 },
        );
      } finally {
        await relay.stop();
      }
      const bodies = await streamBodies(jetstream(nats), stream);
      expect([...bodies].sort()).toEqual(
        [...old, ...packed].flatMap((id) => [`${id}-e0`, `${id}-e1`]).sort(),
      );
      // The relay never gave up on the others: no pass failed.
      expect(lines.filter((l) => l.msg === 'outbox relay pass failed; retrying')).toEqual([]);
    },
  );
  test(
    'a document announced as created is published as written, without a read; one written again is read',
    { timeout: 30_000 },
    async ({ infra, names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      // The relay's store client records the documents it reads by `_id`.
      const client = new MongoClient(infra.mongoUrl, { monitorCommands: true });
      const readById: string[] = [];
      client.on('commandStarted', (event) => {
        const filter = event.command['filter'] as { _id?: string } | undefined;
        if (event.commandName === 'find' && typeof filter?._id === 'string') readById.push(filter._id);
      });
      const relay = new OutboxRelay({
        sources: { docs: client.db(db.databaseName).collection<OutboxDoc>('docs') },
        js: jetstream(nats),
        subjectRoot: root,
        logger,
        sweepMs: 100,
      });
      const announcer = relay.announcer('docs');
      const entry = (id: string, seq: number) =>
        outboxEntry(
          { id, seq, subject: 'thing.happened', data: Buffer.from(id), createdAt: new Date() },
          undefined,
        );
      const ids = Array.from({ length: 20 }, (_, d) => `new${d}`);
      for (const _id of ids) {
        // As a store creates a document with events: its claim for the relay in the same write.
        const written = {
          outbox: { [`${_id}-e0`]: entry(`${_id}-e0`, 0), [`${_id}-e1`]: entry(`${_id}-e1`, 1) },
          ...relay.claimForWrite(),
        };
        await collection.insertOne({ _id, ...written });
        announcer.announceCreated(_id, written);
      }
      // Five are written again before the relay gets to them, announced before or after the
      // creation's announcement: the creating write's events are no longer all there is.
      const again = ids.slice(0, 5);
      for (const [i, _id] of again.entries()) {
        await collection.updateOne(
          { _id },
          { $set: { [`outbox.${_id}-e2`]: entry(`${_id}-e2`, 2), ...relay.claimForWrite() } },
        );
        announcer.announce(_id);
        if (i % 2 === 0) announcer.announceCreated(_id, { outbox: {}, ...relay.claimForWrite() });
      }
      try {
        relay.start();
        await untilEmptied(collection, 'the relay to empty every outbox', 20_000);
      } finally {
        await relay.stop();
        await client.close();
      }
      expect([...new Set(readById)].sort()).toEqual([...again].sort());
      const bodies = await streamBodies(jetstream(nats), stream);
      const expected = ids.flatMap((id) => [
        `${id}-e0`,
        `${id}-e1`,
        ...(again.includes(id) ? [`${id}-e2`] : []),
      ]);
      expect([...bodies].sort()).toEqual(expected.sort());
      // Each document's events in order.
      for (const id of again) {
        expect(bodies.filter((b) => b.startsWith(`${id}-`))).toEqual([`${id}-e0`, `${id}-e1`, `${id}-e2`]);
      }
    },
  );

  test(
    'a sweep that found a full batch and published from it sweeps again at once; one that found only held documents waits',
    { timeout: 30_000 },
    async ({ infra, names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      await fillOutboxes(collection, 10, 2);
      // Every document held by another live relay for a minute.
      await collection.updateMany(
        {},
        { $set: { outboxClaimBy: 'another-relay', outboxClaimUntil: new Date(Date.now() + 60_000) } },
      );
      const client = new MongoClient(infra.mongoUrl, { monitorCommands: true });
      let sweeps = 0;
      client.on('commandStarted', (event) => {
        if (event.commandName === 'find' && event.command['find'] === 'docs') sweeps += 1;
      });
      // A period far beyond the test: any sweep after the first is one the relay ran at once.
      const sweeper = () =>
        new OutboxRelay({
          sources: { docs: client.db(db.databaseName).collection<OutboxDoc>('docs') },
          js: jetstream(nats),
          subjectRoot: root,
          logger,
          sweepMs: 600_000,
          batch: 4,
        });
      try {
        const relay = sweeper();
        try {
          relay.start();
          await waitFor(
            async () => {
              if (sweeps === 0) throw new Error('no sweep yet');
            },
            { what: 'the first sweep', timeoutMs: 10_000, intervalMs: 20 },
          );
          // Nothing to wait for here but time: a relay that swept again at once would have swept
          // hundreds of times over a full batch it could not take.
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          expect(sweeps).toBe(1);
        } finally {
          await relay.stop();
        }
        // The claims released, a new relay with the same period empties all ten documents in
        // batches of four, one sweep straight after the other.
        await collection.updateMany({}, { $unset: { outboxClaimBy: '', outboxClaimUntil: '' } });
        sweeps = 0;
        const next = sweeper();
        try {
          next.start();
          await untilEmptied(collection, 'full batches swept one after the other', 20_000);
        } finally {
          await next.stop();
        }
      } finally {
        await client.close();
      }
      expect(sweeps).toBeGreaterThanOrEqual(3);
    },
  );

  test(
    'a claim that came back free (another relay took it, published and gave it up since the read) offers nothing twice',
    { timeout: 30_000 },
    async ({ names, db, jsm, nats }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('beacon.evt');
      await ensureStream(jsm, eventsStream(stream, root));
      const collection = db.collection<Doc>('docs');
      await fillOutboxes(collection, 1, 3);
      const publishes: Publish[] = [];
      const relay = (n: number, docs: Collection<Doc>) =>
        new OutboxRelay({
          sources: { docs },
          js: recording(jetstream(nats), n, publishes),
          subjectRoot: root,
          logger,
          sweepMs: 600_000,
        });
      const first = relay(0, collection);
      // The second relay's claim waits until the first has read, claimed, published and
      // released the document it had read: the claim it compares is free again, as read.
      let raced = false;
      const late = new Proxy(collection, {
        get(target, key, receiver) {
          if (key !== 'updateOne') return Reflect.get(target, key, receiver) as unknown;
          return async (...args: Parameters<Collection<Doc>['updateOne']>) => {
            if (!raced && 'outboxClaimBy' in args[0]) {
              raced = true;
              expect(await first.sweep({ full: true })).toBe(3);
            }
            return target.updateOne(...args);
          };
        },
      });
      const second = relay(1, late);
      expect(await second.sweep({ full: true })).toBe(0);
      expect(raced).toBe(true);
      expect(publishes.map((p) => [p.relay, p.id])).toEqual([0, 1, 2].map((seq) => [0, `doc0-e${seq}`]));
      expect(await leftovers(collection)).toEqual([]);
    },
  );
});
