import {
  AckPolicy,
  jetstream,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import {
  ConcurrencyLimit,
  ensureConsumer,
  tlpFromProto,
  type Logger,
  type StreamSpec,
} from '@beacon/platform';
import type { FanOut } from '../../app/fan-out.js';
import type { FeedMessage, FeedPublisher } from '../../app/ports.js';
import { assessedSectors, decodeEvent } from './event-facts.js';

/**
 * The per-agency feeds: `<root>.<agencyId>.<domain>.<event>`, on disk, kept 90 days so an
 * agency can replay from any sequence or time, deduplicating republished copies for ten minutes.
 */
export function feedsStream(name: string, root: string): StreamSpec {
  return { name, subjects: [`${root}.>`], duplicate_window: 10 * 60 * 1e9, max_age: 90 * 24 * 3600 * 1e9 };
}

export const feedSubject = (root: string, agencyId: string, type: string) => `${root}.${agencyId}.${type}`;

/** The message id of an event in one agency's feed: the stream drops a second copy. */
export const feedMessageId = (eventId: string, agencyId: string) => `${eventId}.${agencyId}`;

export class JetStreamFeedPublisher implements FeedPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly root: string,
  ) {}

  async publish(messages: readonly FeedMessage[]): Promise<void> {
    await Promise.all(
      messages.map((m) => {
        const h = headers();
        h.set('Beacon-Event-Id', m.eventId);
        h.set('Beacon-Event-Type', m.type);
        return this.js.publish(feedSubject(this.root, m.agencyId, m.type), m.envelope, {
          msgID: feedMessageId(m.eventId, m.agencyId),
          headers: h,
        });
      }),
    );
  }
}

export interface FanOutConsumerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly subjectRoot: string;
  /** Shared by every notify replica, so each event is fanned out once. */
  readonly durable: string;
  /** Events handled at once (one incident's always in order); default 32. */
  readonly concurrency?: number;
  readonly fanOut: FanOut;
  readonly logger: Logger;
}

/**
 * Feeds every event of BEACON_EVENTS through the fan-out — one incident's events in order within
 * a replica, different incidents' side by side — acking only after every feed has stored its copy; a failure redelivers the event
 * (the feeds drop the copies they already have). Across replicas order is not kept, which is
 * why incident facts carry intake's version.
 */
export class FanOutConsumer {
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;

  constructor(private readonly options: FanOutConsumerOptions) {}

  async start(): Promise<void> {
    const { nc, stream, subjectRoot, durable } = this.options;
    const js = jetstream(nc);
    await ensureConsumer(await js.jetstreamManager(), stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subjects: [`${subjectRoot}.incident.>`, `${subjectRoot}.impact.>`],
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

  /**
   * Handles up to `concurrency` events at once, but the events of one incident one after the
   * other, in stream order: its facts (label, engagement) change along its events.
   */
  async #loop(messages: ConsumerMessages): Promise<void> {
    const limit = new ConcurrencyLimit(this.options.concurrency ?? 32);
    const chains = new Map<string, Promise<void>>();
    const inflight = new Set<Promise<void>>();
    for await (const message of messages) {
      let decoded: ReturnType<typeof decodeEvent>;
      try {
        decoded = decodeEvent(message.data);
      } catch (error) {
        this.options.logger.error({ err: error, seq: message.seq }, 'undecodable event; terminated');
        message.term('undecodable');
        continue;
      }
      const key = decoded.envelope.incidentId;
      const task = (chains.get(key) ?? Promise.resolve()).then(() =>
        limit.run(() => this.#handle(message, decoded)),
      );
      chains.set(key, task);
      inflight.add(task);
      void task.finally(() => {
        inflight.delete(task);
        if (chains.get(key) === task) chains.delete(key);
      });
      // Read no further ahead than twice what runs: the rest waits in the stream.
      if (inflight.size >= 2 * limit.limit) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  async #handle(message: JsMsg, decoded: ReturnType<typeof decodeEvent>): Promise<void> {
    const { logger, fanOut } = this.options;
    const { envelope } = decoded;
    try {
      const decisions = await fanOut.handle({
        id: envelope.id,
        type: decoded.type,
        tlp: decoded.incident?.tlp ?? tlpOf(envelope.tlp),
        incidentId: envelope.incidentId,
        occurredAt: envelope.time ?? new Date(0),
        envelope: decoded.bytes,
        ...(decoded.incident ? { incident: decoded.incident } : {}),
        ...(decoded.type === 'impact.assessed' ? { extraSectors: assessedSectors(envelope.data) } : {}),
      });
      logger.debug(
        { eventId: envelope.id, type: decoded.type, delivered: decisions.filter((d) => d.deliver).length },
        'event fanned out',
      );
      message.ack();
    } catch (error) {
      logger.warn({ err: error, eventId: envelope.id }, 'fan-out failed; redelivering');
      message.nak(Math.min(30_000, 500 * 2 ** Math.min(6, message.info.deliveryCount)));
    }
  }
}

/** An envelope's label; an unlabelled event is treated as RED. */
function tlpOf(tlp: number) {
  return tlpFromProto(tlp) ?? 'RED';
}
