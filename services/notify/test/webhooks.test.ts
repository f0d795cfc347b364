import { describe, expect } from 'vitest';
import { test as base, waitFor } from '@beacon/testkit';
import type { WebhookSecret } from '../src/domain/agency.js';
import { SIGNATURE_HEADER, verifySignature } from '../src/domain/webhook-signature.js';
import { hmacSha256Hex } from '../src/adapters/delivery/hmac.js';
import { DIGEST_TYPE, type DigestBody, type EventBody } from '../src/adapters/delivery/webhook-body.js';
import { HttpWebhookSender } from '../src/adapters/delivery/webhook-sender.js';
import type { ChannelDeliveryOptions } from '../src/app/channel-delivery.js';
import type { DeliveryRecord } from '../src/app/ports.js';
import {
  agency,
  createKit,
  INCIDENT,
  type Kit,
  type PublishedEvent,
  type ReceivedRequest,
} from './delivery-kit.js';

const test = base.extend('kit', async ({ nats, jsm, names, db }, { onCleanup }) =>
  createKit({ nats, jsm, names, db }, onCleanup),
);

const clock = { now: () => new Date() };
const LOOPBACK = ['127.0.0.1/32'];

const secret = (id: string, fill: string, window: Partial<WebhookSecret> = {}): WebhookSecret => ({
  id,
  secret: fill.repeat(40),
  ...window,
});

function webhook(allowCidrs: readonly string[], timeoutMs = 2_000): ChannelDeliveryOptions['webhook'] {
  return {
    sender: new HttpWebhookSender({ allowCidrs, timeoutMs, clock }),
    // Out of the way unless a test is about it.
    breaker: {
      consecutiveFailures: 1_000,
      failureRatio: 1,
      minimumCalls: 1_000,
      windowSize: 1_000,
      windowMs: 60_000,
      coolDownMs: 60_000,
      trialTimeoutMs: 30_000,
    },
  };
}

