import type { Collection, Db, MongoClient } from 'mongodb';
import { GroupCommit } from './group-commit.js';
import { duplicatePositions, ensureIndexes } from './mongo.js';
import { sweepDelay } from './periodic.js';

/** A mark as stored: the document `_id` of the source collection may have pending work. */
export interface PendingMarkDoc {
  _id: string;
  /** When a writer last marked it, by the writer's clock. */
  at: Date;
}

/** A mark as a sweep reads it. */
export interface PendingMark {
  readonly id: string;
  readonly at: Date;
}

export interface PendingMarksOptions {
  /**
   * X: how long a write may take after its mark (plus the clock skew between replicas). A mark
   * is removed only by a sweep that read its document at least this long after the mark's
   * time. 60 s unless given.
   */
  readonly settleMs?: number;
  /**
   * How long this process skips a mark it wrote itself, for a further write to the same
   * document; a write relying on it must then land within `settleMs - reuseMs` of the mark.
   * A quarter of `settleMs` unless given; 0 marks before every write.
   */
  readonly reuseMs?: number;
  /** The clock marks are stamped and compared with; the system's unless given. */
  readonly now?: () => Date;
}

/**
 * Where a service keeps its marks: a database of their own beside the service's, named
 * `<database>_marks`. On FerretDB a database is one SQLite file that takes one write at a time
 * (the launcher's lock), and the pipeline bench measured the service's writes queueing for it
 * (intake: 370 ms of waiting per incident at 0 stored, 1.1 s at 2,000, the marks' upserts and
 * their removals among the writes waited for); in their own file, marks queue only each other.
 * On MongoDB it is one more database, nothing else.
 */
export function pendingMarksDb(client: MongoClient, database: string): Db {
  return client.db(`${database}_marks`);
}

/** The marks collection beside `source` for one kind of pending work. */
export function pendingMarksName(source: string, kind: string): string {
  return `${source}_pending_${kind}`;
}

/** Marks of one kind beside each of the named collections of `db`, by collection name. */
export function marksFor(
  db: Db,
  sources: readonly string[],
  kind: string,
  options?: PendingMarksOptions,
): Record<string, PendingMarks> {
  return Object.fromEntries(
    sources.map((source) => [
      source,
      new PendingMarks(db.collection<PendingMarkDoc>(pendingMarksName(source, kind)), options),
    ]),
  );
}

/**
 * Pending marks: beside a source collection, a small collection holding one tiny document
 * `{_id, at}` per source document that may have pending work of one kind (events to publish,
 * an audit record to append, a merge to finish). A sweep reads the marks, whose scan is cheap
 * because the collection is small, and then each marked document by `_id` alone: on FerretDB
 * 1.24 only that filter is served from an index, and every other filter reads the whole source
 * collection, so a sweep over the source itself costs more as the data grows.
 *
 * **Write-ahead.** A writer upserts the mark (`$set: {at: now}`, by `_id`) *before* the write
 * that adds pending work, so stored pending work always has a mark. A crash in between leaves
 * a mark with nothing behind it, which a sweep removes.
 *
 * **Removal.** A sweep reads the document by `_id` at time r; only if it has nothing pending
 * does it delete the mark, with `{_id, at: {$lte: r - X}}` (`settle`). Why nothing is lost:
 * - a writer that marked after r - X has a newer `at`: the delete matches nothing, the mark
 *   stays, and the next sweep reads the document again (and finds its work once it lands);
 * - a writer that marked at or before r - X finished its write by r (X bounds how long a
 *   write may take after its mark), so the read at r saw its work, and the sweep did not delete.
 * A mark this process wrote is reused, without a new upsert, for `reuseMs` (`mark`): a write
 * that relies on it starts by `at + reuseMs` and must land by `at + X`. X must cover the
 * clock skew between replicas too (`at` is the writer's clock, r the sweeper's).
 *
 * **Sweeps read only marks older than some age** (`due`): the hot paths (the relay's
 * announcements, the request itself) handle fresh work, so a sweep's document reads are
 * bounded by what is stuck plus the marks between that age and X, not by the collection.
 *
 * **Safety net.** Documents written by a release before marks existed, or whose mark was lost
 * (a write slower than X), are found by a full read of the source that runs at start-up and
 * then rarely (`FullSweeps`); it marks what it finds (`adopt`).
 *
 * Plain single-document writes and an index on `at` for MongoDB: the same on both stores.
 */
