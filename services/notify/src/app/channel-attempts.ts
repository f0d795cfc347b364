import type { FeedDelivery } from '../adapters/nats/channel-consumer.js';
import { backoffDelayMs, nextAttempt } from '../domain/backoff.js';
import {
  CLOSED,
  recordOutcome,
  requestPermission,
  type BreakerConfig,
  type BreakerState,
} from '../domain/circuit-breaker.js';
import type {
  ChannelDeliveryOptions,
  DeadLetter,
  EventNotification,
  Notification,
  SendResult,
} from './channel-notifications.js';
import type { DeliveryChannel, DeliveryOutcome, StoredAgency } from './ports.js';

export type CircuitCounts = Record<BreakerState['kind'], number> & { readonly openings: number };

export interface Endpoint {
  /** The circuit breaker's key; absent for channels without a breaker. */
  readonly breakerKey?: string;
  send(notification: Notification, attempt: number): Promise<SendResult>;
}

export interface ChannelSpec {
  readonly name: DeliveryChannel;
  readonly breaker?: BreakerConfig;
  /** The agency's endpoint on this channel, or undefined when it has none. */
  endpoint(agency: StoredAgency): Endpoint | undefined;
}

/**
 * One channel's attempts at notifications and what follows from each: the circuit breaker per
 * endpoint, the retry schedule, dead letters, and the delivery log's record of every attempt.
 */
export class ChannelAttempts {
  readonly #o: ChannelDeliveryOptions;
  readonly #spec: ChannelSpec;
  readonly #breakers = new Map<string, BreakerState>();
  /** Keys of events that failed an attempt here: a retry is sent, not offered to storm control again. */
  readonly #retrying = new Set<string>();
  /** Breakers opened since start. */
  #openings = 0;

  constructor(options: ChannelDeliveryOptions, spec: ChannelSpec) {
    this.#o = options;
    this.#spec = spec;
  }