const header = (request: ReceivedRequest | undefined, name: string) => {
  const value = request?.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

async function recordsUntil(
  kit: Kit,
  agencyId: string,
  done: (records: DeliveryRecord[]) => boolean,
  what: string,
  incidentId = INCIDENT,
): Promise<DeliveryRecord[]> {
  return waitFor(
    async () => {
      const records = await kit.records(agencyId, incidentId);
      if (!done(records))
        throw new Error(`${records.length} records: ${records.map((r) => r.outcome).join(', ')}`);
      return records;
    },
    { what, timeoutMs: 15_000, intervalMs: 25 },
  );
}

describe('webhook delivery', () => {
  test('a delivery is signed with every active secret, and verifies on the receiving side with either during a rotation', async ({
    kit,
  }) => {
    const receiver = await kit.receiver();
    const now = Date.now();
    const oldSecret = secret('2025-old', 'o', { notAfter: new Date(now + 3_600_000) });
    const newSecret = secret('2026-new', 'n', { notBefore: new Date(now - 60_000) });
    const retired = secret('2024-retired', 'r', { notAfter: new Date(now - 60_000) });
    kit.agencies.set(
      'cert-a',
      agency('cert-a', {
        webhook: {
          url: `${receiver.origin}/hooks/beacon?token=s3cret`,
          secrets: [retired, oldSecret, newSecret],
        },
      }),
    );
    await kit.startDelivery({ webhook: webhook(LOOPBACK) });

    const event = await kit.publish('cert-a', { tlp: 'AMBER', subject: 'incident/inc-1' });
    await waitFor(async () => receiver.requests[0] ?? Promise.reject(new Error('nothing yet')), {
      what: 'the delivery',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/beacon?token=s3cret');
    expect(header(request, 'content-type')).toBe('application/json');
    expect(header(request, 'idempotency-key')).toBe(`${event.id}.cert-a`);

    const signature = header(request, SIGNATURE_HEADER)!;
    expect(signature.match(/v1=/g)).toHaveLength(2); // the retired secret signs nothing
    const verify = (secrets: WebhookSecret[]) =>
      verifySignature({
        header: signature,
        body: request.body,
        secrets,
        now: new Date(),
        hmac: hmacSha256Hex,
      });
    // A receiver that has not rolled yet, one that has, and one that knows only the retired secret.
    expect(verify([oldSecret])).toMatchObject({ ok: true, secretId: '2025-old' });
    expect(verify([newSecret])).toMatchObject({ ok: true, secretId: '2026-new' });
    expect(verify([{ ...retired, notAfter: undefined }])).toEqual({ ok: false, reason: 'mismatch' });
    // A body changed in transit no longer verifies.
    expect(
      verifySignature({
        header: signature,
        body: request.body.replace('AMBER', 'CLEAR'),
        secrets: [newSecret],
        now: new Date(),
        hmac: hmacSha256Hex,
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });

    const body = JSON.parse(request.body) as EventBody;
    expect(body).toMatchObject({
      id: event.id,
      type: 'beacon.incident.opened.v1',
      incidentId: INCIDENT,
      agencyId: 'cert-a',
      tlp: 'AMBER',
      subject: 'incident/inc-1',
      feedSequence: event.seq,
      datacontenttype: 'application/protobuf',
      dataschema: 'beacon.intake.v1.IncidentOpened',
    });
    expect(new Date(body.time!).getTime()).toBeGreaterThan(now - 60_000);
    expect(Buffer.from(body.data, 'base64')).toEqual(Buffer.from(event.data));

    const [record] = await recordsUntil(kit, 'cert-a', (r) => r.length === 1, 'the delivery record');
    expect(record).toMatchObject({
      eventId: event.id,
      channel: 'webhook',
      attempt: 1,
      outcome: 'delivered',
      detail: `HTTP 200 from ${receiver.origin}`,
    });
    expect(record!.latencyMs).toBeGreaterThanOrEqual(0);
    // The URL's path and query (a token here) stay out of the record.
    expect(JSON.stringify(record)).not.toContain('s3cret');
  });

  test('a receiver that keeps failing gets retries at growing delays, then a dead letter; every attempt is logged', async ({
    kit,
  }) => {
    const receiver = await kit.receiver(() => 500);
    kit.agencies.set(
      'cert-b',
      agency('cert-b', { webhook: { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] } }),
    );
    // A jitter draw at the top of the range: each delay is just under its ceiling, 50·2^(n−1) ms.
    await kit.startDelivery({
      webhook: webhook(LOOPBACK),
      retry: { baseMs: 50, capMs: 10_000, maxAttempts: 4 },
      random: () => 0.999,
    });

    const event = await kit.publish('cert-b');
    const [letter] = await waitFor(
      async () => {
        const letters = await kit.letters('cert-b');
        if (letters.length === 0) throw new Error('no dead letter yet');
        return letters;
      },
      { what: 'the dead letter', timeoutMs: 15_000, intervalMs: 25 },
    );
    expect(letter).toMatchObject({
      id: `webhook:${event.id}.cert-b`,
      channel: 'webhook',
      agencyId: 'cert-b',
      incidentId: INCIDENT,
      kind: 'event',
      eventIds: [event.id],
      feedSequences: [event.seq],
      reason: 'attempts-exhausted',
      attempts: 4,
    });
    expect(letter!.lastError).toContain('HTTP 500');

    expect(receiver.requests).toHaveLength(4);
    expect(receiver.requests.map((r) => header(r, 'idempotency-key'))).toEqual(
      Array(4).fill(`${event.id}.cert-b`),
    );
    expect(receiver.requests.map((r) => header(r, 'beacon-delivery-attempt'))).toEqual(['1', '2', '3', '4']);
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i]!.at);
    const ceilings = [50, 100, 200];
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(Math.floor(ceilings[i]! * 0.999) - 2));
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);

    const records = await recordsUntil(kit, 'cert-b', (r) => r.length === 4, 'four attempts');
    expect(records.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'dead-lettered'],
    ]);
    for (const r of records) expect(r.detail).toContain('HTTP 500');
  });

  test('private, loopback, link-local and metadata targets are refused without a connection when not allowed', async ({
    kit,
  }) => {
    const receiver = await kit.receiver();
    const targets = {
      'ssrf-v4-loopback': `http://127.0.0.1:${receiver.port}/hook`,
      'ssrf-v6-loopback': `http://[::1]:${receiver.port}/hook`,
      'ssrf-metadata': 'http://169.254.169.254/latest/meta-data',
      'ssrf-private': 'http://10.0.0.1/hook',
      'ssrf-localhost': `http://localhost:${receiver.port}/hook`,
      'ssrf-mapped': `http://[::ffff:127.0.0.1]:${receiver.port}/hook`,
    };
    for (const [id, url] of Object.entries(targets)) {
      kit.agencies.set(id, agency(id, { webhook: { url, secrets: [secret('k1', 'a')] } }));
    }
    // Nothing is allowed: the production default.
    await kit.startDelivery({ webhook: webhook([]) });
    for (const id of Object.keys(targets)) await kit.publish(id);

    for (const id of Object.keys(targets)) {
      const records = await recordsUntil(kit, id, (r) => r.length === 1, `the refusal for ${id}`);
      expect(records[0]).toMatchObject({ outcome: 'refused', attempt: 1 });
      expect(records[0]!.detail).toMatch(/^SSRF guard \((forbidden-address|localhost-name)\)/);
      const letters = await kit.letters(id);
      expect(letters).toEqual([expect.objectContaining({ reason: 'refused', attempts: 1 })]);
    }
    const detail = async (id: string) => (await kit.records(id, INCIDENT))[0]?.detail;
    expect(await detail('ssrf-metadata')).toContain('169.254.169.254 is cloud metadata');
    expect(await detail('ssrf-private')).toContain('10.0.0.1 is private');
    expect(await detail('ssrf-v6-loopback')).toContain('::1 is loopback');
    expect(receiver.requests).toEqual([]);
  });

  test('the circuit opens after consecutive failures; nothing is sent while it is open; a trial after the cool-down closes it', async ({
    kit,
  }) => {
    const receiver = await kit.receiver((index) => (index < 3 ? 503 : 200));
    kit.agencies.set(
      'cert-c',
      agency('cert-c', { webhook: { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] } }),
    );
    // Long enough that the later events meet the open circuit even on a loaded machine.
    const coolDownMs = 4_000;
    await kit.startDelivery({
      webhook: {
        sender: new HttpWebhookSender({ allowCidrs: LOOPBACK, timeoutMs: 2_000, clock }),
        breaker: {
          consecutiveFailures: 3,
          failureRatio: 1,
          minimumCalls: 100,
          windowSize: 100,
          windowMs: 60_000,
          coolDownMs,
          trialTimeoutMs: 300,
        },
      },
      retry: { baseMs: 50, capMs: 200, maxAttempts: 30 },
    });

    const first = [await kit.publish('cert-c'), await kit.publish('cert-c'), await kit.publish('cert-c')];
    await waitFor(async () => (receiver.requests.length >= 3 ? true : Promise.reject(new Error('waiting'))), {
      what: 'three failing requests',
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    const later = [await kit.publish('cert-c'), await kit.publish('cert-c')];
    // The events published while the circuit is open are turned away without a request.
    const laterIds = new Set(later.map((e) => e.id));
    await recordsUntil(
      kit,
      'cert-c',
      (records) =>
        later.every((e) =>
          records.some((r) => r.eventId === e.id && r.detail.startsWith('circuit open until')),
        ),
      'the open circuit turning the later events away',
    );
    const sentSoFar = receiver.requests.filter((r) =>
      laterIds.has((JSON.parse(r.body) as EventBody).id),
    ).length;
    expect(sentSoFar).toBe(0);

    const all = [...first, ...later];
    const records = await recordsUntil(
      kit,
      'cert-c',
      (rs) => all.every((e) => rs.some((r) => r.eventId === e.id && r.outcome === 'delivered')),
      'every event delivered once the circuit closed',
    );
    // Nothing reached the receiver while the circuit was open. A retry let through just before
    // the third failure opened it may still arrive just after (under load, some time after).
    const refusedTurns = records.filter((r) => r.detail.startsWith('circuit open until'));
    const until = Date.parse(refusedTurns[0]!.detail.split(' ')[3]!.replace(';', ''));
    const sentWhileOpen = receiver.requests.filter(
      (r) => r.at > until - coolDownMs + 300 && r.at < until - 50,
    );
    expect(sentWhileOpen).toEqual([]);
    expect(receiver.requests).toHaveLength(3 + all.length);
    expect(refusedTurns.length).toBeGreaterThan(0);
    for (const turn of refusedTurns) expect(turn).toMatchObject({ outcome: 'failed', latencyMs: 0 });
  });

  test('a redelivered event carries the same Idempotency-Key, so the receiver can drop the duplicate', async ({
    kit,
  }) => {
    // The first request is processed, but the connection drops before the answer: Beacon retries.
    const receiver = await kit.receiver((index) => (index === 0 ? 'hang-up' : 200));
    kit.agencies.set(
      'cert-d',
      agency('cert-d', { webhook: { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] } }),
    );
    await kit.startDelivery({ webhook: webhook(LOOPBACK) });
    const event = await kit.publish('cert-d');

    const records = await recordsUntil(
      kit,
      'cert-d',
      (r) => r.some((x) => x.outcome === 'delivered'),
      'the retry delivered',
    );
    expect(records.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'failed'],
      [2, 'delivered'],
    ]);
    expect(records[0]!.detail).toMatch(/connection failed|request failed/);
    expect(receiver.requests).toHaveLength(2);
    const [original, duplicate] = receiver.requests;
    expect(header(duplicate, 'idempotency-key')).toBe(`${event.id}.cert-d`);
    expect(header(duplicate, 'idempotency-key')).toBe(header(original, 'idempotency-key'));
    expect(JSON.parse(duplicate!.body)).toEqual(JSON.parse(original!.body));
  });

  test('storm control: a burst of 20 events for one incident gives `threshold` posts at once, then one digest', async ({
    kit,
  }) => {
    const receiver = await kit.receiver();
    kit.agencies.set(
      'cert-e',
      agency('cert-e', { webhook: { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] } }),
    );
    const threshold = 3;
    await kit.startDelivery({ webhook: webhook(LOOPBACK), storm: { windowMs: 1_500, threshold } });

    const events = [];
    for (let i = 0; i < 20; i++) events.push(await kit.publish('cert-e', { tlp: i === 7 ? 'RED' : 'AMBER' }));
    // Another incident of the same agency is its own storm key: sent at once.
    const other = await kit.publish('cert-e', { incidentId: 'inc-2' });

    const isDigest = (r: ReceivedRequest) => (JSON.parse(r.body) as { type: string }).type === DIGEST_TYPE;
    const digestRequest = await waitFor(
      async () => receiver.requests.find(isDigest) ?? Promise.reject(new Error('no digest yet')),
      { what: 'the digest', timeoutMs: 10_000, intervalMs: 20 },
    );
    const singles = receiver.requests.filter((r) => !isDigest(r)).map((r) => JSON.parse(r.body) as EventBody);
    expect(singles.filter((b) => b.incidentId === INCIDENT)).toHaveLength(threshold);
    expect(singles.filter((b) => b.incidentId === 'inc-2').map((b) => b.id)).toEqual([other.id]);

    const digest = JSON.parse(digestRequest.body) as DigestBody;
    const sentAtOnce = new Set(singles.map((b) => b.id));
    const held = events.filter((e) => !sentAtOnce.has(e.id));
    expect(held).toHaveLength(20 - threshold);
    expect(digest).toMatchObject({
      type: DIGEST_TYPE,
      agencyId: 'cert-e',
      incidentId: INCIDENT,
      count: 20 - threshold,
      omitted: 0,
      tlp: 'RED', // the most restrictive label among its events
    });
    expect(digest.events.map((e) => e.id).sort()).toEqual(held.map((e) => e.id).sort());
    expect(digest.events.map((e) => e.feedSequence).sort((a, b) => a - b)).toEqual(
      held.map((e) => e.seq).sort((a, b) => a - b),
    );
    expect(header(digestRequest, 'idempotency-key')).toBe(digest.id);
    const signature = header(digestRequest, SIGNATURE_HEADER)!;
    expect(
      verifySignature({
        header: signature,
        body: digestRequest.body,
        secrets: [secret('k1', 'a')],
        now: new Date(),
        hmac: hmacSha256Hex,
      }).ok,
    ).toBe(true);

    const records = await recordsUntil(
      kit,
      'cert-e',
      (r) => r.some((x) => x.eventId === digest.id && x.outcome === 'delivered'),
      'the digest record',
    );
    expect(records.filter((r) => r.outcome === 'held')).toHaveLength(20 - threshold);
    expect(records.filter((r) => r.outcome === 'delivered')).toHaveLength(threshold + 1);

    // Every held message was acknowledged once the digest was delivered; nothing more is sent.
    const consumer = await kit.js.consumers.get(kit.stream, 'notify-channels-webhook');
    await waitFor(
      async () => {
        const info = await consumer.info();
        if (info.num_ack_pending !== 0 || info.num_pending !== 0)
          throw new Error(JSON.stringify(info.num_ack_pending));
      },
      { what: 'every message acknowledged', timeoutMs: 5_000, intervalMs: 25 },
    );
    expect(receiver.requests).toHaveLength(threshold + 1 + 1);
  });
  test('retries and held events survive a restart: JetStream redelivers them to the next instance', async ({
    kit,
  }) => {
    const receiver = await kit.receiver((index) => (index === 0 ? 500 : 200));
    kit.agencies.set(
      'cert-f',
      agency('cert-f', { webhook: { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] } }),
    );
    // A long window: the held events are still waiting for their digest when the instance stops.
    const first = await kit.startDelivery({
      webhook: webhook(LOOPBACK),
      retry: { baseMs: 500, capMs: 1_000, maxAttempts: 4 },
      random: () => 0.999,
      storm: { windowMs: 60_000, threshold: 1 },
    });
    const events: PublishedEvent[] = [];
    for (let i = 0; i < 4; i++) events.push(await kit.publish('cert-f'));
    await recordsUntil(
      kit,
      'cert-f',
      (r) => r.some((x) => x.outcome === 'failed') && r.filter((x) => x.outcome === 'held').length === 3,
      'one failed attempt and three held events',
    );
    await first.stop();

    // No storm for the next instance: each event comes back on its own.
    await kit.startDelivery({
      webhook: webhook(LOOPBACK),
      retry: { baseMs: 500, capMs: 1_000, maxAttempts: 4 },
      storm: { windowMs: 60_000, threshold: 100 },
    });
    const notified = await waitFor(
      async () => {
        const ids = new Set<string>();
        for (const r of receiver.requests.slice(1)) ids.add((JSON.parse(r.body) as EventBody).id);
        return events.every((e) => ids.has(e.id)) ? ids : Promise.reject(new Error(`${ids.size} notified`));
      },
      { what: 'every event notified after the restart', timeoutMs: 10_000, intervalMs: 25 },
    );
    expect(notified.size).toBe(4);
    // The failed event's retry is its second attempt: the count lives in JetStream, not in memory.
    const retried = receiver.requests.find(
      (r, i) => i > 0 && header(r, 'idempotency-key') === header(receiver.requests[0], 'idempotency-key'),
    );
    expect(header(retried, 'beacon-delivery-attempt')).toBe('2');
  });
});

