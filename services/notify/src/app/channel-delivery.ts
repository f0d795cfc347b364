import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { mostRestrictive } from '@beacon/domain';
import { ensureConsumer, withConsumerSpan } from '@beacon/platform';
import { decodeFeedEvent, feedItemOf, type FeedEvent } from '../adapters/delivery/feed-event.js';
import { assertBackoffPolicy, backoffDelayMs, nextAttempt } from '../domain/backoff.js';
import {
  assertBreakerConfig,
  CLOSED,
  DEFAULT_BREAKER,
  recordOutcome,
  requestPermission,
  type BreakerConfig,
  type BreakerState,
} from '../domain/circuit-breaker.js';
import { StormControl, type Digest } from '../domain/storm.js';
import type { DeliveryChannel, DeliveryOutcome, StoredAgency } from './ports.js';

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
import type {
  ChannelDeliveryOptions,
  DeadLetter,
  DigestNotification,
  EventNotification,
  Notification,
  SendResult,
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

export type CircuitCounts = Record<BreakerState['kind'], number> & { readonly openings: number };

interface Endpoint {
  /** The circuit breaker's key; absent for channels without a breaker. */
  readonly breakerKey?: string;
  send(notification: Notification, attempt: number): Promise<SendResult>;
}

interface ChannelSpec {
  readonly name: DeliveryChannel;
  readonly breaker?: BreakerConfig;
  /** The agency's endpoint on this channel, or undefined when it has none. */
  endpoint(agency: StoredAgency): Endpoint | undefined;
}

interface Held {
  readonly msg: JsMsg;
  readonly notification: EventNotification;
  readonly at: number;
}

const DEFAULT_ACK_WAIT_MS = 60_000;
const DEFAULT_FILTER_REFRESH_MS = 5_000;
/** A subject of the feeds stream no feed message has (feed subjects have five more tokens). */
const NO_AGENCY = '_none';
const DEFAULT_CONCURRENCY = 16;
const DEFAULT_MAX_ACK_PENDING = 10_000;
/** Redelivery delay after an error of Beacon's own (the store away), not of the receiver. */
const INTERNAL_RETRY_MS = 1_000;

/** One channel's consumer, storm control and breakers. */
class ChannelWorker {
  readonly #o: ChannelDeliveryOptions;
  readonly #spec: ChannelSpec;
  readonly #storm: StormControl<Held>;
  readonly #breakers = new Map<string, BreakerState>();
  /** Held per storm key, oldest first, until their window's digest is taken. */
  readonly #held = new Map<string, Held[]>();
  /** Every message held here unsettled (held, or in a digest under way): kept alive, handed back on stop. */
  readonly #parked = new Set<JsMsg>();
  /** Keys of events that failed an attempt here: a retry is sent, not offered to storm control again. */
  readonly #retrying = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #dueTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #filterTimer: NodeJS.Timeout | undefined;
  /** Filter refreshes, one at a time. */
  #filtering: Promise<void> = Promise.resolve();

  constructor(options: ChannelDeliveryOptions, spec: ChannelSpec) {
    this.#o = options;
    this.#spec = spec;
    this.#storm = new StormControl<Held>(options.storm);
  }

  get #durable(): string {
    return `${this.#o.durable}-${this.#spec.name}`;
  }

  get durable(): string {
    return this.#durable;
  }

  /** Breakers opened since start. */
  #openings = 0;

  countCircuits(counts: { -readonly [K in keyof CircuitCounts]: number }): void {
    for (const state of this.#breakers.values()) counts[state.kind] += 1;
    counts.openings += this.#openings;
  }

  get #subjectRoot(): string {
    return this.#o.subjectRoot ?? 'beacon.feed';
  }

  /**
   * The consumer reads only the feeds of agencies that have this channel: most agencies only
   * read their feed, and reading, checking and acking every other feed message cost notify a
   * quarter of its fan-out rate. The filter follows the registry: exactly, on this replica's
   * changes (`registryChanged`); and every `filterRefreshMs`, adding (never removing) agencies
   * another replica gave the channel, since a copy of the registry that is seconds old must not
   * drop an agency just given one. An agency given a channel is pushed the events from then
   * on; its feed has them all.
   */
  #filterSubjects(agencies: readonly { readonly agency: StoredAgency }[]): string[] {
    const subjects = agencies
      .filter(({ agency }) => this.#spec.endpoint(agency))
      .map(({ agency }) => `${this.#subjectRoot}.${agency.id}.>`);
    return subjects.length > 0 ? subjects.sort() : [`${this.#subjectRoot}.${NO_AGENCY}`];
  }

  refreshFilter(mode: 'exact' | 'add'): Promise<void> {
    const run = this.#filtering.then(async () => {
      try {
        const jsm = await jetstream(this.#o.nc).jetstreamManager();
        const wanted = this.#filterSubjects(await this.#o.agencies.all());
        const info = await jsm.consumers.info(this.#o.stream, this.#durable);
        const current = info.config.filter_subjects ?? [];
        const none = `${this.#subjectRoot}.${NO_AGENCY}`;
        const union = [...new Set([...current, ...wanted])].filter((s) => s !== none).sort();
        const next = mode === 'exact' ? wanted : union.length > 0 ? union : [none];
        if (JSON.stringify(next) === JSON.stringify([...current].sort())) return;
        await jsm.consumers.update(this.#o.stream, this.#durable, { filter_subjects: next });
      } catch (error) {
        this.#o.logger.warn({ err: error, channel: this.#spec.name }, 'consumer filter not refreshed');
      }
    });
    this.#filtering = run;
    return run;
  }

  async start(): Promise<void> {
    const { nc, stream, retry } = this.#o;
    const ackWaitMs = this.#o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const js = jetstream(nc);
    await ensureConsumer(await js.jetstreamManager(), stream, {
      durable_name: this.#durable,
      ack_policy: AckPolicy.Explicit,
      // A new consumer starts at the head: the feed keeps history, but paging an agency about
      // last month's events because a consumer was recreated would be noise.
      deliver_policy: DeliverPolicy.New,
      // Consumers made before the filter followed the registry had one subject; a consumer
      // may not have both.
      filter_subject: '',
      filter_subjects: this.#filterSubjects(await this.#o.agencies.all()),
      ack_wait: ackWaitMs * 1e6,
      // One more than the attempts: a restart after the last failed attempt still dead-letters it.
      max_deliver: retry.maxAttempts + 1,
      max_ack_pending: this.#o.maxAckPending ?? DEFAULT_MAX_ACK_PENDING,
    });
    const consumer = await js.consumers.get(stream, this.#durable);
    const concurrency = this.#o.concurrency ?? DEFAULT_CONCURRENCY;
    this.#messages = await consumer.consume({ max_messages: concurrency * 2 });
    this.#heartbeat = setInterval(() => {
      for (const msg of this.#parked) msg.working();
    }, ackWaitMs / 3);
    this.#loop = this.#consume(this.#messages, concurrency);
    this.#filterTimer = setInterval(
      () => void this.refreshFilter('add'),
      this.#o.filterRefreshMs ?? DEFAULT_FILTER_REFRESH_MS,
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#filterTimer);
    await this.#filtering;
    await this.#messages?.close();
    await this.#loop;
    clearTimeout(this.#dueTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    clearInterval(this.#heartbeat);
    for (const msg of this.#parked) msg.nak();
    this.#parked.clear();
    this.#held.clear();
  }

  async #consume(messages: ConsumerMessages, concurrency: number): Promise<void> {
    const inflight = new Set<Promise<void>>();
    for await (const msg of messages) {
      while (inflight.size >= concurrency) await Promise.race(inflight);
      const task = withConsumerSpan(this.#durable, msg, () => this.#handle(msg))
        .catch((error: unknown) =>
          this.#o.logger.error({ err: error, seq: msg.seq }, 'unhandled delivery error'),
        )
        .finally(() => inflight.delete(task));
      inflight.add(task);
    }
    await Promise.allSettled([...inflight]);
  }

  /** Never throws: every path ends in ack, nak or term. */
  async #handle(msg: JsMsg): Promise<void> {
    const { logger, retry } = this.#o;
    const agencyId = msg.subject.slice(this.#subjectRoot.length + 1).split('.')[0] ?? '';
    let event: FeedEvent;
    try {
      event = decodeFeedEvent(msg.data);
    } catch (error) {
      logger.error(
        { err: error, seq: msg.seq, channel: this.#spec.name },
        'undecodable feed message; terminated',
      );
      msg.term('undecodable envelope');
      return;
    }
    const notification: EventNotification = {
      kind: 'event',
      agencyId,
      key: `${event.id}.${agencyId}`,
      event,
      feedSequence: msg.seq,
    };
    const attempt = msg.info.deliveryCount;
    try {
      const agency = await this.#o.agencies.get(agencyId);
      const endpoint = agency && this.#spec.endpoint(agency);
      if (!endpoint) {
        msg.ack();
        return;
      }
      if (!(await this.#mayReceive(msg, event))) {
        await this.#withdraw(notification, [msg], attempt);
        return;
      }
      if (attempt > retry.maxAttempts) {
        // The last attempt failed and the process stopped before settling it.
        await this.#deadLetter(
          notification,
          [msg],
          'attempts-exhausted',
          retry.maxAttempts,
          'attempts exhausted before a restart',
        );
        return;
      }
      if (!this.#retrying.has(notification.key)) {
        const now = this.#o.clock.now();
        const held: Held = { msg, notification, at: now.getTime() };
        if (this.#storm.offer(agencyId, event.incidentId, held, now) === 'held') {
          this.#hold(held);
          // Bookkeeping only: the event is held whatever the log says, so a failed write must
          // not hand the message back (its digest would list it and the redelivery again).
          await this.#record(notification, 0, 'held', 0, 'storm control: held for the incident digest').catch(
            (error: unknown) => logger.warn({ err: error, key: notification.key }, 'held record not written'),
          );
          return;
        }
      }
      await this.#attempt(notification, [msg], endpoint, attempt);
    } catch (error) {
      logger.warn(
        { err: error, eventId: event.id, agencyId, channel: this.#spec.name },
        'delivery bookkeeping failed; redelivering',
      );
      msg.nak(INTERNAL_RETRY_MS);
    }
  }

  /**
   * One attempt at a notification, settling its messages: ack when delivered, nak with the
   * backoff delay when it failed with attempts left, term after a dead letter otherwise.
   * For a digest, `retryLater` replaces the nak (its messages are parked meanwhile).
   */
  async #attempt(
    notification: Notification,
    msgs: readonly JsMsg[],
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
        for (const msg of msgs) msg.nak(delayMs);
      }
    };

    if (breaker && breakerKey !== undefined) {
      const now = clock.now();
      const permission = requestPermission(this.#breakers.get(breakerKey) ?? CLOSED, breaker, now);
      this.#breakers.set(breakerKey, permission.state);
      if (!permission.allowed) {
        const detail = `circuit open until ${permission.retryAt.toISOString()}; not sent`;
        if (attempt >= retry.maxAttempts) {
          await this.#deadLetter(notification, msgs, 'attempts-exhausted', attempt, detail);
          return;
        }
        await this.#record(notification, attempt, 'failed', 0, detail);
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
        await this.#record(notification, attempt, 'delivered', latencyMs, result.detail);
        this.#retrying.delete(notification.key);
        for (const msg of msgs) msg.ack();
        return;
      case 'refused':
        await this.#deadLetter(notification, msgs, 'refused', attempt, result.detail, latencyMs);
        return;
      case 'failed': {
        const next = nextAttempt(attempt, now, retry, random);
        if (next.kind === 'dead-letter') {
          await this.#deadLetter(notification, msgs, 'attempts-exhausted', attempt, result.detail, latencyMs);
          return;
        }
        await this.#record(notification, attempt, 'failed', latencyMs, result.detail);
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
   * terminates the messages: a record that says so means the letter is there.
   */
  async #deadLetter(
    notification: Notification,
    msgs: readonly JsMsg[],
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
    await this.#record(notification, attempts, outcome, latencyMs, lastError);
    logger.warn(
      { key: notification.key, agencyId: notification.agencyId, channel: this.#spec.name, reason, lastError },
      'delivery dead-lettered',
    );
    this.#retrying.delete(notification.key);
    for (const msg of msgs) msg.term(`dead-lettered: ${reason}`);
  }

  async #record(
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

  #hold(held: Held): void {
    const key = stormKey(held.notification.agencyId, held.notification.event.incidentId);
    const list = this.#held.get(key) ?? [];
    list.push(held);
    this.#held.set(key, list);
    this.#parked.add(held.msg);
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
    const msgs = all.filter((h) => h.at < end).map((h) => h.msg);
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
    await this.#digestAttempt(notification, msgs, 1);
  }

  /** A digest's retries run on timers here: its messages stay parked, so a crash brings them back. */
  async #digestAttempt(notification: DigestNotification, msgs: JsMsg[], attempt: number): Promise<void> {
    if (this.#stopping) return;
    const later = (delayMs: number, nextAttemptNo: number) => {
      if (this.#stopping) return; // its messages go back to JetStream on stop
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#track(this.#digestAttempt(notification, msgs, nextAttemptNo));
      }, delayMs);
      this.#timers.add(timer);
    };
    try {
      const agency = await this.#o.agencies.get(notification.agencyId);
      const endpoint = agency && this.#spec.endpoint(agency);
      if (!endpoint) {
        this.#settle(msgs, (msg) => msg.ack());
        return;
      }
      // The digest lists only what the agency may still receive; the rest is withdrawn.
      const keep: (typeof notification.events)[number][] = [];
      for (const e of notification.events) {
        const msg = msgs.find((m) => m.seq === e.feedSequence);
        if (!msg || (await this.#mayReceive(msg, e.event))) keep.push(e);
      }
      if (keep.length < notification.events.length) {
        const gone = notification.events.filter((e) => !keep.includes(e));
        await this.#record(
          notification,
          attempt,
          'withdrawn',
          0,
          `${gone.length} events no longer receivable left out`,
        );
        if (keep.length === 0) {
          this.#settle(msgs, (msg) => msg.ack());
          return;
        }
        notification = {
          ...notification,
          events: keep,
          tlp: mostRestrictive('CLEAR', ...keep.map((e) => e.event.tlp)),
        };
      }
      let retried = false;
      await this.#attempt(notification, msgs, endpoint, attempt, (delayMs) => {
        retried = true;
        later(delayMs, attempt + 1);
      });
      if (!retried) this.#settle(msgs);
    } catch (error) {
      this.#o.logger.warn(
        { err: error, key: notification.key, channel: this.#spec.name },
        'digest bookkeeping failed; trying again',
      );
      later(INTERNAL_RETRY_MS, attempt);
    }
  }

  #mayReceive(msg: JsMsg, event: FeedEvent): Promise<boolean> {
    return this.#o.access.mayReceive(
      msg.subject.slice(this.#subjectRoot.length + 1).split('.')[0] ?? '',
      feedItemOf(this.#subjectRoot, msg.subject, event),
    );
  }

  /** Records a notification the agency may no longer receive and settles it unsent. */
  async #withdraw(notification: EventNotification, msgs: readonly JsMsg[], attempt: number): Promise<void> {
    await this.#record(notification, attempt, 'withdrawn', 0, 'the agency may no longer receive this event');
    this.#retrying.delete(notification.key);
    for (const msg of msgs) msg.ack();
  }

  /** Forgets parked messages (already acked or terminated, or to be by `action`). */
  #settle(msgs: readonly JsMsg[], action?: (msg: JsMsg) => void): void {
    for (const msg of msgs) {
      action?.(msg);
      this.#parked.delete(msg);
    }
  }
}

const stormKey = (agencyId: string, incidentId: string) => JSON.stringify([agencyId, incidentId]);

const incidentOf = (notification: Notification): string =>
  notification.kind === 'event' ? notification.event.incidentId : notification.incidentId;
