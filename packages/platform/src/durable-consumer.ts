import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventsV1 } from '@beacon/proto';
import { ConcurrencyLimit } from './concurrency.js';
import type { Logger } from './logger.js';
import { ensureConsumer } from './nats.js';
import { withConsumerSpan } from './tracing.js';

/**
 * How long an event whose handling failed waits before its next delivery: half a second,
 * doubling with each delivery, at most 30 s. One policy for every consumer of Beacon's events,
 * so a store or service that is away is retried at the same pace everywhere, and a backlog
 * never turns into a storm of retries.
 */
export function redeliveryDelayMs(deliveryCount: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(6, Math.max(0, deliveryCount)));
}

/**
 * Declares (or brings up to date) a durable consumer of Beacon events with explicit acks, from
 * the first event in the stream on (nothing published before it existed is missed), 30 s to
 * ack and at most 256 unacked, and starts consuming it. The loop over the messages is the
 * caller's: `DurableConsumer`'s, or one of its own.
 */
export async function consumeDurable(
  options: Pick<DurableConsumerOptions, 'nc' | 'stream' | 'subjects' | 'durable' | 'maxDeliver'>,
): Promise<ConsumerMessages> {
  const { nc, stream, subjects, durable, maxDeliver } = options;
  const js = jetstream(nc);
  await ensureConsumer(await js.jetstreamManager(), stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...(subjects.length === 1 ? { filter_subject: subjects[0] } : { filter_subjects: [...subjects] }),
    ack_wait: 30 * 1e9,
    max_ack_pending: 256,
    ...(maxDeliver === undefined ? {} : { max_deliver: maxDeliver }),
  });
  return (await js.consumers.get(stream, durable)).consume({ max_messages: 64 });
}

/** Thrown by a handler for an event it can never handle: terminated, never delivered again. */
export class TerminateEvent extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TerminateEvent';
  }
}

export interface DurableConsumerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  /** The subjects consumed, e.g. `beacon.evt.incident.opened`. */
  readonly subjects: readonly string[];
  /** Shared by every replica, so each event is handled once. */
  readonly durable: string;
  readonly logger: Logger;
  /** Events handled at once; default 16. One keeps the stream's order. */
  readonly concurrency?: number;
  /** Deliveries before an event is given up on (JetStream's `max_deliver`); default without limit. */
  readonly maxDeliver?: number;
  /**
   * Handles one event; a throw redelivers it after `redeliveryDelayMs`, a `TerminateEvent`
   * ends it. Must be idempotent: an event may be delivered again.
   */
  readonly handle: (envelope: eventsV1.Envelope, message: JsMsg) => Promise<void>;
}

/**
 * A durable JetStream consumer of Beacon events with explicit acks: an event is acked only
 * after its handler succeeded, redelivered with back-off when it failed, and terminated when it
 * cannot be decoded or handled. From the first event in the stream on, so nothing published
 * before the consumer existed is missed; handlers are idempotent, so a replay is harmless.
 */
export class DurableConsumer {
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;

  constructor(private readonly options: DurableConsumerOptions) {}

  async start(): Promise<void> {
    this.#messages = await consumeDurable(this.options);
    this.#done = this.#loop(this.#messages);
  }

  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#done;
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
    let envelope: eventsV1.Envelope;
    try {
      envelope = eventsV1.Envelope.decode(message.data);
    } catch (error) {
      logger.error(
        { err: error, seq: message.seq, subject: message.subject },
        'undecodable event; terminated',
      );
      message.term('undecodable');
      return;
    }
    try {
      await this.options.handle(envelope, message);
      message.ack();
    } catch (error) {
      if (error instanceof TerminateEvent) {
        logger.warn({ eventId: envelope.id, type: envelope.type, reason: error.reason }, 'event terminated');
        message.term(error.reason);
        return;
      }
      const delayMs = redeliveryDelayMs(message.info.deliveryCount);
      logger.warn({ err: error, eventId: envelope.id, delayMs }, 'event not handled; redelivering');
      message.nak(delayMs);
    }
  }
}