describe('which feed messages the webhook consumer reads', () => {
  test('only those of agencies with a webhook: a change here applies at once, one made elsewhere within the refresh, and a removal here stops the reads', async ({
    kit,
    jsm,
  }) => {
    const receiver = await kit.receiver();
    const hook = { url: `${receiver.origin}/hook`, secrets: [secret('k1', 'a')] };
    kit.agencies.set('cert-hook', agency('cert-hook', { webhook: hook }));
    kit.agencies.set('cert-feed', agency('cert-feed', {}));
    const delivery = await kit.startDelivery({ webhook: webhook(LOOPBACK), filterRefreshMs: 100 });
    const delivered = async () =>
      (await jsm.consumers.info(kit.stream, 'notify-channels-webhook')).delivered.consumer_seq;
    const received = (n: number, what: string) =>
      waitFor(
        () => (receiver.requests.length >= n ? Promise.resolve() : Promise.reject(new Error('not yet'))),
        { what, timeoutMs: 10_000, intervalMs: 20 },
      );

    // The feed-only agency's message is never handed to the consumer, nor is it attempted.
    await kit.publish('cert-feed');
    const first = await kit.publish('cert-hook');
    await received(1, 'the webhook agency’s event');
    expect(await delivered()).toBe(1);
    expect(header(receiver.requests[0], 'idempotency-key')).toBe(`${first.id}.cert-hook`);

    // Another replica gives the feed-only agency a webhook: the periodic refresh takes it in.
    kit.agencies.set('cert-feed', agency('cert-feed', { webhook: hook }));
    await waitFor(
      async () => {
        const { config } = await jsm.consumers.info(kit.stream, 'notify-channels-webhook');
        if (!config.filter_subjects?.some((s) => s.includes('.cert-feed.'))) throw new Error('not yet');
      },
      { what: 'the filter taking in cert-feed', timeoutMs: 5_000, intervalMs: 20 },
    );
    const later = await kit.publish('cert-feed');
    await received(2, 'cert-feed’s event after it got a webhook');
    expect(header(receiver.requests[1], 'idempotency-key')).toBe(`${later.id}.cert-feed`);

    // This replica removes the webhook again: from then on its messages are not read.
    kit.agencies.set('cert-feed', agency('cert-feed', {}));
    await delivery.registryChanged();
    await kit.publish('cert-feed');
    await kit.publish('cert-hook');
    await received(3, 'the webhook agency’s next event');
    expect(await delivered()).toBe(3);
    expect(receiver.requests.map((r) => header(r, 'idempotency-key')?.split('.').at(-1))).toEqual([
      'cert-hook',
      'cert-feed',
      'cert-hook',
    ]);
  });
});
