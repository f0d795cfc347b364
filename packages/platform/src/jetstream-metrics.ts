import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from './logger.js';
import { cachedLoader, type Metrics } from './metrics.js';

/** A durable consumer a process owns, by stream and durable name. */
export interface ConsumerRef {
  readonly stream: string;
  readonly consumer: string;
}

export interface ConsumerLagOptions {
  readonly nc: NatsConnection;
  /** The durables this process consumes from; read at each scrape, so it may change. */
  readonly consumers: () => readonly ConsumerRef[];
  readonly logger: Logger;
  /** Scrapes within this long share one round of consumer-info requests; default 1 s. */
  readonly cacheMs?: number;
  /** How long one consumer-info request may take; default 2 s. */
  readonly timeoutMs?: number;
}

type Snapshot = readonly { readonly ref: ConsumerRef; readonly info: ConsumerInfo }[];

/**
 * The lag and redeliveries of the process's durable consumers, as JetStream itself counts them,
 * read at scrape time (one `CONSUMER.INFO` request per durable, at most once per `cacheMs`, which only coalesces scrapes that arrive together):
 *
 * - `beacon_jetstream_consumer_pending_messages`: in the stream, matching the filter, not yet
 *   delivered — the lag;
 * - `beacon_jetstream_consumer_ack_pending_messages`: delivered, not yet acknowledged;
 * - `beacon_jetstream_consumer_redelivered_messages`: delivered more than once and still
 *   unacknowledged.
 *
 * Read on scrape rather than polled: no work when nobody scrapes, values as fresh as the
 * scrape, and nothing on the message path. The values belong to the consumer, not the
 * process: every replica sharing a durable reports the same numbers (aggregate with `max`,
 * not `sum`). A consumer whose info cannot be read drops out of the scrape and counts in
 * `beacon_jetstream_consumer_info_failures_total`.
 */
export function watchConsumerLag(metrics: Metrics, options: ConsumerLagOptions): void {
  const timeout = options.timeoutMs ?? 2_000;
  let jsm: Promise<JetStreamManager> | undefined;
  const failures = metrics.counter(
    'beacon_jetstream_consumer_info_failures_total',
    'Consumer-info requests made for a scrape that failed.',
    ['stream', 'consumer'],
  );
  const load = cachedLoader(async (): Promise<Snapshot> => {
    jsm ??= jetstreamManager(options.nc, { timeout });
    const manager = await jsm.catch((error: unknown) => {
      jsm = undefined;
      throw error;
    });
    const refs = options.consumers();
    const infos = await Promise.allSettled(
      refs.map((ref) => manager.consumers.info(ref.stream, ref.consumer)),
    );
    return refs.flatMap((ref, i) => {
      const result = infos[i]!;
      if (result.status === 'fulfilled') return [{ ref, info: result.value }];
      failures.labels(ref.stream, ref.consumer).inc();
      options.logger.debug({ err: result.reason, ...ref }, 'consumer info not read for metrics');
      return [];
    });
  }, options.cacheMs ?? 1_000);

  const gauge = (name: string, help: string, value: (info: ConsumerInfo) => number) =>
    metrics.gauge(name, help, ['stream', 'consumer'], async function () {
      const snapshot = await load().catch((error: unknown) => {
        options.logger.debug({ err: error }, 'consumer lag not read for metrics');
        return [] as Snapshot;
      });
      this.reset();
      for (const { ref, info } of snapshot) this.labels(ref.stream, ref.consumer).set(value(info));
    });
  gauge(
    'beacon_jetstream_consumer_pending_messages',
    'Messages in the stream matching the durable consumer’s filter and not yet delivered (its lag).',
    (info) => info.num_pending,
  );
  gauge(
    'beacon_jetstream_consumer_ack_pending_messages',
    'Messages delivered to the durable consumer and not yet acknowledged.',
    (info) => info.num_ack_pending,
  );
  gauge(
    'beacon_jetstream_consumer_redelivered_messages',
    'Messages delivered to the durable consumer more than once and not yet acknowledged.',
    (info) => info.num_redelivered,
  );
}
