import { setTimeout as delay } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Binary, Collection } from 'mongodb';
import { ConcurrencyLimit } from './concurrency.js';
import type { Logger } from './logger.js';
import { withProducerSpan, type TraceCarrier } from './tracing.js';

/** One event waiting in a document's outbox, already in its wire form. */
export interface OutboxEntryDoc {
  readonly id: string;
  /** Order of events within the document. */
  readonly seq: number;
  /** Below the relay's subject root, e.g. `incident.opened`. */
  readonly subject: string;
  readonly data: Binary;
  readonly createdAt: Date;
  /**
   * W3C context of the request that caused the event (see `outboxTrace`), published
   * as the message's headers so its consumers join that request's trace.
   */
  readonly trace?: Readonly<TraceCarrier>;
}

/** Fields every document with an outbox has; the relay reads only these. */
export interface OutboxFields {
  /**
   * Pending events by id: a map, so the relay can `$unset` exactly the ones it published
   * (FerretDB's `$pull` only matches whole values). Empty when everything is published.
   */
  outbox: Record<string, OutboxEntryDoc>;
}

type OutboxDoc = OutboxFields & { _id: string };

const OUTBOX_ONLY = { outbox: 1 } as const;

/** One source's unpublished events, as `OutboxRelay.backlog` finds them. */
export interface OutboxBacklog {
  readonly source: string;
  readonly events: number;
  /** When the oldest waiting event was written; undefined when none waits. */
  readonly oldest: Date | undefined;
  /** More documents wait than were read. */
  readonly truncated: boolean;
}

export interface OutboxRelayOptions {
  /** Collections with outboxes, by name. */
  readonly sources: Readonly<Record<string, Collection<OutboxDoc>>>;
  readonly js: JetStreamClient;
  /** Subjects are `<root>.<event subject>`, e.g. `beacon.evt.incident.opened`. */
  readonly subjectRoot: string;
  readonly logger: Logger;
  /**
   * How often to sweep every source for events nobody announced (a crash, another replica).
   * A sweep reads every document of each source (no index serves `outbox: {$ne: {}}`).
   */
  readonly sweepMs?: number;
  /** Documents read per pass. */
  readonly batch?: number;
  /**
   * Documents published at once; all of a pass when absent. A service that writes documents
   * in bulk sets it low, so that publishing trails a bulk write instead of queueing hundreds
   * of updates ahead of the writer's next batch on a store that runs writes one at a time.
   */
  readonly concurrency?: number;
}

/**
 * Publishes the events waiting in documents' outboxes to JetStream, then removes them. Each
 * message carries its event id as `Nats-Msg-Id`, so when a crash comes between the publish and
 * the removal, the republished copy is dropped by the stream: an event is stored exactly once
 * (within the stream's duplicate window). Events of one document go out in order.
 *
 * Writers announce the documents they gave events (`notify`), which the relay reads by `_id`
 * at once; a periodic sweep catches what nobody announced.
 */
