import { createHash } from 'node:crypto';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import {
  ConcurrencyLimit,
  consumeDurable,
  consumerDependency,
  tlpFromProto,
  tracingEnabled,
  withConsumerSpan,
  withProducerSpan,
  type Dependency,
  type JetStreamPublisher,
  redeliveryDelayMs,
  type Logger,
  type StreamSpec,
} from '@beacon/platform';
import type { Tlp } from '@beacon/domain';
import type { FanOut } from '../../app/fan-out.js';
import type { FeedMessage, FeedPublisher } from '../../app/ports.js';
import { assessedPlaces, decodeEvent } from './event-facts.js';

/**
 * The per-agency feeds: `<root>.<agencyId>.<incidentId>.<label>.<domain>.<event>`, on disk,
 * kept 90 days so an agency can replay from any sequence or time, deduplicating republished
 * copies for ten minutes, on `replicas` servers of the cluster. The incident and the label are
 * subject tokens so that Beacon can withdraw one incident's copies above a label from one
 * agency's feed with a subject-filtered purge, while the agency's consumers keep reading
 * `<root>.<agencyId>.>`.
 */
export function feedsStream(name: string, root: string, replicas = 1): StreamSpec {
  return {
    name,
    subjects: [`${root}.>`],
    duplicate_window: 10 * 60 * 1e9,
    max_age: 90 * 24 * 3600 * 1e9,
    num_replicas: replicas,
  };
}

/** Labels as subject tokens: lower case, `AMBER+STRICT` as `amber-strict`. */
const LABEL_TOKENS: Record<Tlp, string> = {
  CLEAR: 'clear',
  GREEN: 'green',
  AMBER: 'amber',
  'AMBER+STRICT': 'amber-strict',
  RED: 'red',
};

export const labelToken = (tlp: Tlp): string => LABEL_TOKENS[tlp];

/** The incident token of an event outside any incident. */
export const NO_INCIDENT_TOKEN = '_';

/**
 * An incident id as one subject token. Intake's ids (`inc_…`) are tokens as they are; anything
 * else (a dot or a wildcard would split or widen the subject) is replaced by a digest.
 */
export function incidentToken(incidentId: string): string {
  if (incidentId === '') return NO_INCIDENT_TOKEN;
  if (/^[A-Za-z0-9_-]{1,128}$/.test(incidentId) && incidentId !== NO_INCIDENT_TOKEN) return incidentId;
  return `_h${createHash('sha256').update(incidentId).digest('hex').slice(0, 32)}`;
}

export const feedSubject = (
  root: string,
  message: Pick<FeedMessage, 'agencyId' | 'incidentId' | 'tlp' | 'type'>,
) =>
  `${root}.${message.agencyId}.${incidentToken(message.incidentId)}.${labelToken(message.tlp)}.${message.type}`;

/**
 * The subjects holding one agency's copies under the given labels: of one incident, or of every
 * incident (`*`). What a withdrawal purges.
 */
export const feedLabelFilters = (
  root: string,
  agencyId: string,
  incidentId: string,
  labels: readonly Tlp[],
): string[] =>
  labels.map(
    (tlp) =>
      `${root}.${agencyId}.${incidentId === '*' ? '*' : incidentToken(incidentId)}.${labelToken(tlp)}.>`,
  );

/** What a feed subject says of its message; undefined for a subject of another layout. */
export function parseFeedSubject(
  root: string,
  subject: string,
): { agencyId: string; incidentToken: string; tlp: Tlp; type: string } | undefined {
  if (!subject.startsWith(`${root}.`)) return undefined;
  const [agencyId, incident, label, ...type] = subject.slice(root.length + 1).split('.');
  const tlp = (Object.keys(LABEL_TOKENS) as Tlp[]).find((t) => LABEL_TOKENS[t] === label);
  if (!agencyId || !incident || !tlp || type.length < 2) return undefined;
  return { agencyId, incidentToken: incident, tlp, type: type.join('.') };
}

/** The message id of an event in one agency's feed: the stream drops a second copy. */
export const feedMessageId = (eventId: string, agencyId: string) => `${eventId}.${agencyId}`;

/**
 * Publishes feed copies with one acknowledgement each (the copy is stored, or a duplicate the
 * stream dropped), through a publisher that waits for many acks on one subscription: an event's
 * copies leave together in one write and their acks come back together.
 */
export class JetStreamFeedPublisher implements FeedPublisher {
  constructor(
    private readonly publisher: JetStreamPublisher,
    private readonly root: string,
  ) {}

