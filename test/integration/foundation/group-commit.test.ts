import { describe, expect } from 'vitest';
import type { Collection, UpdateFilter } from 'mongodb';
import { GroupCommit, MAX_UPDATE_STATEMENTS } from '@beacon/platform';
import { test } from '@beacon/testkit';

interface Doc {
  _id: string;
  n: number | string;
}

// `n` holds a string in one test, so the driver's types do not allow `$inc` on it as such.
const inc = { $inc: { n: 1 } } as unknown as UpdateFilter<Doc>;

/** Counts the commands of one kind the collection sends. */
function count(collection: Collection<Doc>, method: 'insertMany' | 'bulkWrite'): { calls: number } {
  const counter = { calls: 0 };
  const original = collection[method].bind(collection) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(collection, {
    [method]: (...args: unknown[]) => {
      counter.calls += 1;
      return original(...args);
    },
  });
  return counter;
}

describe('group commit', () => {
  test('concurrent inserts go out together, and each caller learns of its own', async ({ db }) => {
    const collection = db.collection<Doc>('docs');
    const writes = new GroupCommit(collection);
    const commands = count(collection, 'insertMany');

    const stored = await Promise.all(
      Array.from({ length: 50 }, (_, i) => writes.insertOne({ _id: `d${i}`, n: i })),
    );

    expect(stored).toEqual(Array.from({ length: 50 }, () => true));
    // The first goes alone; the 49 that arrived while it was under way, in one command.
    expect(commands.calls).toBe(2);
    expect(await collection.countDocuments()).toBe(50);
    expect(await collection.findOne({ _id: 'd49' })).toEqual({ _id: 'd49', n: 49 });
  });

  test('a taken _id is reported to its caller alone; the rest of the batch is stored', async ({ db }) => {
    const collection = db.collection<Doc>('docs');
    const writes = new GroupCommit(collection);
    await collection.insertOne({ _id: 'taken', n: 0 });

    const [first, ...rest] = await Promise.all([
      writes.insertOne({ _id: 'warm-up', n: 0 }),
      writes.insert([
        { _id: 'new-1', n: 1 },
        { _id: 'taken', n: 1 },
      ]),
      writes.insertOne({ _id: 'same', n: 2 }),
      writes.insertOne({ _id: 'same', n: 3 }),
      writes.insertOne({ _id: 'new-2', n: 4 }),
    ]);

    expect(first).toBe(true);
    expect(rest).toEqual([[true, false], true, false, true]);
    expect(await collection.findOne({ _id: 'taken' })).toEqual({ _id: 'taken', n: 0 });
    expect(await collection.findOne({ _id: 'same' })).toEqual({ _id: 'same', n: 2 });
    expect(await collection.countDocuments()).toBe(5);
  });

  test('updates by _id go out together, each applied atomically', async ({ db }) => {
    const collection = db.collection<Doc>('docs');
    const writes = new GroupCommit(collection);
    await collection.insertOne({ _id: 'counter', n: 0 });
    const commands = count(collection, 'bulkWrite');

    await Promise.all(Array.from({ length: 30 }, () => writes.updateById('counter', inc)));
    await writes.updateById('missing', inc);

    expect(commands.calls).toBe(3);
    expect(await collection.findOne({ _id: 'counter' })).toEqual({ _id: 'counter', n: 30 });
    expect(await collection.countDocuments()).toBe(1);
  });

  // FerretDB 1.24 holds a connection per statement of an update command until the command ends;
  // a batch of a hundred once stalled the store's database for good. Many callers at once must
  // therefore go out in several commands, and every one of them must be applied.
  test(
    'a burst of updates larger than one command carries is applied in full',
    { timeout: 30_000 },
    async ({ db }) => {
      const collection = db.collection<Doc>('docs');
      const writes = new GroupCommit(collection);
      const ids = Array.from({ length: 6 * MAX_UPDATE_STATEMENTS }, (_, i) => `d${i}`);
      await collection.insertMany(ids.map((_id) => ({ _id, n: 0 })));
      const sizes: number[] = [];
      const bulkWrite = collection.bulkWrite.bind(collection) as (...args: unknown[]) => Promise<unknown>;
      Object.assign(collection, {
        bulkWrite: (ops: unknown[], ...rest: unknown[]) => (sizes.push(ops.length), bulkWrite(ops, ...rest)),
      });

      await Promise.all(ids.map((id) => writes.updateById(id, inc)));

      expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_UPDATE_STATEMENTS);
      expect(sizes.reduce((a, b) => a + b)).toBe(ids.length);
      expect(await collection.countDocuments({ n: 1 })).toBe(ids.length);
    },
  );

  test('an update that fails is not reported done, nor is any update sent with it', async ({ db }) => {
    const collection = db.collection<Doc>('docs');
    const writes = new GroupCommit(collection);
    await collection.insertMany([
      { _id: 'counter', n: 0 },
      { _id: 'text', n: 'not a number' },
    ]);

    const outcomes = await Promise.allSettled([
      writes.updateById('counter', inc),
      // These three go out together, after the first.
      writes.updateById('counter', inc),
      writes.updateById('text', inc),
      writes.updateById('counter', inc),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect(await collection.findOne({ _id: 'text' })).toEqual({ _id: 'text', n: 'not a number' });
    // The batch's other updates may or may not have been applied: the store does not say.
    const { n } = (await collection.findOne({ _id: 'counter' }))!;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
    // The next batch is not held up by the failed one.
    await writes.updateById('counter', { $set: { n: 10 } });
    expect(await collection.findOne({ _id: 'counter' })).toEqual({ _id: 'counter', n: 10 });
  });
});
