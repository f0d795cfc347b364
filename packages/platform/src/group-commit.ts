import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
  type Filter,
  type UpdateFilter,
} from 'mongodb';

/** Documents one insert command carries at most; the rest go in the next. */
const MAX_INSERTS = 1_000;

/**
 * Statements one update command may carry on FerretDB 1.24. Its update handler keeps each
 * statement's query open until the whole command ends, one SQLite connection each, and a
 * database has 100: a command of about a hundred matching statements then waits forever for
 * a connection to write with, and every later command on that database waits behind it
 * (seen in a submission burst: 100 cursors open, the store stalled for good). Fifty leaves
 * room for the reads running beside it.
 */
export const MAX_UPDATE_STATEMENTS = 50;

/** What became of one operation of a batch: done, a duplicate `_id`, or its own error. */
export type Outcome = 'done' | 'duplicate' | Error;

interface Waiting<Op> {
  readonly ops: readonly Op[];
  readonly settle: (outcomes: Outcome[]) => void;
  readonly fail: (error: unknown) => void;
}

/**
 * Runs one command at a time; operations that arrive meanwhile wait and go out together in the
 * next. Each caller gets the outcome of its own operations. `write` returns the outcomes that
 * are not 'done', by position in the operations it was given.
 */
export class Batcher<Op> {
  #waiting: Waiting<Op>[] = [];
  #writing = false;

  constructor(
    /** Operations per command at most (a caller with more goes alone). */
    private readonly max: number,
    private readonly write: (ops: Op[]) => Promise<Map<number, Outcome>>,
  ) {}

  submit(ops: readonly Op[]): Promise<Outcome[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return new Promise((settle, fail) => {
      this.#waiting.push({ ops, settle, fail });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#waiting.length > 0) {
      // Whole callers only, so one caller's operations are never split across commands.
      const batch: Waiting<Op>[] = [];
      let size = 0;
      while (
        this.#waiting.length > 0 &&
        (batch.length === 0 || size + this.#waiting[0]!.ops.length <= this.max)
      ) {
        const next = this.#waiting.shift()!;
        batch.push(next);
        size += next.ops.length;
      }
      try {
        const failed = await this.write(batch.flatMap((w) => w.ops));
        let at = 0;
        for (const waiting of batch) {
          waiting.settle(waiting.ops.map((_, i) => failed.get(at + i) ?? 'done'));
          at += waiting.ops.length;
        }
      } catch (error) {
        // The command as a whole failed (the server went away, say): nobody's write is known.
        for (const waiting of batch) waiting.fail(error);
      }
    }
    this.#writing = false;
  }
}

/** The operations of an unordered bulk write that failed, by position; anything else throws. */
function failures(error: unknown): Map<number, Outcome> {
  if (!(error instanceof MongoBulkWriteError) || error.writeConcernError) throw error;
  const writeErrors = [error.writeErrors].flat();
  if (writeErrors.length === 0) throw error;
  return new Map(
    writeErrors.map((e): [number, Outcome] => [
      e.index,
      e.code === 11000 ? 'duplicate' : Object.assign(new Error(e.errmsg ?? 'write failed'), { code: e.code }),
    ]),
  );
}

function unwrap(outcomes: Outcome[]): Outcome[] {
  for (const outcome of outcomes) if (outcome instanceof Error) throw outcome;
  return outcomes;
}

/**
 * Group commit for one collection: inserts, and updates by `_id`, that callers make at the same
 * time are sent as one unordered command per kind instead of one each. On FerretDB a database
 * takes one write at a time, so a burst of single writes queues behind each other's round
 * trips; one command of many documents takes the lock once. A caller's promise settles when the
 * command carrying its operations has been acknowledged, so it sees its writes as before.
 *
 * Each operation is independent, as a single write would be: there is no atomicity across
 * them. An insert that fails on its own (a duplicate `_id`, say) does not fail the others';
 * a failed update fails every update of its batch (see below).
 */
export class GroupCommit<T extends Document & { _id: string | number }> {
  readonly #inserts: Batcher<OptionalUnlessRequiredId<T>>;
  readonly #updates: Batcher<AnyBulkWriteOperation<T>>;

  constructor(readonly collection: Collection<T>) {
    this.#inserts = new Batcher(MAX_INSERTS, async (docs) => {
      try {
        await collection.insertMany(docs, { ordered: false });
        return new Map();
      } catch (error) {
        return failures(error);
      }
    });
    // An update's failure fails its whole batch: FerretDB 1.24 stops an unordered update
    // command at its first error and reports it at position 0, so which of the others were
    // applied is not known. (Beacon's updates by `_id` are idempotent; callers may retry.)
    this.#updates = new Batcher(MAX_UPDATE_STATEMENTS, async (ops) => {
      await collection.bulkWrite(ops, { ordered: false });
      return new Map();
    });
  }

  /**
   * Inserts the documents; for each, `true` if stored, `false` if a unique index (its `_id`'s,
   * usually) already holds its key.
   */
  async insert(docs: readonly OptionalUnlessRequiredId<T>[]): Promise<boolean[]> {
    return unwrap(await this.#inserts.submit(docs)).map((outcome) => outcome === 'done');
  }

  /** Inserts one document: `true` if stored, `false` if a unique index already holds its key. */
  async insertOne(doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
    const [stored] = await this.insert([doc]);
    return stored!;
  }

  /**
   * Applies the update to the document with this `_id`, if there is one. The filter is the
   * `_id` alone: FerretDB 1.24 serves only that filter from an index. When it rejects, the
   * update may or may not have been applied.
   */
  async updateById(_id: T['_id'], update: UpdateFilter<T>): Promise<void> {
    unwrap(await this.#updates.submit([{ updateOne: { filter: { _id } as Filter<T>, update } }]));
  }

  /** As `updateById`, creating the document (with this `_id`) when there is none. */
  async upsertById(_id: T['_id'], update: UpdateFilter<T>): Promise<void> {
    unwrap(
      await this.#updates.submit([{ updateOne: { filter: { _id } as Filter<T>, update, upsert: true } }]),
    );
  }
}
