import { describe, expect } from 'vitest';
import { test } from '@beacon/testkit';
import { MongoCorrelationIndex } from '../src/adapters/mongo/correlation-index.js';

const HOUR = 3_600_000;
const ids = (found: { incidentId: string }[]) => found.map((f) => f.incidentId);

describe('the correlation index', () => {
  test('finds the incidents that saw a hash within the window, most recent first', async ({ db }) => {
    const index = new MongoCorrelationIndex(db);
    const now = Date.now();
    await index.record(['h1'], 'inc_a', new Date(now - 3 * HOUR));
    await index.record(['h1', 'h2'], 'inc_b', new Date(now - HOUR));
    await index.record(['h2'], 'inc_c', new Date(now - 2 * HOUR));
    // A later sighting raises an incident's time; an earlier one does not lower it.
    await index.record(['h1'], 'inc_a', new Date(now - 30 * 60_000));
    await index.record(['h1'], 'inc_a', new Date(now - 5 * HOUR));
    // Each with the hashes it was seen with: the indicators a report shares with it.
    expect(await index.find(['h1', 'h2', 'h1'], new Date(now - 4 * HOUR))).toEqual([
      { incidentId: 'inc_a', hashes: ['h1'] },
      { incidentId: 'inc_b', hashes: ['h1', 'h2'] },
      { incidentId: 'inc_c', hashes: ['h2'] },
    ]);
    expect(await index.find(['h3'], new Date(now - 4 * HOUR))).toEqual([]);
  });

  test('entries older than the window are removed as they are read; newer ones stay', async ({ db }) => {
    const index = new MongoCorrelationIndex(db);
    const collection = db.collection<{ _id: string; seen: Record<string, Date> }>('correlation');
    const now = Date.now();
    // A public resolver's address, seen on incident after incident over months.
    for (let i = 0; i < 50; i++)
      await index.record(['resolver'], `inc_${i}`, new Date(now - (50 - i) * 24 * HOUR));
    await index.record(['resolver'], 'inc_today', new Date(now - HOUR));
    const since = new Date(now - 6.5 * 24 * HOUR);
    const found = ids(await index.find(['resolver'], since));
    expect(found).toEqual(['inc_today', ...Array.from({ length: 6 }, (_, i) => `inc_${49 - i}`)]);
    const doc = await collection.findOne({ _id: 'resolver' });
    expect(Object.keys(doc!.seen).sort()).toEqual([...found].sort());
    // The next lookup reads only what is left, and finds the same.
    expect(ids(await index.find(['resolver'], since))).toEqual(found);
  });

  test('an entry raised after it was read as stale is kept', async ({ db }) => {
    const index = new MongoCorrelationIndex(db);
    const otherReplica = new MongoCorrelationIndex(db);
    const now = Date.now();
    await index.record(['h'], 'inc_old', new Date(now - 10 * 24 * HOUR));
    // Another replica records a new sighting between this lookup's read and its removal.
    const read = index.collection.findOne.bind(index.collection);
    index.collection.findOne = (async (...args: Parameters<typeof read>) => {
      const doc = await read(...args);
      await otherReplica.record(['h'], 'inc_old', new Date(now));
      return doc;
    }) as typeof index.collection.findOne;
    const since = new Date(now - 24 * HOUR);
    expect(await index.find(['h'], since)).toEqual([]);
    expect(ids(await otherReplica.find(['h'], since))).toEqual(['inc_old']);
  });
});
