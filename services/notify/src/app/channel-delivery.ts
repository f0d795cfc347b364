import type { Dependency } from '@beacon/platform';
import { assertBackoffPolicy } from '../domain/backoff.js';
import { assertBreakerConfig, DEFAULT_BREAKER } from '../domain/circuit-breaker.js';
import type { CircuitCounts } from './channel-attempts.js';
import type { ChannelDeliveryOptions } from './channel-notifications.js';
import { ChannelWorker } from './channel-worker.js';

export type { CircuitCounts } from './channel-attempts.js';
export type { FeedEvent } from '../adapters/delivery/feed-event.js';
export type {
  ChannelDeliveryOptions,
  DeadLetter,
  DeadLetterStore,
  DigestNotification,
  EmailSender,
  EventNotification,
  Notification,
  SendResult,
  WebhookSender,
} from './channel-notifications.js';

/**
 * The push channels of the agency feeds: reads `BEACON_FEEDS` and notifies each agency by
 * webhook and email, with storm control, retries that survive restarts, dead letters, and a
 * circuit breaker per webhook endpoint. Every attempt is recorded in the delivery log.
 *
 * - An event is offered to storm control; sent at once, or held (unacknowledged, kept alive with
 *   `working()`) until its window's digest is delivered, so a crash loses no notification: the
 *   held messages come back and are coalesced again.
 * - A failed attempt is retried through JetStream (`nak` with the backoff delay), so a restart
 *   resumes the schedule; the attempt number is the message's delivery count.
 * - After `retry.maxAttempts` attempts, or at once when Beacon refuses the target, a dead letter
 *   is written and the message terminated.
 */
export class ChannelDelivery {
  readonly #workers: ChannelWorker[] = [];

  constructor(options: ChannelDeliveryOptions) {
    assertBackoffPolicy(options.retry);
    const { webhook, email } = options;
    if (webhook) {
      const breaker = webhook.breaker ?? DEFAULT_BREAKER;
      assertBreakerConfig(breaker);
      this.#workers.push(
        new ChannelWorker(options, {
          name: 'webhook',
          breaker,
          endpoint: (agency) => {
            const channel = agency.channels.webhook;
            return (
              channel && {
                breakerKey: channel.url,
                send: (n, attempt) => webhook.sender.send(channel, n, attempt),
              }
            );
          },
        }),
      );
    }
    if (email) {
      this.#workers.push(
        new ChannelWorker(options, {
          name: 'email',
          endpoint: (agency) => {
            const channel = agency.channels.email;
            return channel && { send: (n, attempt) => email.sender.send(channel, n, attempt) };
          },
        }),
      );
    }
  }

  /** The durable consumers' names, one per channel. */
  /** For notify's readiness: each channel's consumer. */
  health(): Dependency[] {
    return this.#workers.map((worker) => worker.health());
  }

  durables(): string[] {
    return this.#workers.map((worker) => worker.durable);
  }

  /** How many endpoints' circuit breakers are in each state, and how often one opened: for metrics. */
  circuits(): CircuitCounts {
    const counts = { closed: 0, open: 0, 'half-open': 0, openings: 0 };
    for (const worker of this.#workers) worker.countCircuits(counts);
    return counts;
  }

  /** Creates or updates the durable consumers and starts consuming. */
  async start(): Promise<void> {
    for (const worker of this.#workers) await worker.start();
  }

  /**
   * Sets each consumer's filter to exactly the agencies that now have its channel; call after a
   * registry change with a fresh copy of the registry. Never throws: a failure is logged and
   * the periodic refresh catches up.
   */
  async registryChanged(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.refreshFilter('exact')));
  }

  /**
   * Stops consuming, waits for the attempts under way, and hands held messages back to
   * JetStream at once so another replica takes them over.
   */
  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.stop()));
  }
}
