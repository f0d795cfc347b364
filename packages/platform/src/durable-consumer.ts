import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventsV1 } from '@beacon/proto';
import { ConcurrencyLimit } from './concurrency.js';
import type { Dependency } from './dependency-health.js';
import type { Logger } from './logger.js';
import { ensureConsumer } from './nats.js';
import { withConsumerSpan } from './tracing.js';

/** The two numbers of the one redelivery back-off: `baseMs × 2^deliveries`, at most `capMs`. */
export interface RedeliveryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/**
 * The redelivery back-off: for the n-th delivery (JetStream's count, from 1) `baseMs × 2^n`,
 * the exponent at most 6, the delay at most `capMs`. One formula for every consumer, so a store
 * or service that is away is retried at the same pace everywhere; a consumer that must retry
 * at a fixed pace gives `baseMs` equal to `capMs`.
 */
export function redeliveryBackoff(policy: RedeliveryPolicy): (deliveryCount: number) => number {
  const { baseMs, capMs } = policy;
  return (deliveryCount) => Math.min(capMs, baseMs * 2 ** Math.min(6, Math.max(0, deliveryCount)));
}

/**
 * How long an event whose handling failed waits before its next delivery: one second after the
 * first delivery, doubling with each, at most 30 s, so a backlog never turns into a storm of
 * retries.
 */
export const redeliveryDelayMs = redeliveryBackoff({ baseMs: 500, capMs: 30_000 });

/** How a durable consumer is declared in JetStream. */
export interface DurableConsumerSpec {
  readonly nc: NatsConnection;
  readonly stream: string;
  /** The subjects consumed, e.g. `beacon.evt.incident.opened`. */
  readonly subjects: readonly string[];
  /** Shared by every replica, so each event is handled once. */
  readonly durable: string;
  /** Deliveries before an event is given up on (JetStream's `max_deliver`); default without limit. */
  readonly maxDeliver?: number;
  /**
   * Where a new consumer starts: `all` (default) from the first event in the stream, so nothing
   * published before it existed is missed; `new` from the next one published.
   */
  readonly deliverPolicy?: 'all' | 'new';
  /** How long a message may be worked on before JetStream delivers it again; default 30 s. */
  readonly ackWaitMs?: number;
  /** Delivered and not yet settled, parked ones included; default 256. */
  readonly maxAckPending?: number;
  /** Messages pulled at once; default 64. */
  readonly pullBatch?: number;
  /**
   * The subjects change while the consumer lives (`jsm.consumers.update`): declared always as a
   * list, clearing the single subject of an older declaration (a consumer may not have both).
   */
  readonly changingSubjects?: boolean;
}

const DEFAULT_ACK_WAIT_MS = 30_000;

/**
 * Declares (or brings up to date) a durable consumer of Beacon events with explicit acks, as
 * `spec` says, and starts consuming it. The loop over the messages is the caller's:
 * `DurableConsumer`'s, or one of its own.
 */
export async function consumeDurable(spec: DurableConsumerSpec): Promise<ConsumerMessages> {
  const { nc, stream, subjects, durable, maxDeliver } = spec;
  const js = jetstream(nc);
  await ensureConsumer(await js.jetstreamManager(), stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    ...(spec.changingSubjects
      ? { filter_subject: '', filter_subjects: [...subjects] }
      : subjects.length === 1
        ? { filter_subject: subjects[0] }
        : { filter_subjects: [...subjects] }),
    ack_wait: (spec.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) * 1e6,
    max_ack_pending: spec.maxAckPending ?? 256,
    ...(maxDeliver === undefined ? {} : { max_deliver: maxDeliver }),
  });
  return (await js.consumers.get(stream, durable)).consume({ max_messages: spec.pullBatch ?? 64 });
}

/**
 * A consumer as a dependency of its process's readiness (`watchDependencies`): answers while
 * `consuming()` (its loop runs) and its durable exists. A durable deleted under a consumer is
 * not recreated, and the client library goes on waiting for it without a word, so it is asked
 * for by name.
 */
