import { describe, expect } from 'vitest';
import { createLogger, Metrics, watchConsumerLag } from '@beacon/platform';
import { parsePrometheusText, test as base, waitFor } from '@beacon/testkit';
import { HttpWebhookSender } from '../src/adapters/delivery/webhook-sender.js';
import { MeteredDeliveryLog, watchCircuits } from '../src/adapters/metrics/notify-metrics.js';
import { agency, createKit } from './delivery-kit.js';

const test = base.extend('kit', async ({ nats, jsm, names, db }, { onCleanup }) =>
  createKit({ nats, jsm, names, db }, onCleanup),
);

const clock = { now: () => new Date() };

describe('notify delivery metrics', () => {
  test('webhook outcomes, the circuit opening and closing, and the channel consumer show in the scrape', async ({
    kit,
    nats,
  }) => {
    const metrics = new Metrics({ processMetrics: false });
    const receiver = await kit.receiver((index) => (index < 2 ? 503 : 200));
    kit.agencies.set(
      'cert-m',
      agency('cert-m', {
        webhook: { url: `${receiver.origin}/hook`, secrets: [{ id: 'k1', secret: 'm'.repeat(40) }] },
      }),
    );
    const delivery = await kit.startDelivery({
      log: new MeteredDeliveryLog(kit.log, metrics),
      webhook: {
        sender: new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 2_000, clock }),
        breaker: {
          consecutiveFailures: 2,
          failureRatio: 1,
          minimumCalls: 100,
          windowSize: 100,
          windowMs: 60_000,
          coolDownMs: 1_500,
          trialTimeoutMs: 300,
        },
      },
      retry: { baseMs: 50, capMs: 200, maxAttempts: 30 },
    });
    watchCircuits(metrics, delivery);
    watchConsumerLag(metrics, {
      nc: nats,
      consumers: () => delivery.durables().map((consumer) => ({ stream: kit.stream, consumer })),
      logger: createLogger({ name: 'notify-metrics-test', level: 'silent' }),
      cacheMs: 0,
    });
    const scrape = async () => parsePrometheusText(await metrics.render());
    const webhook = (outcome: string) => ({ channel: 'webhook', outcome });

    await kit.publish('cert-m');
    await kit.publish('cert-m');
    // Two failures in a row open the endpoint's circuit.
    await waitFor(
      async () => {
        const s = await scrape();
        expect(s.value('beacon_notify_deliveries_total', webhook('failed'))).toBeGreaterThanOrEqual(2);
        expect(s.value('beacon_notify_webhook_circuits', { state: 'open' })).toBe(1);
        expect(s.value('beacon_notify_webhook_circuit_openings_total')).toBe(1);
      },
      { what: 'the open circuit in the scrape', timeoutMs: 10_000, intervalMs: 25 },
    );
    // After the cool-down a trial succeeds, the circuit closes and both events go out.
    await waitFor(
      async () => {
        const s = await scrape();
        expect(s.value('beacon_notify_deliveries_total', webhook('delivered'))).toBe(2);
        expect(s.value('beacon_notify_webhook_circuits', { state: 'closed' })).toBe(1);
        expect(s.value('beacon_notify_webhook_circuits', { state: 'open' })).toBe(0);
        expect(s.value('beacon_notify_delivery_duration_seconds_count', { channel: 'webhook' })).toBe(2);
        const consumer = { stream: kit.stream, consumer: 'notify-channels-webhook' };
        expect(s.series('beacon_jetstream_consumer_pending_messages', consumer)).toHaveLength(1);
        expect(s.value('beacon_jetstream_consumer_pending_messages', consumer)).toBe(0);
        expect(s.value('beacon_jetstream_consumer_ack_pending_messages', consumer)).toBe(0);
      },
      { what: 'the deliveries and the closed circuit in the scrape', timeoutMs: 15_000, intervalMs: 50 },
    );
    const s = await scrape();
    expect(s.value('beacon_notify_webhook_circuit_openings_total')).toBe(1);
    // E-mail series exist at 0 from the start: a rate over them works from the first attempt.
    expect(
      s.series('beacon_notify_deliveries_total', { channel: 'email', outcome: 'delivered' }),
    ).toHaveLength(1);
    expect(s.text).not.toContain('cert-m');
  });
});
