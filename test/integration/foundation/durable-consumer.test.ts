import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import {
  createLogger,
  DurableConsumer,
  ensureStream,
  redeliveryDelayMs,
  TerminateEvent,
} from '@beacon/platform';
import { eventsV1 } from '@beacon/proto';
import { test, waitFor } from '@beacon/testkit';

const logger = createLogger({ name: 'durable-consumer-test', level: 'silent' });

const event = (id: string) =>
  eventsV1.Envelope.encode(eventsV1.Envelope.fromPartial({ id, type: 'beacon.test.happened.v1' })).finish();

describe('the platform’s durable consumer against real NATS', () => {
  test(
    'handles every event once it succeeds, redelivers a failure after its delay, terminates what it can never handle',
    { timeout: 30_000 },
    async ({ nats, jsm, names }) => {
      const stream = names.stream('EVENTS');
      const root = names.subject('evt');
      await ensureStream(jsm, { name: stream, subjects: [`${root}.>`] });
      const js = jetstream(nats);
      // Published before the consumer exists: it starts from the first event in the stream.
      for (const id of ['e1', 'flaky', 'doomed', 'e2']) await js.publish(`${root}.thing`, event(id));
      await js.publish(`${root}.thing`, new TextEncoder().encode('\u00ff not an envelope'));
      await js.publish(`${root}.other`, event('not-subscribed'));

      const calls: { id: string; delivery: number; atMs: number }[] = [];
      const consumer = new DurableConsumer({
        nc: nats,
        stream,
        subjects: [`${root}.thing`],
        durable: 'things',
        logger,
        concurrency: 1,
        handle: async (envelope, message) => {
          calls.push({ id: envelope.id, delivery: message.info.deliveryCount, atMs: Date.now() });
          if (envelope.id === 'doomed') throw new TerminateEvent('never handled');
          if (envelope.id === 'flaky' && message.info.deliveryCount < 3) throw new Error('store away');
        },
      });
      await consumer.start();
      try {
        await waitFor(
          async () => {
            const info = await jsm.consumers.info(stream, 'things');
            if (info.num_pending + info.num_ack_pending > 0 || calls.length < 6)
              throw new Error(
                `${info.num_pending} pending, ${info.num_ack_pending} unacked, ${calls.length} calls`,
              );
          },
          { what: 'every event settled', timeoutMs: 20_000, intervalMs: 100 },
        );
      } finally {
        await consumer.stop();
      }
      // In stream order, one at a time (concurrency 1); the events after the flaky one are
      // handled while it waits for its redelivery. The undecodable one never reaches the
      // handler, the one on another subject is not consumed.
      expect(calls.map((c) => `${c.id}#${c.delivery}`)).toEqual([
        'e1#1',
        'flaky#1',
        'doomed#1',
        'e2#1',
        'flaky#2',
        'flaky#3',
      ]);
      // Each redelivery of the flaky one waited at least the policy's delay.
      const flaky = calls.filter((c) => c.id === 'flaky');
      expect(flaky[1]!.atMs - flaky[0]!.atMs).toBeGreaterThanOrEqual(redeliveryDelayMs(1) - 50);
      expect(flaky[2]!.atMs - flaky[1]!.atMs).toBeGreaterThanOrEqual(redeliveryDelayMs(2) - 50);
      // Terminated and acked alike leave nothing to deliver again.
      const info = await jsm.consumers.info(stream, 'things');
      expect(info.delivered.stream_seq).toBe(5);
      expect(info.ack_floor.stream_seq).toBe(5);
    },
  );

  test('the redelivery delay doubles from a second to at most 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(redeliveryDelayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
  test('is ready while it consumes and its durable exists, not once the durable is deleted or it stops', async ({
    nats,
    jsm,
    names,
  }) => {
    const stream = names.stream('EVENTS');
    const root = names.subject('evt');
    await ensureStream(jsm, { name: stream, subjects: [`${root}.>`] });
    const consumer = new DurableConsumer({
      nc: nats,
      stream,
      subjects: [`${root}.thing`],
      durable: 'watched',
      logger,
      handle: async () => {},
    });
    const health = consumer.health();
    await expect(health.probe()).rejects.toThrow('not consuming');
    await consumer.start();
    try {
      await expect(health.probe()).resolves.toBeUndefined();
      // Deleted under it: the client library would wait for it forever without a word.
      await jsm.consumers.delete(stream, 'watched');
      await expect(health.probe()).rejects.toThrow();
    } finally {
      await consumer.stop();
    }
    await expect(health.probe()).rejects.toThrow('not consuming');
  });
});