export function consumerDependency(
  spec: Pick<DurableConsumerSpec, 'nc' | 'stream' | 'durable'>,
  consuming: () => boolean,
): Dependency {
  return {
    name: `consumer ${spec.durable}`,
    probe: async () => {
      if (!consuming()) throw new Error('not consuming');
      const jsm = await jetstream(spec.nc).jetstreamManager();
      await jsm.consumers.info(spec.stream, spec.durable);
    },
  };
}

/** Thrown by a handler (or a decoder) for a message it can never handle: terminated, never delivered again. */
export class TerminateEvent extends Error {
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
    this.name = 'TerminateEvent';
  }
}

/**
 * A message whose handler settles it itself (`settledBy: 'handler'`): exactly once, or parks it
 * until it does.
 */
export interface Settlement {
  /** Settled for good. */
  ack(): void;
  /** Delivered again after `delayMs`, or at once without one. */
  redeliver(delayMs?: number): void;
  /** Never delivered again. */
  term(reason: string): void;
  /**
   * Kept unsettled beyond the handler (held for later work): kept alive meanwhile, and handed
   * back to the stream at once when the consumer stops, so another replica takes it over.
   */
  park(): void;
}

export interface DecodingConsumerOptions<T> extends DurableConsumerSpec {
  readonly logger: Logger;
  /** Messages handled at once; default 16. One keeps the stream's order. */
  readonly concurrency?: number;
  /** A message's bytes as the handler wants them; a throw terminates the message. */
  readonly decode: (data: Uint8Array) => T;
  /** What the logs say of a decoded message besides its sequence, e.g. its event id. */
  readonly describe?: (event: T) => Record<string, unknown>;
  /**
   * Who settles a message. `consumer` (default): acked when `handle` returns, delivered again
   * after `redeliveryDelayMs` when it throws, terminated on a `TerminateEvent`. `handler`:
   * `handle` settles it through its `Settlement`; a throw is logged, and JetStream delivers the
   * message again after the ack wait.
   */
  readonly settledBy?: 'consumer' | 'handler';
  /**
   * Handles one message. Must be idempotent: a message may be delivered again.
   */
  readonly handle: (event: T, message: JsMsg, settlement: Settlement) => Promise<void>;
}

/**
 * A durable JetStream consumer with explicit acks, handling at most `concurrency` messages at
 * once in stream order: each message decoded (terminated when it cannot be), handed to the
 * handler inside a consumer span, and settled as `settledBy` says.
 */
export class DecodingConsumer<T> {
  /** Every message parked unsettled: kept alive, handed back on stop. */
  readonly #parked = new Set<JsMsg>();
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(private readonly options: DecodingConsumerOptions<T>) {}

  /** This consumer as a dependency of its process's readiness (see `consumerDependency`). */
  health(): Dependency {
    return consumerDependency(this.options, () => this.consuming);
  }

  /** Started, and its loop has not ended. */
  get consuming(): boolean {
    return this.#messages !== undefined && !this.#ended;
  }

