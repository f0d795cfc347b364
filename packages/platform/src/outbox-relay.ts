import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Collection } from 'mongodb';
import { ConcurrencyLimit } from './concurrency.js';
import { GroupCommit } from './group-commit.js';
import type { Logger } from './logger.js';
import { sweepDelay } from './periodic.js';
import { FullSweeps, type PendingMarks } from './pending-marks.js';
import { Tally, type OutboxBacklog } from './outbox-backlog.js';
import {
  hasEvents,
  OUTBOX_AND_CLAIM,
  type OutboxAnnouncer,
  type OutboxClaimFields,
  type OutboxDoc,
} from './outbox-document.js';
import { readOutboxEntry, type OutboxEntry } from './outbox-entry.js';
import { withProducerSpan } from './tracing.js';

export interface OutboxRelayOptions {
  /** Collections with outboxes, by name. */
  readonly sources: Readonly<Record<string, Collection<OutboxDoc>>>;
  readonly js: JetStreamClient;
  /** Subjects are `<root>.<event subject>`, e.g. `beacon.evt.incident.opened`. */
  readonly subjectRoot: string;
  readonly logger: Logger;
  /**
   * How often to sweep every source for events nobody announced (a crash, another replica).
   * A sweep of a source with marks reads its marks and the marked documents by `_id`; a full
   * sweep reads every document of the source (no index serves `outbox: {$ne: {}}` on
   * FerretDB). Each is spaced by its own duration (`sweepDelay`).
   */
  readonly sweepMs?: number;
  /** Documents (or marks) read per pass. */
  readonly batch?: number;
  /**
   * Marks of each source's documents with events (see `PendingMarks`), by source name. A source
   * with marks is swept through them, and fully only at start-up and every `fullSweepMs`; a
   * source without is read fully at every sweep.
   */
  readonly marks?: Readonly<Record<string, PendingMarks>>;
  /**
   * A marks sweep reads the marks at least this old: younger ones are the announcements' to
   * publish. 5 s unless given.
   */
  readonly markAgeMs?: number;
  /** How often the full sweep of sources with marks runs after the first; an hour unless given. */
  readonly fullSweepMs?: number;
  /**
   * Documents published at once; all of a pass when absent. A service that writes documents
   * in bulk sets it low, so that publishing trails a bulk write instead of queueing hundreds
   * of updates ahead of the writer's next batch on a store that runs writes one at a time.
   */
  readonly concurrency?: number;
  /** Names this relay in claims; unique per relay (a random id unless given). */
  readonly relayId?: string;
  /**
   * How long a claim on a document lasts: a relay that dies holding one delays that document's
   * events by at most this long (plus a sweep). It must stay far below the stream's duplicate
   * window (ten minutes); 60 s unless given.
   */
  readonly leaseMs?: number;
}

/**
 * Publishes the events waiting in documents' outboxes to JetStream, then removes them. Each
 * message carries its event id as `Nats-Msg-Id`, so when a crash comes between the publish and
 * the removal, the republished copy is dropped by the stream: an event is stored exactly once
 * (within the stream's duplicate window). Events of one document go out in order.
 *
 * Writers announce the documents they gave events (`notify`), which the relay reads by `_id`
 * at once, or, for a document just created under this relay's claim, publishes as its writer
 * wrote it, with no read; a periodic sweep catches what nobody announced. Writers mark a
 * document before giving it events (`OutboxAnnouncer.mark`, see `PendingMarks`): the sweep
 * reads the marks older than `markAgeMs` and those documents by `_id`, removing the marks of
 * documents with nothing left to publish, and reads whole collections only at start-up and
 * then every `fullSweepMs` (for documents of earlier releases, or a lost mark).
 *
 * The backlog gauges (`backlog`) come from what the sweeps saw, without a read of their own:
 * the events left in the documents a sweep read once it had published what it could.
 *
 * Several relays (one per service replica) may share the same documents. A relay publishes a
 * document's events only under a claim on that document: one its writer wrote for it beside
 * the events (`claimForWrite`), or one it took with one compare-and-set of the claim it read
 * (free, run out, or its own). It gives the claim up in the write that removes what it published. So two
 * live relays do not publish the same document at once (unless a writer's claim replaced
 * another relay's mid-publish: then both publish the same events seconds apart, and the stream
 * drops the second copy), and a document's events keep their order across replicas. A relay
 * that dies holding a claim strands nothing: once the lease has run out, the next sweep of any relay takes the document over. A relay stops
 * publishing when its own lease has run out by its own clock, so a relay that was paused
 * cannot publish events another relay has since published and removed, unless the pause fell
 * between that check and the publish and lasted longer than the duplicate window.
 *
 * What the claim cannot prevent: a relay that published and then died (or could not write to
 * the store) before removing the events leaves them for the next claimant, which publishes
 * them again. Within the stream's duplicate window the stream drops that copy; if the document
 * is taken over only after the window (every replica down, or the store unreachable, for ten
 * minutes), the copy is stored, and consumers, which are idempotent by event id, ignore it.
 */
