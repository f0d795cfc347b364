import type { Metrics } from '@beacon/platform';
import type { CircuitCounts } from '../../app/channel-delivery.js';
import type { DeliveryChannel, DeliveryLog, DeliveryOutcome, DeliveryRecord } from '../../app/ports.js';

const CHANNELS: readonly DeliveryChannel[] = ['webhook', 'email'];
const OUTCOMES: readonly DeliveryOutcome[] = [
  'delivered',
  'failed',
  'dead-lettered',
  'held',
  'refused',
  'withdrawn',
];

/**
 * The delivery log, counting each record as it is written:
 * `beacon_notify_deliveries_total{channel, outcome}` (webhook and e-mail attempts: delivered,
 * failed, dead-lettered, refused, held for a storm digest, or withdrawn: not sent because the
 * agency may no longer receive it) and, for delivered ones,
 * `beacon_notify_delivery_duration_seconds{channel}`. Counted before the write, so a record
 * the store fails to keep is still counted: the attempt happened.
 */
export class MeteredDeliveryLog implements DeliveryLog {
  readonly #inner: DeliveryLog;
  readonly #outcomes = new Map<string, { inc(): void }>();
  readonly #latency = new Map<DeliveryChannel, { observe(seconds: number): void }>();

  constructor(inner: DeliveryLog, metrics: Metrics) {
    this.#inner = inner;
    const deliveries = metrics.counter(
      'beacon_notify_deliveries_total',
      'Webhook and e-mail delivery attempts by outcome (held: kept back for a storm digest; withdrawn: the agency may no longer receive it).',
      ['channel', 'outcome'],
    );
    const seconds = metrics.histogram(
      'beacon_notify_delivery_duration_seconds',
      'Time a delivered webhook or e-mail took to be accepted by the receiver, in seconds.',
      ['channel'],
    );
    // Every series exists from the start, at 0: a rate over a series that appears late misses its first step.
    for (const channel of CHANNELS) {
      this.#latency.set(channel, seconds.labels(channel));
      for (const outcome of OUTCOMES) {
        const child = deliveries.labels(channel, outcome);
        child.inc(0);
        this.#outcomes.set(`${channel}:${outcome}`, child);
      }
    }
  }

  record(entry: DeliveryRecord): Promise<void> {
    this.#outcomes.get(`${entry.channel}:${entry.outcome}`)?.inc();
    if (entry.outcome === 'delivered') this.#latency.get(entry.channel)?.observe(entry.latencyMs / 1000);
    return this.#inner.record(entry);
  }

  list(agencyId: string, incidentId: string): Promise<DeliveryRecord[]> {
    return this.#inner.list(agencyId, incidentId);
  }
}

/**
 * The webhook endpoints' circuit breakers, read at scrape time:
 * `beacon_notify_webhook_circuits{state}` (endpoints per state: closed, open, half-open — as
 * last seen by a delivery; an open breaker whose cool-down has passed shows open until the next
 * delivery tries it) and `beacon_notify_webhook_circuit_openings_total`.
 */
export function watchCircuits(metrics: Metrics, source: { circuits(): CircuitCounts }): void {
  metrics.gauge(
    'beacon_notify_webhook_circuits',
    'Webhook endpoints whose circuit breaker is in each state, in this process.',
    ['state'],
    function () {
      const counts = source.circuits();
      for (const state of ['closed', 'open', 'half-open'] as const) this.labels(state).set(counts[state]);
    },
  );
  metrics.counter(
    'beacon_notify_webhook_circuit_openings_total',
    'Times a webhook endpoint’s circuit breaker opened in this process.',
    [],
    function () {
      this.reset();
      this.inc(source.circuits().openings);
    },
  );
}
