import { AckPolicy, jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import {
  createLogger,
  ensureConsumer,
  ensureStream,
  Metrics,
  startMetricsServer,
  watchConsumerLag,
} from '@beacon/platform';
import { parsePrometheusText, scrapeMetrics, test } from '@beacon/testkit';

const logger = createLogger({ name: 'metrics-test', level: 'silent' });

describe('platform metrics against the real servers', () => {
  test('consumer lag, unacknowledged and redelivered messages follow the durable consumer', async ({
    nats,
    jsm,
    names,
  }) => {
    const stream = names.stream('EVENTS');
    await ensureStream(jsm, { name: stream, subjects: [names.subject('evt.>')] });
    await ensureConsumer(jsm, stream, {
      durable_name: 'lagging',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 30e9,
    });
    const metrics = new Metrics({ processMetrics: false });
    watchConsumerLag(metrics, {
      nc: nats,
      consumers: () => [
        { stream, consumer: 'lagging' },
        { stream, consumer: 'missing' },
      ],
      logger,
      cacheMs: 0,
    });
    const read = async () => {
      const scrape = parsePrometheusText(await metrics.render());
      const labels = { stream, consumer: 'lagging' };
      return {
        pending: scrape.value('beacon_jetstream_consumer_pending_messages', labels),
        ackPending: scrape.value('beacon_jetstream_consumer_ack_pending_messages', labels),
        redelivered: scrape.value('beacon_jetstream_consumer_redelivered_messages', labels),
        missingSeries: scrape.series('beacon_jetstream_consumer_pending_messages', { consumer: 'missing' })
          .length,
        failures: scrape.value('beacon_jetstream_consumer_info_failures_total', { consumer: 'missing' }),
      };
    };

    const js = jetstream(nats);
    for (const n of [1, 2, 3]) await js.publish(names.subject('evt.incident.opened'), `event-${n}`);
    expect(await read()).toMatchObject({ pending: 3, ackPending: 0, redelivered: 0, missingSeries: 0 });

    const consumer = await js.consumers.get(stream, 'lagging');
    const first = await consumer.next({ expires: 5_000 });
    const second = await consumer.next({ expires: 5_000 });
    expect(await read()).toMatchObject({ pending: 1, ackPending: 2, redelivered: 0 });

    await first!.ackAck();
    second!.nak();
    // The server applies a nak asynchronously: the next pull may get event-3 before event-2
    // comes back, so both are taken, in whichever order they arrive.
    const taken = new Map<string, boolean>();
    while (taken.size < 2) {
      const next = await consumer.next({ expires: 5_000 });
      if (!next) throw new Error(`only ${[...taken.keys()].join(', ')} delivered`);
      taken.set(next.string(), next.redelivered);
    }
    expect(Object.fromEntries(taken)).toEqual({ 'event-2': true, 'event-3': false });
    expect(await read()).toMatchObject({ pending: 0, ackPending: 2, redelivered: 1 });
    // A consumer that does not exist drops out of the scrape and is counted as a failure.
    expect((await read()).failures).toBeGreaterThanOrEqual(1);
  });

  test('/metrics answers scrapes in the text format and nothing else', async () => {
    const metrics = new Metrics();
    const calls = metrics.counter('beacon_test_calls_total', 'Calls in this test.', ['kind']);
    calls.labels('a').inc(2);
    metrics.appendText(async () => '# TYPE extra_metric gauge\nextra_metric 7');
    const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 }, logger);
    try {
      const scrape = await scrapeMetrics(server.port);
      expect(scrape.value('beacon_test_calls_total', { kind: 'a' })).toBe(2);
      expect(scrape.value('extra_metric')).toBe(7);
      expect(scrape.declares('process_resident_memory_bytes')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