export class PendingMarks {
  readonly collection: Collection<PendingMarkDoc>;
  readonly settleMs: number;
  readonly #reuseMs: number;
  readonly #now: () => Date;
  readonly #writes: GroupCommit<PendingMarkDoc>;
  /** Marks this process wrote, by id, with their `at` (ms), for `reuseMs`. */
  readonly #fresh = new Map<string, number>();
  /**
   * Marks a sweep here found with nothing pending while too young to remove, by id, with their
   * `at` (ms): not read again until they may be removed (see `due`).
   */
  readonly #clean = new Map<string, number>();

  constructor(collection: Collection<PendingMarkDoc>, options: PendingMarksOptions = {}) {
    this.collection = collection;
    this.settleMs = options.settleMs ?? 60_000;
    this.#reuseMs = Math.min(options.reuseMs ?? this.settleMs / 4, this.settleMs / 2);
    this.#now = options.now ?? (() => new Date());
    this.#writes = new GroupCommit(collection);
  }

  /** The index MongoDB serves `due` from (FerretDB scans the small collection anyway). */
  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { at: 1 }, name: 'by_age' }]);
  }

  now(): Date {
    return this.#now();
  }

  /**
   * Write-ahead: marks the documents, to be called before the write that gives them pending
   * work; resolves once the marks are stored. Many at once (a bulk insert of new documents)
   * go as one insert, with an upsert for those already marked.
   */
  async mark(ids: string | readonly string[]): Promise<void> {
    const all = typeof ids === 'string' ? [ids] : [...new Set(ids)];
    const at = this.#now();
    const stale = all.filter((id) => {
      const fresh = this.#fresh.get(id);
      return fresh === undefined || at.getTime() - fresh >= this.#reuseMs;
    });
    if (stale.length === 0) return;
    if (stale.length === 1) {
      await this.#writes.upsertById(stale[0]!, { $set: { at } });
    } else {
      let existing: string[] = [];
      try {
        await this.collection.insertMany(
          stale.map((_id) => ({ _id, at })),
          { ordered: false },
        );
      } catch (error) {
        const duplicates = duplicatePositions(error);
        if (!duplicates) throw error;
        existing = [...duplicates].map((i) => stale[i]!);
      }
      await Promise.all(existing.map((id) => this.#writes.upsertById(id, { $set: { at } })));
    }
    this.#remember(stale, at.getTime());
  }

  /**
   * Marks documents a full read found with pending work, keeping an existing mark's time (not
   * write-ahead: the work is there already).
   */
  async adopt(ids: readonly string[]): Promise<void> {
    const at = this.#now();
    await Promise.all(ids.map((id) => this.#writes.upsertById(id, { $setOnInsert: { at } })));
  }

  /**
   * Marks stamped at or before `upTo`, oldest first, at most `limit`; without those a sweep here
   * found clean and that are still too young to remove. Such a mark is read once more when it
   * may be removed: work whose write landed after the first read (and whose announcement was
   * lost) is published then, at most `settleMs` after its mark, rather than read for at every
   * sweep until then (a read by `_id` per sweep per document written, measured as the store's
   * costliest command per incident in the pipeline bench).
   */
  async due(upTo: Date, limit: number): Promise<PendingMark[]> {
    const docs = await this.collection
      .find({ at: { $lte: upTo } })
      .sort({ at: 1 })
      .limit(limit)
      .toArray();
    const settleBy = this.#now().getTime() - this.settleMs;
    return docs
      .filter((doc) => {
        const at = doc.at.getTime();
        if (this.#clean.get(doc._id) !== at) return true;
        if (at > settleBy) return false;
        this.#clean.delete(doc._id);
        return true;
      })
      .map((doc) => ({ id: doc._id, at: doc.at }));
  }

  /**
   * The document was read at `readAt` (taken before the read was sent) with nothing pending:
   * removes the mark, unless a writer has marked it since `readAt - settleMs` (see above).
   * Returns whether it asked the store (a mark younger than that is left without a write).
   */
  async settle(mark: PendingMark, readAt: Date): Promise<boolean> {
    const latest = readAt.getTime() - this.settleMs;
    if (mark.at.getTime() > latest) {
      if (this.#clean.size >= 100_000) this.#clean.clear();
      this.#clean.set(mark.id, mark.at.getTime());
      return false;
    }
    this.#clean.delete(mark.id);
    await this.collection.deleteOne({ _id: mark.id, at: { $lte: new Date(latest) } });
    return true;
  }

  #remember(ids: readonly string[], at: number): void {
    if (this.#reuseMs <= 0) return;
    // Forget what can no longer be reused before the map grows with every document written.
    if (this.#fresh.size > 10_000) {
      for (const [id, stamped] of this.#fresh) if (at - stamped >= this.#reuseMs) this.#fresh.delete(id);
    }
    for (const id of ids) this.#fresh.set(id, at);
  }
}

/**
 * When the safety net's full read of a source is due: at the first sweep (start-up), then
 * `everyMs` later, spaced by its own duration as any sweep (`sweepDelay`). A full read that
 * found a full batch goes on at the next sweep.
 */
export class FullSweeps {
  #next = 0;

  constructor(readonly everyMs = 3_600_000) {}

  due(now = performance.now()): boolean {
    return now >= this.#next;
  }

  /** A full read ended after `tookMs`; `more`: it found a full batch. */
  done(tookMs: number, more: boolean, now = performance.now()): void {
    this.#next = more ? 0 : now + sweepDelay(this.everyMs, tookMs);
  }

  /** A full read failed: tried again within `retryMs`, spaced by its duration. */
  failed(tookMs: number, retryMs: number, now = performance.now()): void {
    this.#next = now + sweepDelay(retryMs, tookMs);
  }
}

export interface PendingSweepOptions<T> {
  /** The document by `_id` alone (index-served on FerretDB), or null. */
  read(id: string): Promise<T | null>;
  /** Whether the document still has pending work of this kind, whatever its age. */
  pending(doc: T): boolean;
  /**
   * The safety net: documents with pending work, at most `limit`, those older than `before`
   * first where the store can tell (a full read on FerretDB).
   */
  scan(before: Date, limit: number): Promise<T[]>;
  /** How often the full read runs after the first; an hour unless given. */
  readonly fullSweepMs?: number;
  /** Marks read per sweep at most; 1,000 unless given. */
  readonly marksPerSweep?: number;
  /** Documents read by `_id` at once; 8 unless given. */
  readonly concurrency?: number;
}

/**
 * A recovery sweep over one kind of pending work, served from its marks (see `PendingMarks`):
 * `find` returns documents with pending work whose mark is at least as old as `before`, read by
 * `_id`, and removes the marks of documents found with nothing pending. At its first call, and
 * then every `fullSweepMs`, it reads the source instead (`scan`) and marks what it finds.
 */
export class PendingSweep<T extends { _id: string }> {
  readonly #full: FullSweeps;

  constructor(
    readonly marks: PendingMarks,
    private readonly options: PendingSweepOptions<T>,
  ) {
    this.#full = new FullSweeps(options.fullSweepMs);
  }

  /** Documents with pending work, at most `limit`; callers filter the work by age themselves. */
  async find(before: Date, limit: number): Promise<T[]> {
    if (this.#full.due()) {
      const started = performance.now();
      try {
        const docs = await this.options.scan(before, limit);
        await this.marks.adopt(docs.map((doc) => doc._id));
        this.#full.done(performance.now() - started, docs.length >= limit);
        return docs;
      } catch (error) {
        this.#full.failed(performance.now() - started, 60_000);
        throw error;
      }
    }
    const due = await this.marks.due(before, this.options.marksPerSweep ?? 1_000);
    const found: T[] = [];
    const concurrency = this.options.concurrency ?? 8;
    for (let i = 0; i < due.length && found.length < limit; i += concurrency) {
      const docs = await Promise.all(
        due.slice(i, i + concurrency).map(async (mark) => {
          const readAt = this.marks.now();
          const doc = await this.options.read(mark.id);
          if (doc && this.options.pending(doc)) return doc;
          await this.marks.settle(mark, readAt);
          return undefined;
        }),
      );
      for (const doc of docs) if (doc && found.length < limit) found.push(doc);
    }
    return found;
  }
}