  countCircuits(counts: { -readonly [K in keyof CircuitCounts]: number }): void {
    for (const state of this.#breakers.values()) counts[state.kind] += 1;
    counts.openings += this.#openings;
  }

  /** Whether the notification failed an attempt here and waits for its retry. */
  retrying(key: string): boolean {
    return this.#retrying.has(key);
  }

  /**
   * One attempt at a notification, settling its deliveries: ack when delivered, retry after the
   * backoff delay when it failed with attempts left, term after a dead letter otherwise.
   * For a digest, `retryLater` replaces the retry (its deliveries are parked meanwhile).
   */
  async attempt(
    notification: Notification,
    deliveries: readonly FeedDelivery[],
    endpoint: Endpoint,
    attempt: number,
    retryLater?: (delayMs: number) => void,
  ): Promise<void> {
    const { clock, retry, random, logger } = this.#o;
    const { breaker } = this.#spec;
    const { breakerKey } = endpoint;
    const retryIn = (delayMs: number) => {
      if (retryLater) retryLater(delayMs);
      else {
        this.#retrying.add(notification.key);
        for (const delivery of deliveries) delivery.retry(delayMs);
      }
    };

    if (breaker && breakerKey !== undefined) {
      const now = clock.now();
      const permission = requestPermission(this.#breakers.get(breakerKey) ?? CLOSED, breaker, now);
      this.#breakers.set(breakerKey, permission.state);
      if (!permission.allowed) {
        const detail = `circuit open until ${permission.retryAt.toISOString()}; not sent`;
        if (attempt >= retry.maxAttempts) {
          await this.deadLetter(notification, deliveries, 'attempts-exhausted', attempt, detail);
          return;
        }
        await this.record(notification, attempt, 'failed', 0, detail);
        // The turn counts as an attempt (JetStream counts deliveries), so it waits at least
        // as long as a failed attempt would: a long outage does not burn the attempts early.
        retryIn(
          Math.max(permission.retryAt.getTime() - now.getTime(), backoffDelayMs(attempt, retry, random)),
        );
        return;
      }
    }

    const started = performance.now();
    let result: SendResult;
    try {
      result = await endpoint.send(notification, attempt);
    } catch (error) {
      // Senders report failures as results; a throw is a bug, treated as a failed attempt.
      logger.error({ err: error, key: notification.key, channel: this.#spec.name }, 'sender threw');
      result = { outcome: 'failed', detail: 'internal error while sending', endpointFault: false };
    }
    const latencyMs = Math.round(performance.now() - started);
    const now = clock.now();
    if (breaker && breakerKey !== undefined && result.outcome !== 'refused') {
      const state = this.#breakers.get(breakerKey) ?? CLOSED;
      const failed = result.outcome === 'failed' && result.endpointFault;
      const next = recordOutcome(state, breaker, failed ? 'failure' : 'success', now);
      if (next.kind === 'open' && state.kind !== 'open') this.#openings += 1;
      this.#breakers.set(breakerKey, next);
    }

    switch (result.outcome) {
      case 'delivered':
        await this.record(notification, attempt, 'delivered', latencyMs, result.detail);
        this.#retrying.delete(notification.key);
        for (const delivery of deliveries) delivery.ack();
        return;
      case 'refused':
        await this.deadLetter(notification, deliveries, 'refused', attempt, result.detail, latencyMs);
        return;
      case 'failed': {
        const next = nextAttempt(attempt, now, retry, random);
        if (next.kind === 'dead-letter') {
          await this.deadLetter(
            notification,
            deliveries,
            'attempts-exhausted',
            attempt,
            result.detail,
            latencyMs,
          );
          return;
        }
        await this.record(notification, attempt, 'failed', latencyMs, result.detail);
        logger.info(
          { key: notification.key, channel: this.#spec.name, attempt, detail: result.detail },
          'delivery attempt failed; retrying',
        );
        retryIn(Math.max(0, next.at.getTime() - now.getTime()));
        return;
      }
    }
  }

  /**
   * Writes the dead letter, then the last attempt's record (`refused` or `dead-lettered`), then
   * terminates the deliveries: a record that says so means the letter is there.
   */
  async deadLetter(
    notification: Notification,
    deliveries: readonly FeedDelivery[],
    reason: DeadLetter['reason'],
    attempts: number,
    lastError: string,
    latencyMs = 0,
  ): Promise<void> {
    const { deadLetters, clock, logger } = this.#o;
    const events =
      notification.kind === 'event'
        ? [{ id: notification.event.id, seq: notification.feedSequence }]
        : notification.events.map((e) => ({ id: e.event.id, seq: e.feedSequence }));
    await deadLetters.put({
      id: `${this.#spec.name}:${notification.key}`,
      channel: this.#spec.name,
      agencyId: notification.agencyId,
      incidentId: incidentOf(notification),
      key: notification.key,
      kind: notification.kind,
      eventIds: events.map((e) => e.id),
      feedSequences: events.map((e) => e.seq),
      reason,
      attempts,
      lastError,
      at: clock.now(),
    });
    const outcome = reason === 'refused' ? 'refused' : 'dead-lettered';
    await this.record(notification, attempts, outcome, latencyMs, lastError);
    logger.warn(
      { key: notification.key, agencyId: notification.agencyId, channel: this.#spec.name, reason, lastError },
      'delivery dead-lettered',
    );
    this.#retrying.delete(notification.key);
    for (const delivery of deliveries) delivery.term(`dead-lettered: ${reason}`);
  }

  async record(
    notification: Notification,
    attempt: number,
    outcome: DeliveryOutcome,
    latencyMs: number,
    detail: string,
  ): Promise<void> {
    await this.#o.log.record({
      agencyId: notification.agencyId,
      incidentId: incidentOf(notification),
      eventId: notification.kind === 'event' ? notification.event.id : notification.key,
      channel: this.#spec.name,
      attempt,
      outcome,
      latencyMs,
      detail,
      at: this.#o.clock.now(),
    });
  }

  /** Records a notification the agency may no longer receive and settles it unsent. */
  async withdraw(
    notification: EventNotification,
    deliveries: readonly FeedDelivery[],
    attempt: number,
  ): Promise<void> {
    await this.record(notification, attempt, 'withdrawn', 0, 'the agency may no longer receive this event');
    this.#retrying.delete(notification.key);
    for (const delivery of deliveries) delivery.ack();
  }
}

const incidentOf = (notification: Notification): string =>
  notification.kind === 'event' ? notification.event.incidentId : notification.incidentId;
