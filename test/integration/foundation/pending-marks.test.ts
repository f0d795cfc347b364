import { jetstream } from '@nats-io/jetstream';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { describe, expect } from 'vitest';
import {
  createLogger,
  ensureStream,
  eventsStream,
  marksFor,
  OutboxRelay,
  outboxEntry,
  type OutboxFields,
  type PendingMarkDoc,
  type PendingMarks,
  type OutboxDoc,
} from '@beacon/platform';
import { test } from '@beacon/testkit';

type Doc = OutboxFields & { _id: string };

const logger = createLogger({ name: 'pending-marks-test', level: 'silent' });

/** A document's outbox with one event, `<id>-e0`, written `ageMs` ago. */
function outboxOf(id: string, ageMs = 0): Doc['outbox'] {
  const event = `${id}-e0`;
  const createdAt = new Date(Date.now() - ageMs);
  return {
    [event]: outboxEntry(
      { id: event, seq: 0, subject: 'thing.happened', data: Buffer.from(event), createdAt },
      undefined,
    ),
  };
}

/**
 * A relay over `docs` with marks, on a store client of its own that counts the reads of the
 * source collection (`find` commands on `docs`: by `_id`, or whole). Marks are read at any age
 * and the full sweep, after the first, is an hour away.
 */
async function marksRelay(
  mongoUrl: string,
  db: Db,
  nats: Parameters<typeof jetstream>[0],
  root: string,
): Promise<{
  relay: OutboxRelay;
  marks: PendingMarks;
  reads: { byId: string[]; whole: number };
  /** Moves the marks' clock on (the sweeps' and the writers' alike). */
  advance: (ms: number) => void;
  close: () => Promise<void>;
}> {
  const client = new MongoClient(mongoUrl, { monitorCommands: true });
  const reads = { byId: [] as string[], whole: 0 };
  client.on('commandStarted', (event) => {
    if (event.commandName !== 'find' || event.command['find'] !== 'docs') return;
    const filter = event.command['filter'] as { _id?: unknown };
    if (typeof filter._id === 'string') reads.byId.push(filter._id);
    else reads.whole += 1;
  });
  const own = client.db(db.databaseName);
  let offsetMs = 0;
  const marks = marksFor(own, ['docs'], 'outbox', { now: () => new Date(Date.now() + offsetMs) })['docs']!;
  await marks.init();
  const relay = new OutboxRelay({
    sources: { docs: own.collection<OutboxDoc>('docs') },
    marks: { docs: marks },
    js: jetstream(nats),
    subjectRoot: root,
    logger,
    markAgeMs: 0,
    fullSweepMs: 3_600_000,
  });
  return {
    relay,
    marks,
    reads,
    advance: (ms) => {
      offsetMs += ms;
    },
    close: () => client.close(),
  };
}

const marksOf = (db: Db): Collection<PendingMarkDoc> => db.collection('docs_pending_outbox');

