import { expect } from 'vitest';
import { test } from '@beacon/testkit';
import { parseJurisdiction } from '@beacon/domain';
import { MongoAgencyStore } from '../src/adapters/mongo/agency-store.js';

const agency: Parameters<MongoAgencyStore['put']>[0] = {
  id: 'cert-de',
  name: 'CERT-DE',
  kind: 'csirt',
  jurisdictions: [parseJurisdiction('DE')!],
  sectors: ['energy'],
  clearance: 'AMBER',
  contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@cert.example', phone: '' }],
  channels: {},
};

test('every stored change to the registry raises its revision, and a refused one does not', async ({
  db,
}) => {
  const store = new MongoAgencyStore(db);
  await store.init();
  const other = new MongoAgencyStore(db);
  expect(await store.revision()).toBe(0);

  await store.put(agency, 0);
  // Another replica sees the revision the change raised, then the change itself.
  expect(await other.revision()).toBe(1);
  expect((await other.all()).map((e) => e.agency.id)).toEqual(['cert-de']);

  await expect(store.put(agency, 0)).rejects.toThrow(/exists/);
  await expect(store.put({ ...agency, name: 'stale' }, 5)).rejects.toThrow(/version/);
  expect(await other.revision()).toBe(1);

  await store.put({ ...agency, name: 'CERT Germany' }, 1);
  expect(await other.revision()).toBe(2);
  await store.putSubscription({ id: 'all', agencyId: 'cert-de' });
  expect(await other.revision()).toBe(3);
  expect(await store.deleteSubscription('cert-de', 'missing')).toBe(false);
  expect(await other.revision()).toBe(3);
  expect(await store.deleteSubscription('cert-de', 'all')).toBe(true);
  expect(await other.revision()).toBe(4);
});
