import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  consumerDependency,
  DecodingConsumer,
  TerminateEvent,
  type Dependency,
  type Logger,
  type Settlement,
} from '@beacon/platform';
import type { FeedItem } from '../../domain/feed-access.js';
import { decodeFeedEvent, feedItemOf, type FeedEvent } from '../delivery/feed-event.js';

/**
 * One feed message as a push channel sees it. The channel settles it exactly once: acks it,
 * hands it back for a later delivery, or terminates it. A message the channel keeps unsettled
 * for a while (held for a digest) is parked: kept alive meanwhile, and handed back to the stream
 * at once when the consumer stops, so another replica takes it over.
 */
export interface FeedDelivery {
  /** The agency whose feed holds the message. */
  readonly agencyId: string;
  /** Where the message sits in the feeds stream. */
  readonly feedSequence: number;
  /** JetStream's delivery count: 1 the first time, counted across restarts. */
  readonly attempt: number;
  readonly event: FeedEvent;
  /** What the access check judges of the message. */
  readonly item: FeedItem;
  /** Settled for good: delivered, withdrawn, or not this channel's. */
  ack(): void;
  /** Delivered again after `delayMs`, or at once without one. */
  retry(delayMs?: number): void;
  /** Never delivered again. */
  term(reason: string): void;
  /** Kept unsettled until one of the above. */
  park(): void;
}

export interface ChannelConsumerOptions {
  readonly nc: NatsConnection;
  /** The feeds stream, `BEACON_FEEDS`. */
  readonly stream: string;
  /** Feed subjects are `<subjectRoot>.<agencyId>.…`. */
  readonly subjectRoot: string;
  /** Shared by every replica. */
  readonly durable: string;
  /** The channel, as logs name it. */
  readonly channel: string;
  /** JetStream's `max_deliver`. */
  readonly maxDeliver: number;
  /** How long a message may be worked on before JetStream redelivers it; default 60 s. */
  readonly ackWaitMs?: number;
  /** Messages handled at once; default 16. */
  readonly concurrency?: number;
  /** Unacknowledged messages, parked ones included; default 10 000. */
  readonly maxAckPending?: number;
  /** How often the filter takes in agencies given the channel elsewhere; default 5 s. */
  readonly filterRefreshMs?: number;
  readonly logger: Logger;
  /** The agencies whose feeds are read: asked at start and at every filter refresh. */
  agencyIds(): Promise<readonly string[]>;
  /** Settles or parks the delivery. A throw is logged; JetStream redelivers after the ack wait. */
  handle(delivery: FeedDelivery): Promise<void>;
}

const DEFAULT_ACK_WAIT_MS = 60_000;
const DEFAULT_FILTER_REFRESH_MS = 5_000;
/** A subject of the feeds stream no feed message has (feed subjects have five more tokens). */
const NO_AGENCY = '_none';
const DEFAULT_CONCURRENCY = 16;
const DEFAULT_MAX_ACK_PENDING = 10_000;

/**
 * A push channel's durable JetStream consumer of the agency feeds, on platform's
 * `DecodingConsumer` with the channel settling each message itself: declared to start at the
 * head of the feeds, with the channel's ack wait, and with its subject filter following the
 * agencies that have the channel.
 */
export class FeedChannelConsumer {
  readonly #o: ChannelConsumerOptions;
  #consumer: DecodingConsumer<FeedEvent> | undefined;
  #filterTimer: NodeJS.Timeout | undefined;
  /** Filter refreshes, one at a time. */
  #filtering: Promise<void> = Promise.resolve();

  constructor(options: ChannelConsumerOptions) {
    this.#o = options;
  }

