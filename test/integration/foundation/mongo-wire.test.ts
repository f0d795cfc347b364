import { MongoServerError } from 'mongodb';
import { describe, expect } from 'vitest';
import { duplicatePositions, ensureIndexes, isDuplicateKeyError } from '@beacon/platform';
import { test } from '@beacon/testkit';

interface Incident {
  _id: string;
  title: string;
  version: number;
  idempotencyKey?: string;
}

describe('the Mongo-wire store through the official driver', () => {
  test('inserts, finds and updates a document', async ({ db }) => {
    const incidents = db.collection<Incident>('incidents');
    await incidents.insertOne({ _id: 'inc-1', title: 'Ransomware at a water utility', version: 1 });

    const updated = await incidents.updateOne(
      { _id: 'inc-1', version: 1 },
      { $set: { title: 'Ransomware at two water utilities' }, $inc: { version: 1 } },
    );

    expect(updated.modifiedCount).toBe(1);
    expect(await incidents.findOne({ _id: 'inc-1' })).toEqual({
      _id: 'inc-1',
      title: 'Ransomware at two water utilities',
      version: 2,
    });
  });

  test('an optimistic update with a stale version changes nothing', async ({ db }) => {
    const incidents = db.collection<Incident>('incidents');
    await incidents.insertOne({ _id: 'inc-1', title: 'A', version: 2 });
    const stale = await incidents.updateOne({ _id: 'inc-1', version: 1 }, { $set: { title: 'B' } });
    expect(stale.matchedCount).toBe(0);
    expect((await incidents.findOne({ _id: 'inc-1' }))?.title).toBe('A');
  });

  test('a unique index rejects a duplicate with the duplicate-key error', async ({ db }) => {
    const incidents = db.collection<Incident>('incidents');
    await ensureIndexes(incidents, [{ key: { idempotencyKey: 1 }, unique: true, name: 'idempotency' }]);
    await incidents.insertOne({ _id: 'inc-1', title: 'A', version: 1, idempotencyKey: 'key-1' });

    const duplicate = await incidents
      .insertOne({ _id: 'inc-2', title: 'B', version: 1, idempotencyKey: 'key-1' })
      .catch((error: unknown) => error);

    expect(duplicate).toBeInstanceOf(MongoServerError);
    expect((duplicate as MongoServerError).code).toBe(11000);
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(await incidents.countDocuments()).toBe(1);
  });

  test('an unordered bulk insert writes every new document and names each duplicate by position', async ({
    db,
  }) => {
    const things = db.collection<{ _id: string; n: number }>('things');
    await things.insertMany([
      { _id: 'b', n: 0 },
      { _id: 'd', n: 0 },
    ]);
    const failure = await things
      .insertMany(
        ['a', 'b', 'c', 'd', 'e'].map((_id) => ({ _id, n: 1 })),
        { ordered: false },
      )
      .catch((error: unknown) => error);
    expect(duplicatePositions(failure)).toEqual(new Set([1, 3]));
    const stored = await things.find().sort({ _id: 1 }).toArray();
    expect(stored.map((d) => `${d._id}${d.n}`)).toEqual(['a1', 'b0', 'c1', 'd0', 'e1']);
    // Anything but duplicates is not mistaken for them.
    expect(duplicatePositions(new Error('network'))).toBeUndefined();
  });

  test('findOneAndUpdate with upsert creates once, then updates atomically', async ({ db }) => {
    const counters = db.collection<{ _id: string; value: number; createdBy?: string }>('counters');
    const bump = (who: string) =>
      counters.findOneAndUpdate(
        { _id: 'reports' },
        { $inc: { value: 1 }, $setOnInsert: { createdBy: who } },
        { upsert: true, returnDocument: 'after' },
      );

    expect(await bump('first')).toEqual({ _id: 'reports', value: 1, createdBy: 'first' });
    expect(await bump('second')).toEqual({ _id: 'reports', value: 2, createdBy: 'first' });
    const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => bump(`c${i}`)));
    expect(concurrent.map((d) => d?.value).sort((a, b) => a! - b!)).toEqual([
      3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  // FerretDB alone fails both of these (it reads, modifies and writes back without a lock);
  // infra/ferretdb's write-lock proxy is what makes them hold.
  test('of concurrent compare-and-set updates on one version exactly one wins', async ({ db }) => {
    const incidents = db.collection<Incident>('incidents');
    await incidents.insertOne({ _id: 'inc-1', title: 'A', version: 1 });
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        incidents.updateOne(
          { _id: 'inc-1', version: 1 },
          { $set: { title: `writer ${i}` }, $inc: { version: 1 } },
        ),
      ),
    );
    expect(attempts.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
    expect((await incidents.findOne({ _id: 'inc-1' }))?.version).toBe(2);
  });

  test('concurrent $inc updates lose none', async ({ db }) => {
    const counters = db.collection<{ _id: string; value: number }>('counters');
    await counters.insertOne({ _id: 'sightings', value: 0 });
    await Promise.all(
      Array.from({ length: 50 }, () => counters.updateOne({ _id: 'sightings' }, { $inc: { value: 1 } })),
    );
    expect((await counters.findOne({ _id: 'sightings' }))?.value).toBe(50);
  });

  test('declaring indexes again, or fewer of them, leaves the collection working', async ({ db }) => {
    const incidents = db.collection<Incident>('incidents');
    const byKey = { key: { idempotencyKey: 1 }, unique: true, name: 'idempotency' };
    const byTitle = { key: { title: 1 }, name: 'title' };
    await ensureIndexes(incidents, [byKey, byTitle]);
    await ensureIndexes(incidents, [byKey, byTitle]);
    await ensureIndexes(incidents, [byKey]);
    const names = (await incidents.listIndexes().toArray())
      .map((i: { name?: unknown }) => String(i.name))
      .sort();
    expect(names).toEqual(['_id_', 'idempotency', 'title']);
    await incidents.insertOne({ _id: 'inc-1', title: 'A', version: 1, idempotencyKey: 'k' });
    expect(await incidents.countDocuments()).toBe(1);
  });
});