export class OutboxRelay {
  readonly #options: OutboxRelayOptions;
  #running: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #announced = new Map<string, Set<string>>();
  #lastSweep = 0;
  readonly #limit: ConcurrencyLimit | undefined;

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
    this.#limit = options.concurrency === undefined ? undefined : new ConcurrencyLimit(options.concurrency);
  }

  #limited<T>(task: () => Promise<T>): Promise<T> {
    return this.#limit ? this.#limit.run(task) : task();
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** A document in `source` has new events: publish them now rather than at the next sweep. */
  notify(source: string, id: string): void {
    let ids = this.#announced.get(source);
    if (!ids) this.#announced.set(source, (ids = new Set()));
    ids.add(id);
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  /** Publishes the announced documents' events; returns how many it published. */
  async drainAnnounced(): Promise<number> {
    const announced = this.#announced;
    this.#announced = new Map();
    let published = 0;
    try {
      for (const [name, ids] of announced) {
        const source = this.#source(name);
        const results = await Promise.allSettled(
          [...ids].map((_id) =>
            this.#limited(async () => {
              const doc = await source.findOne({ _id }, { projection: OUTBOX_ONLY });
              return doc ? this.#publishDoc(source, doc) : 0;
            }),
          ),
        );
        // Every document's publishing has ended, so a retry cannot overlap one still running.
        for (const result of results) {
          if (result.status === 'rejected') throw result.reason;
          published += result.value;
        }
      }
    } catch (error) {
      // Keep the announcements for the next attempt.
      for (const [name, ids] of announced) for (const id of ids) this.notify(name, id);
      throw error;
    }
    return published;
  }

  /** One pass over every source for documents with events; returns how many it published. */
  async sweep(): Promise<number> {
    let published = 0;
    for (const source of Object.values(this.#options.sources)) {
      const docs = await source
        .find({ outbox: { $ne: {} } }, { projection: OUTBOX_ONLY })
        .limit(this.#options.batch ?? 200)
        .toArray();
      // Wait for every document, as drainAnnounced does, so nothing still runs after a failure.
      const results = await Promise.allSettled(
        docs.map((doc) => this.#limited(() => this.#publishDoc(source, doc))),
      );
      for (const result of results) {
        if (result.status === 'rejected') throw result.reason;
        published += result.value;
      }
    }
    return published;
  }

  /**
   * What waits in each source's outboxes: the events and when the oldest was written. Reads at
   * most `limit` documents with events per source (a whole-collection scan on FerretDB), so a
   * larger backlog is reported as `truncated`; for metrics, not for the publishing path.
   */
  async backlog(limit = 1_000): Promise<OutboxBacklog[]> {
    return Promise.all(
      Object.entries(this.#options.sources).map(async ([source, collection]) => {
        const docs = await collection
          .find({ outbox: { $ne: {} } }, { projection: OUTBOX_ONLY, maxTimeMS: 5_000 })
          .limit(limit)
          .toArray();
        let events = 0;
        let oldest: Date | undefined;
        for (const doc of docs) {
          for (const entry of Object.values(doc.outbox ?? {})) {
            events += 1;
            if (!oldest || entry.createdAt < oldest) oldest = entry.createdAt;
          }
        }
        return { source, events, oldest, truncated: docs.length >= limit };
      }),
    );
  }

  #source(name: string): Collection<OutboxDoc> {
    const source = this.#options.sources[name];
    if (!source) throw new Error(`no outbox source ${name}`);
    return source;
  }

  async #publishDoc(source: Collection<OutboxDoc>, doc: OutboxDoc): Promise<number> {
    const entries: OutboxEntryDoc[] = Object.values(doc.outbox ?? {}).sort((a, b) => a.seq - b.seq);
    const published: string[] = [];
    try {
      for (const entry of entries) {
        const subject = `${this.#options.subjectRoot}.${entry.subject}`;
        await withProducerSpan(subject, entry.trace, (headers) =>
          this.#options.js.publish(subject, entry.data.buffer, {
            msgID: entry.id,
            ...(headers ? { headers } : {}),
          }),
        );
        published.push(entry.id);
      }
    } finally {
      // One update removes everything published. Removing is idempotent, so a retry or another
      // replica that published the same events (dropped by the stream as duplicates) does no
      // harm; the filter is `_id` alone, the one lookup FerretDB serves from an index.
      if (published.length > 0) {
        await source.updateOne(
          { _id: doc._id },
          { $unset: Object.fromEntries(published.map((id) => [`outbox.${id}`, ''])) },
        );
      }
    }
    return published.length;
  }

  async #loop(): Promise<void> {
    const sweepMs = this.#options.sweepMs ?? 5_000;
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.drainAnnounced();
        if (performance.now() - this.#lastSweep >= sweepMs) {
          this.#lastSweep = performance.now();
          // A full batch means there may be more: sweep again straight away.
          if ((await this.sweep()) >= (this.#options.batch ?? 200)) this.#lastSweep = 0;
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        this.#options.logger.warn({ err: error, failures }, 'outbox relay pass failed; retrying');
        // A failure may have been the broker going away: sweep on recovery, whatever was announced.
        this.#lastSweep = 0;
        await delay(Math.min(5_000, 100 * 2 ** failures));
        continue;
      }
      if (this.#announced.size > 0 || this.#stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, sweepMs - (performance.now() - this.#lastSweep)));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