  async publish(messages: readonly FeedMessage[]): Promise<void> {
    if (tracingEnabled()) {
      await Promise.all(
        messages.map((m) => {
          const h = this.#headers(m);
          const subject = feedSubject(this.root, m);
          // The feed copy continues the trace of the work that published it.
          return withProducerSpan(
            subject,
            undefined,
            () =>
              this.publisher.publish(subject, m.envelope, {
                msgID: feedMessageId(m.eventId, m.agencyId),
                headers: h,
              }),
            h,
          );
        }),
      );
      return;
    }
    // The publisher encodes headers as it sends, so the copies of one event share a set and
    // differ only in their message id.
    let shared: { eventId: string; type: string; headers: MsgHdrs } | undefined;
    await Promise.all(
      messages.map((m) => {
        if (shared?.eventId !== m.eventId || shared.type !== m.type) {
          shared = { eventId: m.eventId, type: m.type, headers: this.#headers(m) };
        }
        return this.publisher.publish(feedSubject(this.root, m), m.envelope, {
          msgID: feedMessageId(m.eventId, m.agencyId),
          headers: shared.headers,
        });
      }),
    );
  }

  #headers(m: FeedMessage): MsgHdrs {
    const h = headers();
    h.set('Beacon-Event-Id', m.eventId);
    h.set('Beacon-Event-Type', m.type);
    return h;
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
 * a replica, different incidents' side by side — acking only after every feed has stored its
 * copy; a failure redelivers the event (the feeds drop the copies they already have). Across
 * replicas order is not kept, which is why incident facts carry intake's version.
 */
export class FanOutConsumer {
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;
  #ended = false;

  constructor(private readonly options: FanOutConsumerOptions) {}

  /** For notify's readiness: consuming, its durable there. */
  health(): Dependency {
    return consumerDependency(this.options, () => this.#messages !== undefined && !this.#ended);
  }

  async start(): Promise<void> {
    const { subjectRoot } = this.options;
    this.#messages = await consumeDurable({
      ...this.options,
      subjects: [`${subjectRoot}.incident.>`, `${subjectRoot}.impact.>`],
    });
    this.#done = this.#loop(this.#messages).finally(() => {
      this.#ended = true;
    });
  }

  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#done;
  }

  /**
   * Handles up to `concurrency` events at once, but the events of one incident one after the
   * other, in stream order: its facts (label, engagement) change along its events, and its
   * feeds should carry them in that order. The next event of an incident starts once the
   * previous one's copies are sent: they leave on this one connection first, and the feeds
   * store them in the order sent, so an incident's events wait for each other's CPU work but
   * not for each other's round trips. Each is acked once its copies and its facts are stored.
   */
  async #loop(messages: ConsumerMessages): Promise<void> {
    const limit = new ConcurrencyLimit(this.options.concurrency ?? 32);
    const chains = new Map<string, Promise<void>>();
    const inflight = new Set<Promise<void>>();
    for await (const message of messages) {
      let decoded: Decoded;
      try {
        decoded = decodeEvent(message.data);
      } catch (error) {
        this.options.logger.error({ err: error, seq: message.seq }, 'undecodable event; terminated');
        message.term('undecodable');
        continue;
      }
      const key = decoded.envelope.incidentId;
      const sent = (chains.get(key) ?? Promise.resolve()).then(() =>
        limit.run(() => withConsumerSpan(this.options.durable, message, () => this.#send(message, decoded))),
      );
      const chain = sent.then(() => undefined);
      chains.set(key, chain);
      void chain.finally(() => {
        if (chains.get(key) === chain) chains.delete(key);
      });
      const task = sent.then((result) => (result ? this.#settle(message, decoded, result.done) : undefined));
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      // Read no further ahead than twice what runs: the rest waits in the stream.
      if (inflight.size >= 2 * limit.limit) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  /**
   * Sends the copies to the feeds; on failure naks and returns nothing. Never throws. What is
   * still pending (the feeds' acknowledgements, the facts' write) comes back wrapped, as a
   * promise returned bare would be awaited here.
   */
  async #send(message: JsMsg, decoded: Decoded): Promise<{ done: Promise<unknown> } | undefined> {
    const { envelope } = decoded;
    try {
      const { decisions, published, stored } = await this.options.fanOut.handle({
        id: envelope.id,
        type: decoded.type,
        tlp: decoded.incident?.tlp ?? tlpOf(envelope.tlp),
        incidentId: envelope.incidentId,
        occurredAt: envelope.time ?? new Date(0),
        envelope: decoded.bytes,
        ...(decoded.incident ? { incident: decoded.incident } : {}),
        ...(decoded.type === 'impact.assessed' ? { assessed: assessedPlaces(envelope.data) } : {}),
        ...(decoded.unassignedAgencyId ? { unassignedAgencyId: decoded.unassignedAgencyId } : {}),
      });
      if (this.options.logger.isLevelEnabled('debug')) {
        this.options.logger.debug(
          { eventId: envelope.id, type: decoded.type, delivered: decisions.filter((d) => d.deliver).length },
          'event fanned out',
        );
      }
      return { done: Promise.all([published, stored]) };
    } catch (error) {
      this.#retry(message, decoded, error);
      return undefined;
    }
  }

  /** Acks once the event's copies and facts are stored, naks when either failed. Never throws. */
  async #settle(message: JsMsg, decoded: Decoded, done: Promise<unknown>): Promise<void> {
    try {
      await done;
      message.ack();
    } catch (error) {
      this.#retry(message, decoded, error);
    }
  }

  #retry(message: JsMsg, decoded: Decoded, error: unknown): void {
    this.options.logger.warn({ err: error, eventId: decoded.envelope.id }, 'fan-out failed; redelivering');
    message.nak(redeliveryDelayMs(message.info.deliveryCount));
  }
}

type Decoded = ReturnType<typeof decodeEvent>;

/** An envelope's label; an unlabelled event is treated as RED. */
function tlpOf(tlp: number) {
  return tlpFromProto(tlp) ?? 'RED';
}