describe('pending marks: the relay sweeps what is marked, not the collection', () => {
  test('a crash between mark and write leaves a mark the sweep clears once it is older than X; a young one stays', async ({
    infra,
    names,
    db,
    jsm,
    nats,
  }) => {
    const root = names.subject('beacon.evt');
    await ensureStream(jsm, eventsStream(names.stream('EVENTS'), root));
    const { relay, reads, close } = await marksRelay(infra.mongoUrl, db, nats, root);
    try {
      expect(await relay.sweep()).toBe(0); // the start-up full sweep, over nothing
      // Marks written ahead of writes that never came (the writer died): one 2 minutes ago,
      // one just now, which a write may still follow.
      await marksOf(db).insertMany([
        { _id: 'ghost-old', at: new Date(Date.now() - 120_000) },
        { _id: 'ghost-new', at: new Date() },
      ]);
      reads.whole = 0;
      expect(await relay.sweep()).toBe(0);
      expect((await marksOf(db).find().toArray()).map((m) => m._id)).toEqual(['ghost-new']);
      // Each marked document read by `_id`; the collection not read as a whole.
      expect(reads.byId.sort()).toEqual(['ghost-new', 'ghost-old']);
      expect(reads.whole).toBe(0);
    } finally {
      await close();
    }
  });

  test('a document written with events and never announced is published by the marks sweep, without a full read', async ({
    infra,
    names,
    db,
    jsm,
    nats,
  }) => {
    const root = names.subject('beacon.evt');
    await ensureStream(jsm, eventsStream(names.stream('EVENTS'), root));
    const { relay, reads, close } = await marksRelay(infra.mongoUrl, db, nats, root);
    const docs = db.collection<Doc>('docs');
    try {
      expect(await relay.sweep()).toBe(0);
      // As a writer does it, and then dies before announcing: the mark, then the write.
      await relay.announcer('docs').mark('written');
      await docs.insertOne({ _id: 'written', outbox: outboxOf('written') });
      // Beside it, a document with events and no mark: only a full read would find it.
      await docs.insertOne({ _id: 'unmarked', outbox: outboxOf('unmarked') });
      reads.whole = 0;
      expect(await relay.sweep()).toBe(1);
      expect(reads.whole).toBe(0);
      expect((await docs.findOne({ _id: 'written' }))?.outbox).toEqual({});
      expect(Object.keys((await docs.findOne({ _id: 'unmarked' }))!.outbox)).toEqual(['unmarked-e0']);
    } finally {
      await close();
    }
  });

  test('the race: a sweep reads the document between its mark and its write; the mark survives and a sweep once it may be removed publishes', async ({
    infra,
    names,
    db,
    jsm,
    nats,
  }) => {
    const root = names.subject('beacon.evt');
    await ensureStream(jsm, eventsStream(names.stream('EVENTS'), root));
    const { relay, reads, advance, close } = await marksRelay(infra.mongoUrl, db, nats, root);
    const docs = db.collection<Doc>('docs');
    try {
      expect(await relay.sweep()).toBe(0);
      // A document published long ago; a writer marks it, and its write is still on the way.
      await docs.insertOne({ _id: 'slow', outbox: {} });
      await relay.announcer('docs').mark(['slow', 'new']);
      // The sweep reads both before the writes land: nothing pending, but the marks are younger
      // than X, so they stay.
      expect(await relay.sweep()).toBe(0);
      expect((await marksOf(db).find().toArray()).map((m) => m._id).sort()).toEqual(['new', 'slow']);
      // The writes land (and their writer dies before announcing).
      await docs.updateOne({ _id: 'slow' }, { $set: { [`outbox.slow-e0`]: outboxOf('slow')['slow-e0']! } });
      await docs.insertOne({ _id: 'new', outbox: outboxOf('new') });
      // Found clean once, they are not read again at every sweep while they are young ...
      reads.byId.length = 0;
      expect(await relay.sweep()).toBe(0);
      expect(reads.byId).toEqual([]);
      // ... but once they may be removed (X later), a sweep reads them again and publishes
      // (each read once more under the claim it took).
      advance(60_000);
      expect(await relay.sweep()).toBe(2);
      expect(reads.byId.sort()).toEqual(['new', 'new', 'slow', 'slow']);
      expect(await docs.countDocuments({ outbox: { $ne: {} } })).toBe(0);
    } finally {
      await close();
    }
  });

  test('a document of an earlier release (events, no mark) is found by the full sweep, which marks it', async ({
    infra,
    names,
    db,
    jsm,
    nats,
  }) => {
    const root = names.subject('beacon.evt');
    await ensureStream(jsm, eventsStream(names.stream('EVENTS'), root));
    const docs = db.collection<Doc>('docs');
    // Held by another relay for a minute: found, but not published, so its mark can be seen.
    await docs.insertOne({
      _id: 'old-release',
      outbox: outboxOf('old-release'),
      outboxClaimBy: 'another-relay',
      outboxClaimUntil: new Date(Date.now() + 60_000),
    });
    const { relay, reads, close } = await marksRelay(infra.mongoUrl, db, nats, root);
    try {
      // The first sweep of a relay is the full one.
      expect(await relay.sweep()).toBe(0);
      expect(reads.whole).toBe(1);
      expect((await marksOf(db).find().toArray()).map((m) => m._id)).toEqual(['old-release']);
      await docs.updateOne({ _id: 'old-release' }, { $unset: { outboxClaimBy: '', outboxClaimUntil: '' } });
      // From now on through its mark: no whole read.
      expect(await relay.sweep()).toBe(1);
      expect(reads.whole).toBe(1);
      // And a full sweep asked for finds a document without a mark.
      await docs.insertOne({ _id: 'old-2', outbox: outboxOf('old-2') });
      expect(await relay.sweep()).toBe(0);
      expect(await relay.sweep({ full: true })).toBe(1);
    } finally {
      await close();
    }
  });

  test('the backlog gauge reports a stuck event and its age from what the sweep saw, without a read of its own', async ({
    infra,
    names,
    db,
    jsm,
    nats,
  }) => {
    const root = names.subject('beacon.evt');
    await ensureStream(jsm, eventsStream(names.stream('EVENTS'), root));
    const docs = db.collection<Doc>('docs');
    const { relay, reads, close } = await marksRelay(infra.mongoUrl, db, nats, root);
    try {
      expect(await relay.backlog()).toEqual([
        { source: 'docs', events: 0, oldest: undefined, truncated: false },
      ]);
      expect(await relay.sweep()).toBe(0);
      // Stuck: held by a relay that is not publishing, for a minute; written 90 s ago.
      await relay.announcer('docs').mark('stuck');
      await docs.insertOne({
        _id: 'stuck',
        outbox: outboxOf('stuck', 90_000),
        outboxClaimBy: 'a-stalled-relay',
        outboxClaimUntil: new Date(Date.now() + 60_000),
      });
      expect(await relay.sweep()).toBe(0);
      const readsBefore = reads.byId.length + reads.whole;
      const [backlog] = await relay.backlog();
      expect(backlog).toMatchObject({ source: 'docs', events: 1, truncated: false });
      expect(Date.now() - backlog!.oldest!.getTime()).toBeGreaterThanOrEqual(90_000);
      expect(reads.byId.length + reads.whole).toBe(readsBefore);
      // Released, it is published by the next sweep, and the gauge clears.
      await docs.updateOne({ _id: 'stuck' }, { $unset: { outboxClaimBy: '', outboxClaimUntil: '' } });
      expect(await relay.sweep()).toBe(1);
      expect(await relay.backlog()).toEqual([
        { source: 'docs', events: 0, oldest: undefined, truncated: false },
      ]);
    } finally {
      await close();
    }
  });
});
