import { AckPolicy, jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { connectNats, ensureConsumer, ensureStream } from '@beacon/platform';
import { test } from '@beacon/testkit';

describe('JetStream on the real server', () => {
  test('a message published twice with one id is stored once', async ({ nats, jsm, names }) => {
    const stream = names.stream('EVENTS');
    const subject = names.subject('evt.incident.opened');
    await ensureStream(jsm, { name: stream, subjects: [names.subject('evt.>')], duplicate_window: 120e9 });
    const js = jetstream(nats);

    const first = await js.publish(subject, 'opened', { msgID: 'event-1' });
    const second = await js.publish(subject, 'opened', { msgID: 'event-1' });

    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  test('a durable pull consumer does not see an acked message again after reconnecting', async ({
    infra,
    nats,
    jsm,
    names,
  }) => {
    const stream = names.stream('EVENTS');
    const subject = names.subject('evt.incident.opened');
    await ensureStream(jsm, { name: stream, subjects: [names.subject('evt.>')] });
    await ensureConsumer(jsm, stream, { durable_name: 'starter', ack_policy: AckPolicy.Explicit });
    await jetstream(nats).publish(subject, 'opened', { msgID: 'event-1' });

    const first = await connectNats({ servers: infra.natsUrl, name: 'first-life' });
    const message = await (await jetstream(first).consumers.get(stream, 'starter')).next({ expires: 5_000 });
    expect(message?.string()).toBe('opened');
    expect(await message!.ackAck()).toBe(true);
    await first.close();

    const second = await connectNats({ servers: infra.natsUrl, name: 'second-life' });
    try {
      const consumer = await jetstream(second).consumers.get(stream, 'starter');
      const info = await consumer.info();
      expect(info.num_pending).toBe(0);
      expect(info.num_ack_pending).toBe(0);
      expect(info.delivered.stream_seq).toBe(1);
      // The server has nothing for us; `next` ends at its expiry with no message.
      expect(await consumer.next({ expires: 1_000 })).toBeNull();
    } finally {
      await second.close();
    }
  });

  test('ensureStream is idempotent and applies a changed setting', async ({ jsm, names }) => {
    const spec = { name: names.stream('FEEDS'), subjects: [names.subject('feed.>')], max_msgs: 100 };
    const created = await ensureStream(jsm, spec);
    const again = await ensureStream(jsm, spec);
    expect(again.created).toEqual(created.created);

    const updated = await ensureStream(jsm, { ...spec, max_msgs: 500 });
    expect(updated.config.max_msgs).toBe(500);
  });
});
