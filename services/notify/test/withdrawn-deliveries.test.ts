import { describe, expect } from 'vitest';
import { test as base, waitFor } from '@beacon/testkit';
import { HttpWebhookSender } from '../src/adapters/delivery/webhook-sender.js';
import type { DeliveryRecord } from '../src/app/ports.js';
import { agency, createKit, INCIDENT, type Kit } from './delivery-kit.js';

const test = base.extend('kit', async ({ nats, jsm, names, db }, { onCleanup }) =>
  createKit({ nats, jsm, names, db }, onCleanup),
);

const clock = { now: () => new Date() };

const facts = (engagedAgencyIds: string[]) => ({
  incidentId: INCIDENT,
  tlp: 'AMBER' as const,
  sectors: [],
  jurisdictions: [],
  engagedAgencyIds,
  version: engagedAgencyIds.length,
});

const recordsUntil = (
  kit: Kit,
  agencyId: string,
  done: (r: DeliveryRecord[]) => boolean,
  what: string,
  incidentId = INCIDENT,
) =>
  waitFor(
    async () => {
      const records = await kit.records(agencyId, incidentId);
      if (!done(records)) {
        throw new Error(`records so far: ${records.map((r) => `${r.eventId} ${r.outcome}`).join(', ')}`);
      }
      return records;
    },
    { what, timeoutMs: 15_000, intervalMs: 50 },
  );

describe('webhooks queued for an agency that lost access', () => {
  test('are not sent once it is removed from the incident, while the engaged agency’s go out', async ({
    kit,
  }) => {
    // Both receivers fail the first attempt, so both notifications wait in the queue for a retry;
    // the coordinator removes cert-a from the incident while its first attempt is under way, so
    // the removal is known before any retry, however slow the machine.
    const removed = await kit.receiver((index) => {
      if (index === 0) kit.incidents.set(INCIDENT, { ...facts(['cert-b']), version: 3 });
      return index === 0 ? 503 : 200;
    });
    const engaged = await kit.receiver((index) => (index === 0 ? 503 : 200));
    const secrets = [{ id: 'k1', secret: 'k'.repeat(40) }];
    kit.agencies.set('cert-a', agency('cert-a', { webhook: { url: `${removed.origin}/hook`, secrets } }));
    kit.agencies.set('cert-b', agency('cert-b', { webhook: { url: `${engaged.origin}/hook`, secrets } }));
    kit.incidents.set(INCIDENT, facts(['cert-a', 'cert-b']));
    await kit.startDelivery({
      webhook: { sender: new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 2_000, clock }) },
      retry: { baseMs: 400, capMs: 800, maxAttempts: 4 },
    });
    await kit.publish('cert-a', { id: 'evt-amber' });
    await kit.publish('cert-b', { id: 'evt-amber' });

    const b = await recordsUntil(kit, 'cert-b', (r) => r.some((x) => x.outcome === 'delivered'), 'cert-b');
    expect(b.map((r) => r.outcome)).toEqual(['failed', 'delivered']);
    expect(engaged.requests).toHaveLength(2);
    const a = await recordsUntil(kit, 'cert-a', (r) => r.some((x) => x.outcome === 'withdrawn'), 'cert-a');
    expect(a.map((r) => r.outcome)).toEqual(['failed', 'withdrawn']);
    // Only the first, failed attempt ever reached cert-a's endpoint.
    expect(removed.requests).toHaveLength(1);
    expect(await kit.letters('cert-a')).toEqual([]);
  });

  test('are not sent once the agency’s clearance drops below the event’s label', async ({ kit }) => {
    // The AMBER event's first attempt fails, and while it is under way the agency's clearance
    // drops to GREEN. An event is read under its incident's label should that be higher, so the
    // incident here is GREEN: its GREEN events stay the agency's to receive after the drop.
    let amberTries = 0;
    const receiver = await kit.receiver((_, request) => {
      if (!request.body.includes('evt-amber') || amberTries++ > 0) return 200;
      kit.agencies.set('cert-a', { ...kit.agencies.get('cert-a')!, clearance: 'GREEN' });
      return 503;
    });
    const secrets = [{ id: 'k1', secret: 'k'.repeat(40) }];
    kit.agencies.set('cert-a', agency('cert-a', { webhook: { url: `${receiver.origin}/hook`, secrets } }));
    kit.incidents.set(INCIDENT, { ...facts(['cert-a']), tlp: 'GREEN' });
    const amberIncident = 'inc-amber';
    kit.incidents.set(amberIncident, { ...facts(['cert-a']), incidentId: amberIncident });
    await kit.startDelivery({
      webhook: { sender: new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 2_000, clock }) },
      retry: { baseMs: 400, capMs: 800, maxAttempts: 4 },
    });
    await kit.publish('cert-a', { id: 'evt-amber' });
    // The other events are first tried after the drop, never racing it.
    await waitFor(
      async () => {
        if (kit.agencies.get('cert-a')!.clearance !== 'GREEN') throw new Error('clearance not dropped yet');
      },
      { what: 'the clearance drop', timeoutMs: 15_000, intervalMs: 20 },
    );
    await kit.publish('cert-a', { id: 'evt-green', tlp: 'GREEN' });
    // Published GREEN, but about an AMBER incident: read as AMBER, so above the new clearance.
    await kit.publish('cert-a', { id: 'evt-raised', tlp: 'GREEN', incidentId: amberIncident });

    const records = await recordsUntil(
      kit,
      'cert-a',
      (r) => r.some((x) => x.outcome === 'withdrawn') && r.some((x) => x.outcome === 'delivered'),
      'the retries',
    );
    const outcome = (eventId: string) =>
      records.filter((r) => r.eventId === eventId && r.outcome !== 'failed').map((r) => r.outcome);
    expect(outcome('evt-amber')).toEqual(['withdrawn']);
    // The GREEN event of the GREEN incident is still the agency's to receive.
    expect(outcome('evt-green')).toEqual(['delivered']);
    const raised = await recordsUntil(kit, 'cert-a', (r) => r.length > 0, 'the raised event', amberIncident);
    expect(raised.map((r) => `${r.eventId} ${r.outcome}`)).toEqual(['evt-raised withdrawn']);
    // Only the AMBER event's first, failed attempt and the GREEN event reached the endpoint.
    expect(receiver.requests.map((r) => r.body.includes('evt-green'))).toEqual([false, true]);
  });
});