  async start(): Promise<void> {
    this.#messages = await consumeDurable(this.options);
    if (this.options.settledBy === 'handler') {
      this.#heartbeat = setInterval(
        () => {
          for (const message of this.#parked) message.working();
        },
        (this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) / 3,
      );
    }
    this.#done = this.#loop(this.#messages).finally(() => {
      this.#ended = true;
    });
  }

  /**
   * Stops consuming and waits for the handlers under way, then for `finishWork` (the caller's
   * own work on parked messages), then hands what is still parked back to JetStream at once.
   */
  async stop(finishWork?: () => Promise<void>): Promise<void> {
    await this.#messages?.close();
    await this.#done;
    await finishWork?.();
    clearInterval(this.#heartbeat);
    for (const message of this.#parked) message.nak();
    this.#parked.clear();
  }

  async #loop(messages: ConsumerMessages): Promise<void> {
    const limit = new ConcurrencyLimit(this.options.concurrency ?? 16);
    const inflight = new Set<Promise<void>>();
    for await (const message of messages) {
      const task = limit.run(() =>
        withConsumerSpan(this.options.durable, message, () => this.#handle(message)),
      );
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      if (inflight.size >= 2 * limit.limit) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  async #handle(message: JsMsg): Promise<void> {
    const { logger } = this.options;
    let event: T;
    try {
      event = this.options.decode(message.data);
    } catch (error) {
      logger.error(
        { err: error, seq: message.seq, subject: message.subject, durable: this.options.durable },
        'undecodable event; terminated',
      );
      message.term(error instanceof TerminateEvent ? error.reason : 'undecodable');
      return;
    }
    if (this.options.settledBy === 'handler') {
      try {
        await this.options.handle(event, message, this.#settlement(message));
      } catch (error) {
        logger.error(
          { err: error, seq: message.seq, durable: this.options.durable },
          'unhandled delivery error',
        );
      }
      return;
    }
    try {
      await this.options.handle(event, message, this.#settlement(message));
      message.ack();
    } catch (error) {
      const about = this.options.describe?.(event) ?? { seq: message.seq };
      if (error instanceof TerminateEvent) {
        logger.warn({ ...about, reason: error.reason }, 'event terminated');
        message.term(error.reason);
        return;
      }
      const delayMs = redeliveryDelayMs(message.info.deliveryCount);
      logger.warn({ err: error, ...about, delayMs }, 'event not handled; redelivering');
      message.nak(delayMs);
    }
  }

  /** Settling a message also ends its parking. */
  #settlement(message: JsMsg): Settlement {
    const parked = this.#parked;
    return {
      ack: () => {
        message.ack();
        parked.delete(message);
      },
      redeliver: (delayMs) => {
        message.nak(delayMs);
        parked.delete(message);
      },
      term: (reason) => {
        message.term(reason);
        parked.delete(message);
      },
      park: () => void parked.add(message),
    };
  }
}

export interface DurableConsumerOptions extends Omit<
  DecodingConsumerOptions<eventsV1.Envelope>,
  'decode' | 'describe' | 'settledBy'
> {
  /**
   * Handles one event; a throw redelivers it after `redeliveryDelayMs`, a `TerminateEvent`
   * ends it. Must be idempotent: an event may be delivered again.
   */
  readonly handle: (envelope: eventsV1.Envelope, message: JsMsg) => Promise<void>;
}

/**
 * A durable JetStream consumer of Beacon events (`eventsV1.Envelope`) with explicit acks: an
 * event is acked only after its handler succeeded, redelivered with back-off when it failed,
 * and terminated when it cannot be decoded or handled. From the first event in the stream on,
 * so nothing published before the consumer existed is missed; handlers are idempotent, so a
 * replay is harmless.
 */
export class DurableConsumer extends DecodingConsumer<eventsV1.Envelope> {
  constructor(options: DurableConsumerOptions) {
    super({
      ...options,
      decode: (data) => eventsV1.Envelope.decode(data),
      describe: (envelope) => ({ eventId: envelope.id, type: envelope.type }),
    });
  }
}

/**
 * An adapter that is nothing but one `DurableConsumer` with its handler: starting, stopping and
 * its readiness are the consumer's. (One with work of its own to finish on stop holds its
 * consumer itself.)
 */
export abstract class DurableConsumerAdapter {
  readonly #consumer: DurableConsumer;

  protected constructor(options: DurableConsumerOptions) {
    this.#consumer = new DurableConsumer(options);
  }

  start(): Promise<void> {
    return this.#consumer.start();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  /** For the process's readiness: consuming, its durable there. */
  health(): Dependency {
    return this.#consumer.health();
  }
}
