import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ConcurrencyLimit, ensureConsumer, withConsumerSpan, type Logger } from '@beacon/platform';
import { eventsV1 } from '@beacon/proto';

export interface DurableConsumerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  /** The subjects consumed, e.g. `beacon.evt.incident.opened`. */
  readonly subjects: readonly string[];
  /** Shared by every replica, so each event is handled once. */
  readonly durable: string;
  readonly logger: Logger;
  /** Events handled at once; default 16. */
  readonly concurrency?: number;
  /** Handles one event; a throw redelivers it with a growing delay. Must be idempotent. */
  readonly handle: (envelope: eventsV1.Envelope, message: JsMsg) => Promise<void>;
}

/**
 * A durable JetStream consumer of one event subject with explicit acks: an event is acked only
 * after its handler succeeded, redelivered with backoff when it failed, and terminated when it
 * cannot be decoded. From the first event in the stream on, so nothing published before the
 * consumer existed is missed; handlers are idempotent, so a replay is harmless.
 */
export class DurableConsumer {
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;

  constructor(private readonly options: DurableConsumerOptions) {}

  async start(): Promise<void> {
    const { nc, stream, subjects, durable } = this.options;
    const js = jetstream(nc);
    await ensureConsumer(await js.jetstreamManager(), stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(subjects.length === 1 ? { filter_subject: subjects[0] } : { filter_subjects: [...subjects] }),
      ack_wait: 30 * 1e9,
      max_ack_pending: 256,
    });
    this.#messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: 64 });
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
      const delayMs = Math.min(30_000, 500 * 2 ** Math.min(6, message.info.deliveryCount));
      logger.warn({ err: error, eventId: envelope.id, delayMs }, 'event not handled; redelivering');
      message.nak(delayMs);
    }
  }
}