export class OutboxRelay {
  readonly #options: OutboxRelayOptions;
  #running: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  /**
   * Announced documents by source, each with its outbox and claim as its creating write wrote
   * them (`announceCreated`), or undefined: to be read.
   */
  #announced = new Map<string, Map<string, OutboxDoc | undefined>>();
  /** When the next sweep is due (`performance.now()` time). */
  #nextSweep = 0;
  /** When the full sweep of the sources with marks is due. */
  readonly #fullSweeps: FullSweeps;
  /** What each source's last sweep left unpublished (see `backlog`). */
  readonly #seen = new Map<string, OutboxBacklog>();
  readonly #limit: ConcurrencyLimit | undefined;
  readonly #id: string;
  readonly #leaseMs: number;
  /** Documents another relay held when announced: tried again shortly, with the attempt count. */
  #contended = new Map<string, number>();
  /** Per source: the removals of published events, sent together (group commit). */
  readonly #removals = new Map<Collection<OutboxDoc>, GroupCommit<OutboxDoc>>();

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
    this.#id = options.relayId ?? randomUUID();
    this.#leaseMs = options.leaseMs ?? 60_000;
    checkLease(this.#leaseMs);
    this.#limit = options.concurrency === undefined ? undefined : new ConcurrencyLimit(options.concurrency);
    this.#fullSweeps = new FullSweeps(options.fullSweepMs);
    for (const [name, source] of Object.entries(options.sources)) {
      this.#removals.set(source, new GroupCommit(source));
      this.#seen.set(name, { source: name, events: 0, oldest: undefined, truncated: false });
    }
  }

  #limited<T>(task: () => Promise<T>): Promise<T> {
    return this.#limit ? this.#limit.run(task) : task();
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * A document in `source` has new events: publish them now rather than at the next sweep.
   * `created`: the document as the write that created it left it (see `announceCreated`).
   */
  notify(source: string, id: string, created?: OutboxDoc): void {
    let ids = this.#announced.get(source);
    if (!ids) this.#announced.set(source, (ids = new Map<string, OutboxDoc | undefined>()));
    // Told of a later write too before publishing: the document must be read, whatever order
    // the two announcements came in.
    ids.set(id, ids.has(id) && !ids.get(id) ? undefined : created);
    this.#wake?.();
  }

