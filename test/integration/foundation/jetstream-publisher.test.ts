import { JetStreamApiError } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { describe, expect } from 'vitest';
import {
  connectNats,
  ensureStream,
  JetStreamPublisher,
  NoStreamError,
  PublishTimeoutError,
} from '@beacon/platform';
import { test } from '@beacon/testkit';

describe('JetStreamPublisher on the real server', () => {
  test('acknowledges each message once stored, in order, and reports a repeated id as a duplicate', async ({
    nats,
    jsm,
    names,
  }) => {
    const stream = names.stream('PUB');
    await ensureStream(jsm, { name: stream, subjects: [names.subject('pub.>')], duplicate_window: 120e9 });
    const publisher = new JetStreamPublisher(nats);

    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const h = headers();
        h.set('Beacon-Event-Id', `e${i}`);
        return publisher.publish(names.subject(`pub.a${i % 5}`), new TextEncoder().encode(`m${i}`), {
          msgID: `id-${i}`,
          headers: h,
        });
      }),
    );
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks.every((a) => a.stream === stream && !a.duplicate)).toBe(true);

    const again = await publisher.publish(names.subject('pub.a3'), new TextEncoder().encode('m3'), {
      msgID: 'id-3',
    });
    expect(again).toMatchObject({ seq: 4, duplicate: true });
    expect((await jsm.streams.info(stream)).state.messages).toBe(50);
    expect(publisher.pending).toBe(0);

    // What was stored is what was sent, headers and id included.
    const stored = await jsm.streams.getMessage(stream, { seq: 8 });
    expect(stored?.string()).toBe('m7');
    expect(stored?.header.get('Beacon-Event-Id')).toBe('e7');
    expect(stored?.header.get('Nats-Msg-Id')).toBe('id-7');
  });

  test('rejects only the publish the stream refuses, with the server’s reason', async ({
    nats,
    jsm,
    names,
  }) => {
    const stream = names.stream('PUBLIMIT');
    await ensureStream(jsm, {
      name: stream,
      subjects: [names.subject('lim.>')],
      max_msg_size: 16,
    });
    const publisher = new JetStreamPublisher(nats);
    const results = await Promise.allSettled([
      publisher.publish(names.subject('lim.a'), new TextEncoder().encode('small')),
      publisher.publish(names.subject('lim.a'), new Uint8Array(64)),
      publisher.publish(names.subject('lim.a'), new TextEncoder().encode('small too')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (results[1] as PromiseRejectedResult).reason as JetStreamApiError;
    expect(refused).toBeInstanceOf(JetStreamApiError);
    expect(refused.message).toMatch(/message size exceeds/i);
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
  });

  test('rejects a subject no stream takes, and a publish nobody acknowledges in time', async ({
    nats,
    infra,
    names,
  }) => {
    const publisher = new JetStreamPublisher(nats, { timeoutMs: 200 });
    await expect(publisher.publish(names.subject('nowhere.x'), new Uint8Array(1))).rejects.toBeInstanceOf(
      NoStreamError,
    );

    // A plain subscriber that never answers: the server has a responder, the ack never comes.
    const silent = await connectNats({ servers: infra.natsUrl, name: 'silent' });
    try {
      silent.subscribe(names.subject('silent.>'), { callback: () => undefined });
      await silent.flush();
      const started = performance.now();
      await expect(publisher.publish(names.subject('silent.x'), new Uint8Array(1))).rejects.toBeInstanceOf(
        PublishTimeoutError,
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      expect(publisher.pending).toBe(0);
    } finally {
      await silent.close();
    }
  });

  test('fails what is pending and what comes after once its connection closes', async ({
    infra,
    jsm,
    names,
  }) => {
    const stream = names.stream('PUBCLOSE');
    await ensureStream(jsm, { name: stream, subjects: [names.subject('close.>')] });
    const nc = await connectNats({ servers: infra.natsUrl, name: 'closing' });
    const publisher = new JetStreamPublisher(nc);
    expect((await publisher.publish(names.subject('close.a'), new Uint8Array(1))).seq).toBe(1);
    await nc.close();
    await expect(publisher.publish(names.subject('close.a'), new Uint8Array(1))).rejects.toThrow();
    // The stream holds what was acknowledged and nothing else.
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });
});