  /**
   * The consumer reads only the feeds of agencies that have this channel: most agencies only
   * read their feed, and reading, checking and acking every other feed message cost notify a
   * quarter of its fan-out rate. The filter follows the registry: exactly, on this replica's
   * changes (`refreshFilter('exact')`); and every `filterRefreshMs`, adding (never removing)
   * agencies another replica gave the channel, since a copy of the registry that is seconds old
   * must not drop an agency just given one. An agency given a channel is pushed the events from
   * then on; its feed has them all.
   */
  #filterSubjects(agencyIds: readonly string[]): string[] {
    const subjects = agencyIds.map((id) => `${this.#o.subjectRoot}.${id}.>`);
    return subjects.length > 0 ? subjects.sort() : [`${this.#o.subjectRoot}.${NO_AGENCY}`];
  }

  /** Never throws: a failure is logged and the periodic refresh catches up. */
  refreshFilter(mode: 'exact' | 'add'): Promise<void> {
    const { nc, stream, durable, subjectRoot } = this.#o;
    const run = this.#filtering.then(async () => {
      try {
        const jsm = await jetstream(nc).jetstreamManager();
        const wanted = this.#filterSubjects(await this.#o.agencyIds());
        const info = await jsm.consumers.info(stream, durable);
        const current = info.config.filter_subjects ?? [];
        const none = `${subjectRoot}.${NO_AGENCY}`;
        const union = [...new Set([...current, ...wanted])].filter((s) => s !== none).sort();
        const next = mode === 'exact' ? wanted : union.length > 0 ? union : [none];
        if (JSON.stringify(next) === JSON.stringify([...current].sort())) return;
        await jsm.consumers.update(stream, durable, { filter_subjects: next });
      } catch (error) {
        this.#o.logger.warn({ err: error, channel: this.#o.channel }, 'consumer filter not refreshed');
      }
    });
    this.#filtering = run;
    return run;
  }

  /** For notify's readiness: consuming, its durable there. */
  health(): Dependency {
    return consumerDependency(this.#o, () => this.#consumer?.consuming === true);
  }

  /** Creates or updates the durable consumer and starts consuming. */
  async start(): Promise<void> {
    const { subjectRoot } = this.#o;
    const concurrency = this.#o.concurrency ?? DEFAULT_CONCURRENCY;
    this.#consumer = new DecodingConsumer<FeedEvent>({
      nc: this.#o.nc,
      stream: this.#o.stream,
      durable: this.#o.durable,
      subjects: this.#filterSubjects(await this.#o.agencyIds()),
      changingSubjects: true,
      // A new consumer starts at the head: the feed keeps history, but paging an agency about
      // last month's events because a consumer was recreated would be noise.
      deliverPolicy: 'new',
      ackWaitMs: this.#o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      maxDeliver: this.#o.maxDeliver,
      maxAckPending: this.#o.maxAckPending ?? DEFAULT_MAX_ACK_PENDING,
      concurrency,
      pullBatch: concurrency * 2,
      logger: this.#o.logger.child({ channel: this.#o.channel }),
      decode: (data) => {
        try {
          return decodeFeedEvent(data);
        } catch (error) {
          throw new TerminateEvent('undecodable envelope', { cause: error });
        }
      },
      settledBy: 'handler',
      handle: async (event, msg, settlement) => {
        const agencyId = msg.subject.slice(subjectRoot.length + 1).split('.')[0] ?? '';
        const item = feedItemOf(subjectRoot, msg.subject, event);
        return this.#o.handle(
          feedDelivery(settlement, agencyId, msg.seq, msg.info.deliveryCount, event, item),
        );
      },
    });
    await this.#consumer.start();
    this.#filterTimer = setInterval(
      () => void this.refreshFilter('add'),
      this.#o.filterRefreshMs ?? DEFAULT_FILTER_REFRESH_MS,
    );
  }

  /**
   * Stops consuming and waits for the handlers under way, then for `finishWork` (the caller's
   * own work on parked messages), then hands what is still parked back to JetStream at once.
   */
  async stop(finishWork: () => Promise<void>): Promise<void> {
    clearInterval(this.#filterTimer);
    await this.#filtering;
    if (this.#consumer) await this.#consumer.stop(finishWork);
    else await finishWork();
  }
}

/** A feed message with its settling. */
function feedDelivery(
  settlement: Settlement,
  agencyId: string,
  feedSequence: number,
  attempt: number,
  event: FeedEvent,
  item: FeedItem,
): FeedDelivery {
  return {
    agencyId,
    feedSequence,
    attempt,
    event,
    item,
    ack: () => settlement.ack(),
    retry: (delayMs) => settlement.redeliver(delayMs),
    term: (reason) => settlement.term(reason),
    park: () => settlement.park(),
  };
}
