import { mostRestrictive } from '@beacon/domain';
import { redeliveryBackoff, type Dependency } from '@beacon/platform';
import { FeedChannelConsumer, type FeedDelivery } from '../adapters/nats/channel-consumer.js';
import { StormControl, type Digest } from '../domain/storm.js';
import { ChannelAttempts, type ChannelSpec, type CircuitCounts } from './channel-attempts.js';
import type {
  ChannelDeliveryOptions,
  DigestNotification,
  EventNotification,
} from './channel-notifications.js';

interface Held {
  readonly delivery: FeedDelivery;
  readonly notification: EventNotification;
  readonly at: number;
}

/**
 * Redelivery delay after an error of Beacon's own (the store away), not of the receiver: the
 * one redelivery back-off, held at a second.
 */
const internalRetryMs = redeliveryBackoff({ baseMs: 1_000, capMs: 1_000 });

/**
 * One channel's delivery policy over its feed consumer: which messages are its agencies' to
 * send, storm control holding events for an incident's digest, and the digests' own attempts;
 * each attempt and what follows from it is `ChannelAttempts`'.
 */
export class ChannelWorker {
  readonly #o: ChannelDeliveryOptions;
  readonly #spec: ChannelSpec;
  readonly #consumer: FeedChannelConsumer;
  readonly #attempts: ChannelAttempts;
  readonly #storm: StormControl<Held>;
  /** Held per storm key, oldest first, until their window's digest is taken. */
  readonly #held = new Map<string, Held[]>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #dueTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(options: ChannelDeliveryOptions, spec: ChannelSpec) {
    this.#o = options;
    this.#spec = spec;
    this.#attempts = new ChannelAttempts(options, spec);
    this.#storm = new StormControl<Held>(options.storm);
    this.#consumer = new FeedChannelConsumer({
      nc: options.nc,
      stream: options.stream,
      subjectRoot: options.subjectRoot ?? 'beacon.feed',
      durable: this.durable,
      channel: spec.name,
      // One more than the attempts: a restart after the last failed attempt still dead-letters it.
      maxDeliver: options.retry.maxAttempts + 1,
      ackWaitMs: options.ackWaitMs,
      concurrency: options.concurrency,
      maxAckPending: options.maxAckPending,
      filterRefreshMs: options.filterRefreshMs,
      logger: options.logger,
      agencyIds: async () =>
        (await options.agencies.all())
          .filter(({ agency }) => spec.endpoint(agency))
          .map(({ agency }) => agency.id),
      handle: (delivery) => this.#handle(delivery),
    });
  }

  /** For notify's readiness: this channel's consumer consumes. */
  health(): Dependency {
    return this.#consumer.health();
  }

  get durable(): string {
    return `${this.#o.durable}-${this.#spec.name}`;
  }

  countCircuits(counts: { -readonly [K in keyof CircuitCounts]: number }): void {
    this.#attempts.countCircuits(counts);
  }

  refreshFilter(mode: 'exact' | 'add'): Promise<void> {
    return this.#consumer.refreshFilter(mode);
  }

  start(): Promise<void> {
    return this.#consumer.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#consumer.stop(async () => {
      clearTimeout(this.#dueTimer);
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    });
    this.#held.clear();
  }

  /** Never throws: every path settles the delivery or parks it. */
  async #handle(delivery: FeedDelivery): Promise<void> {
    const { logger, retry } = this.#o;
    const { agencyId, event, attempt } = delivery;
    const notification: EventNotification = {
      kind: 'event',
      agencyId,
      key: `${event.id}.${agencyId}`,
      event,
      feedSequence: delivery.feedSequence,
    };
    try {
      const agency = await this.#o.agencies.get(agencyId);
      const endpoint = agency && this.#spec.endpoint(agency);
      if (!endpoint) {
        delivery.ack();
        return;
      }
      if (!(await this.#mayReceive(delivery))) {
        await this.#attempts.withdraw(notification, [delivery], attempt);
        return;
      }
      if (attempt > retry.maxAttempts) {
        // The last attempt failed and the process stopped before settling it.
        await this.#attempts.deadLetter(
          notification,
          [delivery],
          'attempts-exhausted',
          retry.maxAttempts,
          'attempts exhausted before a restart',
        );
        return;
      }
      if (!this.#attempts.retrying(notification.key)) {
        const now = this.#o.clock.now();
        const held: Held = { delivery, notification, at: now.getTime() };
        if (this.#storm.offer(agencyId, event.incidentId, held, now) === 'held') {
          this.#hold(held);
          // Bookkeeping only: the event is held whatever the log says, so a failed write must
          // not hand the message back (its digest would list it and the redelivery again).
          await this.#attempts
            .record(notification, 0, 'held', 0, 'storm control: held for the incident digest')
            .catch((error: unknown) =>
              logger.warn({ err: error, key: notification.key }, 'held record not written'),
            );
          return;
        }
      }
      await this.#attempts.attempt(notification, [delivery], endpoint, attempt);
    } catch (error) {
      logger.warn(
        { err: error, eventId: event.id, agencyId, channel: this.#spec.name },
        'delivery bookkeeping failed; redelivering',
      );
      delivery.retry(internalRetryMs(attempt));
    }
  }

  #hold(held: Held): void {
    const key = stormKey(held.notification.agencyId, held.notification.event.incidentId);
    const list = this.#held.get(key) ?? [];
    list.push(held);
    this.#held.set(key, list);
    held.delivery.park();
    this.#scheduleDue();
  }

  /** Arms the timer for the next digest that falls due. */
  #scheduleDue(): void {
    clearTimeout(this.#dueTimer);
    this.#dueTimer = undefined;
    const next = this.#storm.nextDueAt();
    if (!next || this.#stopping) return;
    const delay = Math.max(0, next.getTime() - this.#o.clock.now().getTime());
    this.#dueTimer = setTimeout(() => {
      this.#dueTimer = undefined;
      for (const digest of this.#storm.due(this.#o.clock.now())) this.#track(this.#startDigest(digest));
      this.#scheduleDue();
    }, delay);
  }

  #track(task: Promise<void>): void {
    const tracked = task
      .catch((error: unknown) => this.#o.logger.error({ err: error }, 'unhandled digest error'))
      .finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async #startDigest(digest: Digest<Held>): Promise<void> {
    // Every message held in this window or before it, the omitted ones included.
    const key = stormKey(digest.agencyId, digest.incidentId);
    const end = digest.windowEnd.getTime();
    const all = this.#held.get(key) ?? [];
    const deliveries = all.filter((h) => h.at < end).map((h) => h.delivery);
    const rest = all.filter((h) => h.at >= end);
    if (rest.length > 0) this.#held.set(key, rest);
    else this.#held.delete(key);
    const notification: DigestNotification = {
      kind: 'digest',
      agencyId: digest.agencyId,
      key: digest.id,
      incidentId: digest.incidentId,
      tlp: mostRestrictive('CLEAR', ...digest.events.map((h) => h.notification.event.tlp)),
      windowStart: digest.windowStart,
      windowEnd: digest.windowEnd,
      events: digest.events.map((h) => ({
        event: h.notification.event,
        feedSequence: h.notification.feedSequence,
      })),
      omitted: digest.omitted,
    };
    await this.#digestAttempt(notification, deliveries, 1);
  }

  /**
   * A digest's retries run on timers here: its deliveries stay parked, so a crash brings them
   * back. Every path that returns settles them all (ack, term) or leaves them parked for the
   * next attempt.
   */
  async #digestAttempt(
    notification: DigestNotification,
    deliveries: FeedDelivery[],
    attempt: number,
  ): Promise<void> {
    if (this.#stopping) return;
    const later = (delayMs: number, nextAttemptNo: number) => {
      if (this.#stopping) return; // its messages go back to JetStream on stop
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#track(this.#digestAttempt(notification, deliveries, nextAttemptNo));
      }, delayMs);
      this.#timers.add(timer);
    };
    try {
      const agency = await this.#o.agencies.get(notification.agencyId);
      const endpoint = agency && this.#spec.endpoint(agency);
      if (!endpoint) {
        for (const delivery of deliveries) delivery.ack();
        return;
      }
      // The digest lists only what the agency may still receive; the rest is withdrawn.
      const keep: (typeof notification.events)[number][] = [];
      for (const e of notification.events) {
        const delivery = deliveries.find((d) => d.feedSequence === e.feedSequence);
        if (!delivery || (await this.#mayReceive(delivery))) keep.push(e);
      }
      if (keep.length < notification.events.length) {
        const gone = notification.events.filter((e) => !keep.includes(e));
        await this.#attempts.record(
          notification,
          attempt,
          'withdrawn',
          0,
          `${gone.length} events no longer receivable left out`,
        );
        if (keep.length === 0) {
          for (const delivery of deliveries) delivery.ack();
          return;
        }
        notification = {
          ...notification,
          events: keep,
          tlp: mostRestrictive('CLEAR', ...keep.map((e) => e.event.tlp)),
        };
      }
      await this.#attempts.attempt(notification, deliveries, endpoint, attempt, (delayMs) =>
        later(delayMs, attempt + 1),
      );
    } catch (error) {
      this.#o.logger.warn(
        { err: error, key: notification.key, channel: this.#spec.name },
        'digest bookkeeping failed; trying again',
      );
      later(internalRetryMs(attempt), attempt);
    }
  }

  #mayReceive(delivery: FeedDelivery): Promise<boolean> {
    return this.#o.access.mayReceive(delivery.agencyId, delivery.item);
  }
}

const stormKey = (agencyId: string, incidentId: string) => JSON.stringify([agencyId, incidentId]);
