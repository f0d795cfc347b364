import { expect } from 'vitest';
import { parseJurisdiction } from '@beacon/domain';
import { test } from '@beacon/testkit';
import { MongoIncidentFactsStore } from '../src/adapters/mongo/incident-facts-store.js';
import type { IncidentFacts } from '../src/app/ports.js';

const facts = (version: number, over: Partial<IncidentFacts> = {}): IncidentFacts => ({
  incidentId: 'incident-1',
  tlp: 'GREEN',
  sectors: ['energy'],
  jurisdictions: [parseJurisdiction('DE')!],
  engagedAgencyIds: [],
  version,
  ...over,
});

test('facts put without waiting are written in order, read back only once written, and never rolled back', async ({
  db,
}) => {
  const store = new MongoIncidentFactsStore(db);
  // The fan-out puts an incident's facts and moves on to its next event before the write lands.
  const writes = [
    store.put(facts(1)),
    store.put(facts(2, { tlp: 'AMBER', engagedAgencyIds: ['cert-de'] })),
    store.put(facts(3, { tlp: 'RED', engagedAgencyIds: ['cert-de', 'bka'] })),
  ];
  // A read behind them sees the last, not whatever the database held when it was asked.
  expect(await store.get('incident-1')).toMatchObject({ version: 3, tlp: 'RED' });
  await Promise.all(writes);

  // A redelivered older event changes nothing, here or for another replica reading the database.
  await store.put(facts(2, { tlp: 'AMBER', engagedAgencyIds: ['cert-de'] }));
  const other = new MongoIncidentFactsStore(db);
  await other.put(facts(1));
  expect(await other.get('incident-1')).toMatchObject({
    version: 3,
    tlp: 'RED',
    engagedAgencyIds: ['cert-de', 'bka'],
  });

  // Newer facts from a replica that never wrote this incident do replace what is stored.
  const third = new MongoIncidentFactsStore(db);
  await third.put(facts(4, { tlp: 'AMBER', engagedAgencyIds: ['bka'] }));
  expect(await store.get('incident-1')).toMatchObject({
    version: 4,
    tlp: 'AMBER',
    engagedAgencyIds: ['bka'],
  });
  expect(await store.collection.countDocuments({})).toBe(1);
});

test('facts put while a write of the incident is under way wait as one write of the newest', async ({
  db,
}) => {
  const store = new MongoIncidentFactsStore(db);
  const update = store.collection.updateOne.bind(store.collection);
  const written: number[] = [];
  store.collection.updateOne = (...args: Parameters<typeof update>) => {
    written.push((args[1] as { $max: { current: { version: number } } }).$max.current.version);
    return update(...args);
  };
  // A burst of one incident's events: each changes what notify matches on.
  const puts = [1, 2, 3, 4].map((v) => store.put(facts(v, { engagedAgencyIds: [`agency-${v}`] })));
  await Promise.all(puts);
  expect(written).toEqual([1, 4]);
  expect(await store.get('incident-1')).toMatchObject({ version: 4, engagedAgencyIds: ['agency-4'] });
});

test("a replica that wrote an incident's facts before cannot write older ones over another's newer", async ({
  db,
}) => {
  // Two replicas share the fan-out: each handles some of an incident's events, in any order.
  const [first, second] = [new MongoIncidentFactsStore(db), new MongoIncidentFactsStore(db)];
  await first.put(facts(1));
  await second.put(facts(3, { tlp: 'RED', engagedAgencyIds: ['bka'] }));
  // The first handles version 2 late: the incident is RED by now, and must stay so.
  await first.put(facts(2, { tlp: 'AMBER', engagedAgencyIds: ['cert-de'] }));
  expect(await second.get('incident-1')).toMatchObject({ version: 3, tlp: 'RED', engagedAgencyIds: ['bka'] });
  // And it still writes what is newer than that.
  await first.put(facts(4, { tlp: 'AMBER', engagedAgencyIds: ['bka'] }));
  expect(await second.get('incident-1')).toMatchObject({ version: 4, tlp: 'AMBER' });

  // Facts changed on the other replica and back: the first, which wrote them as they are
  // again now, must not take the database for unchanged (bka was unassigned in between).
  const other = (version: number, engagedAgencyIds: string[]) =>
    facts(version, { incidentId: 'incident-2', engagedAgencyIds });
  await first.put(other(1, []));
  await second.put(other(2, ['bka']));
  await first.put(other(3, []));
  expect(await second.get('incident-2')).toMatchObject({ version: 3, engagedAgencyIds: [] });
});

test('facts stored before they moved under `current` are still read, and the next change replaces them', async ({
  db,
}) => {
  const store = new MongoIncidentFactsStore(db);
  const { incidentId: _, ...earlier } = facts(5, { tlp: 'RED', engagedAgencyIds: ['bka'] });
  await db.collection<{ _id: string }>('incident_facts').insertOne({ _id: 'incident-1', ...earlier });
  expect(await store.get('incident-1')).toMatchObject({ version: 5, tlp: 'RED', engagedAgencyIds: ['bka'] });
  await store.put(facts(6, { tlp: 'AMBER', engagedAgencyIds: [] }));
  expect(await store.get('incident-1')).toMatchObject({ version: 6, tlp: 'AMBER', engagedAgencyIds: [] });
});