  /**
   * The claim a writer puts into the very write that gives a document events (as its fields
   * beside its outbox entries) before it announces the document: this relay, reading the
   * document, finds it its own and publishes without a claim write of its own, one write fewer per document on the
   * request path. Whoever wrote last holds the claim; an overwritten claim at worst lets two
   * live relays publish the same events seconds apart, which the stream drops as duplicates.
   */
  claimForWrite(leaseMs = this.#leaseMs): OutboxClaimFields {
    checkLease(leaseMs);
    return { outboxClaimBy: this.#id, outboxClaimUntil: new Date(Date.now() + leaseMs) };
  }

  /** `claimForWrite` and `notify` for one source, as a store that writes events needs them. */
  announcer(source: string): OutboxAnnouncer {
    this.#source(source);
    const marks = this.#options.marks?.[source];
    return {
      mark: async (ids) => marks?.mark(ids),
      claimForWrite: (leaseMs) => this.claimForWrite(leaseMs),
      announce: (id) => this.notify(source, id),
      announceCreated: (id, written) => this.notify(source, id, { _id: id, ...written }),
    };
  }

  /** This relay's name in claims. */
  get id(): string {
    return this.#id;
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
          [...ids].map(([_id, created]) =>
            this.#limited(async () => {
              // Just created, for this relay, with time to spare: its events are the ones the
              // creating write carried, so they need no read. (Had another writer added events
              // and its own claim since, both relays publish the first events, seconds apart,
              // and the stream drops the second copy; this relay's removal also clears the
              // other's claim, so a third may take the document over and publish its events
              // once more, in order, and dropped as well. The read path has the same window,
              // from its read to its removal; this one opens at the insert.)
              const handed = created && this.#ownClaim(created);
              if (handed) return this.#publishDoc(source, handed.doc, handed.deadline);
              // A read first (reads wait in no write queue): most documents are this relay's
              // by their writer's claim, and a finished or foreign one needs no write at all.
              const doc = await source.findOne({ _id }, { projection: OUTBOX_AND_CLAIM });
              if (!doc || !hasEvents(doc)) return 0;
              const claimed =
                this.#ownClaim(doc) ?? (this.#claimable(doc) ? await this.#claim(source, doc) : undefined);
              if (claimed) {
                this.#contended.delete(`${name}\0${_id}`);
                return this.#publishDoc(source, claimed.doc, claimed.deadline);
              }
              // Another relay holds it: it may have read the document before these events
              // were added, so look again shortly rather than wait for the next sweep.
              this.#retryLater(name, _id);
              return 0;
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
      // Keep the announcements for the next attempt, to be read then: some may be published.
      for (const [name, ids] of announced) for (const id of ids.keys()) this.notify(name, id);
      throw error;
    }
    return published;
  }

  /**
   * One pass over every source for documents with events, as the loop makes it: through the
   * marks, or a full read where one is due (or `full` asks for it). Returns how many it published.
   */
  async sweep(options: { readonly full?: boolean } = {}): Promise<number> {
    return (await this.#sweep(options.full ?? false)).published;
  }

  /** A sweep, and whether it read a full batch of documents from some source: maybe more. */
  async #sweep(forceFull: boolean): Promise<{ published: number; full: boolean }> {
    let published = 0;
    let full = false;
    const batch = this.#options.batch ?? 200;
    const fullDue = forceFull || this.#fullSweeps.due();
    const marked = Object.keys(this.#options.sources).some((name) => this.#options.marks?.[name]);
    let fullMore = false;
    const started = performance.now();
    try {
      for (const [name, source] of Object.entries(this.#options.sources)) {
        const marks = this.#options.marks?.[name];
        const tally = new Tally();
        let read: number | undefined;
        try {
          const pass =
            marks && !fullDue
              ? await this.#marksPass(source, marks, batch, tally)
              : await this.#fullPass(source, marks, batch, tally);
          read = pass.read;
          published += pass.published;
        } finally {
          if (read !== undefined) this.#seen.set(name, tally.backlog(name, read >= batch));
        }
        if ((read ?? 0) >= batch) {
          full = true;
          if (marks && fullDue) fullMore = true;
        }
      }
    } catch (error) {
      if (marked && fullDue)
        this.#fullSweeps.failed(performance.now() - started, this.#options.sweepMs ?? 5_000);
      throw error;
    }
    if (marked && fullDue) this.#fullSweeps.done(performance.now() - started, fullMore);
    return { published, full };
  }

  /**
   * The marks at least `markAgeMs` old, and their documents by `_id`: a document with events
   * is published, a mark whose document has none left is removed (`PendingMarks.settle`).
   */
  async #marksPass(
    source: Collection<OutboxDoc>,
    marks: PendingMarks,
    batch: number,
    tally: Tally,
  ): Promise<{ read: number; published: number }> {
    const upTo = new Date(marks.now().getTime() - (this.#options.markAgeMs ?? 5_000));
    const due = await marks.due(upTo, batch);
    const published = await settledSum(
      due.map((mark) =>
        this.#limited(async () => {
          const readAt = marks.now();
          const doc = await source.findOne({ _id: mark.id }, { projection: OUTBOX_AND_CLAIM });
          if (!doc || !hasEvents(doc)) {
            await marks.settle(mark, readAt);
            return 0;
          }
          return this.#publishFound(source, doc, tally);
        }),
      ),
    );
    return { read: due.length, published };
  }

  /**
   * Documents with events read from the whole source (a full scan on FerretDB); with marks,
   * those found are marked, so the marks sweeps follow them from then on.
   */
  async #fullPass(
    source: Collection<OutboxDoc>,
    marks: PendingMarks | undefined,
    batch: number,
    tally: Tally,
  ): Promise<{ read: number; published: number }> {
    const docs = await source
      .find({ outbox: { $ne: {} } }, { projection: OUTBOX_AND_CLAIM })
      .limit(batch)
      .toArray();
    await marks?.adopt(docs.map((doc) => doc._id));
    const published = await settledSum(
      docs.map((doc) => this.#limited(() => this.#publishFound(source, doc, tally))),
    );
    return { read: docs.length, published };
  }

  /**
   * Publishes a document a sweep found with events, when it is this relay's (a writer took it
   * for this relay) or free to take; one held by another relay (alive, or dead with its lease
   * not yet run out) is left to it. Counts what is left unpublished in `tally`.
   */
  async #publishFound(source: Collection<OutboxDoc>, doc: OutboxDoc, tally: Tally): Promise<number> {
    let current = doc;
    let published = 0;
    try {
      const claimed =
        this.#ownClaim(doc) ?? (this.#claimable(doc) ? await this.#claim(source, doc) : undefined);
      if (claimed) {
        current = claimed.doc;
        published = await this.#publishDoc(source, claimed.doc, claimed.deadline);
      }
      return published;
    } finally {
      tally.add(current, published);
    }
  }

  /**
   * What waits in each source's outboxes, as the relay's last sweep of it saw them: the events
   * left in the documents it read, once it had published what it could, and when the oldest was
   * written. No read of its own. The figure is as old as that sweep (a period, `sweepMs`, plus
   * the sweep's own duration, longer while a failing pass backs off), and a marks sweep does
   * not count events younger than `markAgeMs` (the announcements' to publish). Events another
   * relay holds count until it has published them. `truncated`: the sweep read a full batch.
   */
  async backlog(): Promise<OutboxBacklog[]> {
    return Promise.resolve([...this.#seen.values()]);
  }

  #source(name: string): Collection<OutboxDoc> {
    const source = this.#options.sources[name];
    if (!source) throw new Error(`no outbox source ${name}`);
    return source;
  }

  /**
   * Takes the claim of a document read with events whose claim was free, run out or this
   * relay's: one compare-and-set of the claim as read, so it fails if another relay or a writer
   * claimed the document since. Returns the document as it is under the new claim and when, by
   * this relay's clock, it must stop publishing. The filter is `_id` and the two claim fields
   * compared for equality, which the FerretDB launcher serves from the `_id` index (a
   * `findOneAndUpdate` with `$or` read the whole collection under the database's write lock:
   * about a second per claim at 2,000 incidents).
   */
  async #claim(
    source: Collection<OutboxDoc>,
    doc: OutboxDoc,
  ): Promise<{ doc: OutboxDoc; deadline: number } | undefined> {
    const now = Date.now();
    const until = new Date(now + this.#leaseMs);
    const { matchedCount } = await source.updateOne(
      {
        _id: doc._id,
        outboxClaimBy: doc.outboxClaimBy ?? null,
        outboxClaimUntil: doc.outboxClaimUntil ?? null,
      },
      { $set: { outboxClaimBy: this.#id, outboxClaimUntil: until } },
    );
    if (matchedCount === 0) return undefined;
    // Read again under the claim: a claim as read can come back. Another relay may have
    // claimed the document after this read, published its events and given the claim up, so
    // the compare-and-set matched, but the events read are gone. Publishing them would offer
    // each a second time (CI saw it once, three relays over 40 documents).
    const current = await source.findOne({ _id: doc._id }, { projection: OUTBOX_AND_CLAIM });
    if (!current) return undefined;
    // Stop a little early: another relay compares the lease with its own clock.
    return {
      doc: { ...current, outboxClaimBy: this.#id, outboxClaimUntil: until },
      deadline: now + this.#leaseMs * 0.8,
    };
  }

  /**
   * The document as read, when its claim (taken by a writer or by this relay) is this relay's
   * with time to spare: no other relay takes it before it runs out, so publishing needs no
   * claim write, which on FerretDB would read the whole collection (its filter is more than
   * `_id`). Passes of one relay run one after another, so it is not published twice at once.
   */
  #ownClaim(doc: OutboxDoc): { doc: OutboxDoc; deadline: number } | undefined {
    if (doc.outboxClaimBy !== this.#id || !doc.outboxClaimUntil) return undefined;
    const deadline = doc.outboxClaimUntil.getTime() - this.#leaseMs * 0.2;
    return Date.now() < deadline ? { doc, deadline } : undefined;
  }

  /** Whether, as read, the document's claim is free, run out or this relay's. */
  #claimable(doc: OutboxDoc): boolean {
    return (
      !doc.outboxClaimUntil || doc.outboxClaimUntil.getTime() <= Date.now() || doc.outboxClaimBy === this.#id
    );
  }

  /** Announces a contended document again after a short, growing pause (at most 2 s). */
  #retryLater(source: string, id: string): void {
    const key = `${source}\0${id}`;
    const attempt = (this.#contended.get(key) ?? 0) + 1;
    this.#contended.set(key, attempt);
    const wait = Math.min(2_000, 50 * 2 ** Math.min(6, attempt));
    setTimeout(() => {
      if (!this.#stopped && this.#contended.has(key)) this.notify(source, id);
    }, wait).unref();
  }

  /**
   * Publishes the claimed document's events in order while the claim lasts, then removes what
   * it published and gives the claim up in one write. Once its deadline has passed the claim may
   * be another relay's, so then only the published events are removed (removing is idempotent).
   */
  async #publishDoc(source: Collection<OutboxDoc>, doc: OutboxDoc, deadline: number): Promise<number> {
    let entries: OutboxEntry[] = [];
    try {
      entries = Object.values(doc.outbox ?? {})
        .map(readOutboxEntry)
        .sort((a, b) => a.seq - b.seq);
    } catch (error) {
      // Never published, and loud at every pass, but not in the way of other documents' events;
      // the claim is given up below like any other.
      this.#options.logger.error(
        { err: error, source: source.collectionName, id: doc._id },
        'an outbox entry cannot be read; its document is left as it is',
      );
    }
    const published: string[] = [];
    try {
      for (const entry of entries) {
        // Lease over: another relay may own the document by now. Leave the rest to it.
        if (Date.now() >= deadline) break;
        const subject = `${this.#options.subjectRoot}.${entry.subject}`;
        await withProducerSpan(subject, entry.trace, (headers) =>
          this.#options.js.publish(subject, entry.data, {
            msgID: entry.id,
            ...(headers ? { headers } : {}),
          }),
        );
        published.push(entry.id);
      }
    } finally {
      const removed = Object.fromEntries(published.map((id) => [`outbox.${id}`, '' as const]));
      // Filtered by `_id` alone, as this write follows every publish: FerretDB 1.24 serves only
      // that filter from an index and scans the collection for any other (11.8 ms against
      // 2.7 ms per update at 20,000 documents, measured), holding its write lock meanwhile.
      // Removals from documents published at the same time go out as one command.
      // The claim is still this relay's while its deadline (a fifth of the lease before the
      // lease ends) has not passed: others wait for the lease's end. After it, only the
      // published events are removed, and the claim is left to whoever holds it.
      const removals = this.#removals.get(source)!;
      if (Date.now() < deadline) {
        await removals.updateById(doc._id, {
          $unset: { ...removed, outboxClaimBy: '', outboxClaimUntil: '' },
        });
      } else if (published.length > 0) {
        await removals.updateById(doc._id, { $unset: removed });
      }
    }
    return published.length;
  }

  async #loop(): Promise<void> {
    const sweepMs = this.#options.sweepMs ?? 5_000;
    let failures = 0;
    while (!this.#stopped) {
      let failed: unknown;
      try {
        await this.drainAnnounced();
      } catch (error) {
        failed = error;
      }
      // Swept when due even after a failed drain: a broker gone away fails every publish, and the
      // backlog gauges come from what sweeps see.
      if (performance.now() >= this.#nextSweep) {
        const started = performance.now();
        try {
          const { published, full } = await this.#sweep(false);
          const ended = performance.now();
          // Spaced by its duration, a sweep takes a bounded share of the store. A full batch it
          // published from means there may be more: straight away (not when other relays held
          // them all: they are at it).
          this.#nextSweep = full && published > 0 ? 0 : ended + sweepDelay(sweepMs, ended - started);
        } catch (error) {
          failed ??= error;
          // Not at every retry: within a period, spaced by its duration.
          const ended = performance.now();
          this.#nextSweep = ended + sweepDelay(sweepMs, ended - started);
        }
      }
      if (failed !== undefined) {
        failures += 1;
        this.#options.logger.warn({ err: failed, failures }, 'outbox relay pass failed; retrying');
        // A failure may have been the broker going away: sweep within a period, whatever was
        // announced.
        this.#nextSweep = Math.min(this.#nextSweep, performance.now() + sweepMs);
        await delay(Math.min(5_000, 100 * 2 ** failures));
        continue;
      }
      failures = 0;
      if (this.#announced.size > 0 || this.#stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, this.#nextSweep - performance.now()));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

/** Waits for every task, so nothing still runs after a failure; throws the first failure. */
async function settledSum(tasks: readonly Promise<number>[]): Promise<number> {
  let sum = 0;
  for (const result of await Promise.allSettled(tasks)) {
    if (result.status === 'rejected') throw result.reason;
    sum += result.value;
  }
  return sum;
}

function checkLease(leaseMs: number): void {
  if (!(leaseMs >= 100 && leaseMs <= 5 * 60_000)) {
    throw new Error(
      `outbox relay lease must be 100 ms to 5 min (below the duplicate window), not ${leaseMs}`,
    );
  }
}
