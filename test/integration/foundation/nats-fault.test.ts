import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { connectNats, ensureConsumer, ensureStream } from '@beacon/platform';
import { startDedicated, waitFor } from '@beacon/testkit';

describe('NATS fault', () => {
  it('keeps every stored message through a kill -9 while a consumer is attached', async () => {
    const server = await startDedicated('nats');
    const nc = await connectNats({ servers: server.url, name: 'fault-test' });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, { name: 'EVENTS', subjects: ['evt.>'] });
      // A short ack wait, so the message in flight at the crash is redelivered within the test.
      await ensureConsumer(jsm, 'EVENTS', {
        durable_name: 'relay',
        ack_policy: AckPolicy.Explicit,
        ack_wait: 2_000_000_000,
      });
      const js = jetstream(nc);
      const total = 500;
      for (let i = 0; i < total; i++) await js.publish(`evt.n${i % 7}`, `m${i}`, { msgID: `id-${i}` });

      // A consumer is attached and holds an unacknowledged message when the server dies.
      const consumer = await js.consumers.get('EVENTS', 'relay');
      const inFlight = await consumer.next({ expires: 5_000 });
      expect(inFlight?.string()).toBe('m0');

      await server.process.kill();
      await server.restart();

      // The client reconnects by itself; wait for JetStream to answer it again.
      const info = await waitFor(() => jsm.streams.info('EVENTS'), {
        what: 'stream after restart',
        timeoutMs: 20_000,
      });
      expect(info.state.messages).toBe(total);
      expect(info.state.first_seq).toBe(1);
      expect(info.state.last_seq).toBe(total);

      // Nothing was acked, so the consumer redelivers from the first message onwards.
      const consumerInfo = await jsm.consumers.info('EVENTS', 'relay');
      expect(consumerInfo.ack_floor.stream_seq).toBe(0);
      const replay = await js.consumers.get('EVENTS', 'relay');
      const bodies: string[] = [];
      const batch = await replay.fetch({ max_messages: total, expires: 10_000 });
      for await (const m of batch) {
        bodies.push(m.string());
        m.ack();
        if (bodies.length === total) break;
      }
      expect(new Set(bodies).size).toBe(total);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
