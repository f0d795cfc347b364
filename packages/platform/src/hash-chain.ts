import { createHash } from 'node:crypto';
import type { Collection, Db, MongoBulkWriteError, OptionalUnlessRequiredId } from 'mongodb';
import { isDuplicateKeyError } from './mongo.js';

/** A record as stored: its fields, its position in the chain and the chain's hashes. */
export type ChainDoc<F extends object> = F & {
  /** Position in the chain, from 1, without gaps. */
  _id: number;
  prevHash: string;
  hash: string;
};

export type ChainVerification =
  | { readonly ok: true; readonly records: number; readonly head: string }
  | { readonly ok: false; readonly records: number; readonly brokenAt: number; readonly problem: string };

interface HeadDoc {
  _id: 'head';
  seq: number;
  hash: string;
}

const GENESIS = '0'.repeat(64);
/** Appends waiting while a write is under way go together, this many at most. */
const GROUP = 500;

/**
 * An append-only, hash-chained log in a collection of its own (audit records). Each record
 * names its predecessor's hash, so altering, inserting, removing or reordering one breaks every
 * hash after it. A record's position is its `_id`: two writers (replicas) racing for the same
 * position collide on the unique `_id`, and the loser goes again after the real end, so the
 * chain never forks. A head document points at the last record, so appending reads one
 * document by its string `_id` (FerretDB serves only a string or ObjectId `_id` from an index;
 * a record's numeric position it finds by scanning the log) instead of sorting the log.
 * Appends made while a write is under way are written together in one ordered insert (group
 * commit): concurrent callers cost one insert, not one each, and do not race each other.
 */
export class HashChain<F extends object> {
  readonly collection: Collection<ChainDoc<F>>;
  /** The same collection, seen only as the chain's own fields. */
  readonly #links: Collection<{ _id: number; prevHash: string; hash: string }>;
  readonly #head: Collection<HeadDoc>;
  /**
   * The record's fields in a fixed order, as hashed (after its position and its predecessor's
   * hash). Fields a record lacks are given as null, as a stored record reads back.
   */
  readonly #canonical: (fields: F) => readonly unknown[];
  /** The end of the chain as this process last wrote or found it: appending usually skips reading the head. */
  #known: { seq: number; hash: string } | undefined;
  #queue: { fields: F; done: (error?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Db, name: string, canonical: (fields: F) => readonly unknown[]) {
    this.collection = db.collection<ChainDoc<F>>(name);
    this.#links = db.collection(name);
    this.#head = db.collection<HeadDoc>(`${name}_head`);
    this.#canonical = canonical;
  }

  /** Resolves once the record is in the chain. */
  append(fields: F): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ fields, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.#writing) void this.#drain();
    });
  }

  #hash(prevHash: string, seq: number, fields: F): string {
    return createHash('sha256')
      .update(JSON.stringify([seq, prevHash, ...this.#canonical(fields)]))
      .digest('hex');
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, GROUP);
      try {
        await this.#write(batch.map((b) => b.fields));
        for (const b of batch) b.done();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error('append failed', { cause: error });
        for (const b of batch) b.done(failure);
      }
    }
    this.#writing = false;
  }

  async #write(batch: readonly F[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; attempt < 100; attempt++) {
      const head = this.#known ?? (await this.#head.findOne({ _id: 'head' })) ?? { seq: 0, hash: GENESIS };
      this.#known = undefined;
      let prevHash = head.hash;
      const docs = pending.map((fields, i) => {
        const seq = head.seq + 1 + i;
        const hash = this.#hash(prevHash, seq, fields);
        const doc = { ...fields, _id: seq, prevHash, hash } as ChainDoc<F>;
        prevHash = hash;
        return doc;
      });
      try {
        await this.collection.insertMany(docs as OptionalUnlessRequiredId<ChainDoc<F>>[], { ordered: true });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Another writer (another replica) took a position. Ours inserted before the collision
        // are in the chain; the rest go after the real end.
        const inserted = (error as MongoBulkWriteError).insertedCount;
        pending = pending.slice(inserted);
        this.#known = await this.#catchUp(head, head.seq + 1 + inserted);
        if (pending.length === 0) return;
        continue;
      }
      const last = docs.at(-1)!;
      await this.#advance(head.seq, last._id, last.hash);
      this.#known = { seq: last._id, hash: last.hash };
      return;
    }
    throw new Error(`${this.collection.collectionName}: could not append after 100 attempts`);
  }

  /**
   * Finds where the next append goes after colliding at position `taken`, having started from
   * `from`. The head usually names it already: the writer that took the position moves the head
   * right after its insert, and the head is read by its string `_id`. Records are not: FerretDB
   * serves only a string or ObjectId `_id` from its index, so each read of a record by its
   * numeric position scans the whole log, and a replica catching up record by record cost one
   * scan per record the other wrote. Only while the head is still short of `taken` (its writer
   * between insert and head move, or gone) are records read, past the head, in one query, and
   * the head moved to their end in one write.
   */
  async #catchUp(from: { seq: number; hash: string }, taken: number): Promise<{ seq: number; hash: string }> {
    const head = await this.#head.findOne({ _id: 'head' });
    if (head && head.seq >= taken) return { seq: head.seq, hash: head.hash };
    const headSeq = head?.seq ?? 0;
    let end = head && head.seq > from.seq ? { seq: head.seq, hash: head.hash } : from;
    const beyond = this.#links.find({ _id: { $gt: end.seq } }, { projection: { hash: 1 } }).sort({ _id: 1 });
    for await (const next of beyond) {
      if (next._id !== end.seq + 1) break; // positions have no gaps; anything else is for verify()
      end = { seq: next._id, hash: next.hash };
    }
    if (end.seq > headSeq) await this.#advance(headSeq, end.seq, end.hash);
    return end;
  }

  /** Moves the head from `from` to `to`, unless another writer already moved it on. */
  async #advance(from: number, to: number, hash: string): Promise<void> {
    try {
      await this.#head.updateOne(
        { _id: 'head', seq: from },
        { $set: { seq: to, hash } },
        { upsert: from === 0 },
      );
    } catch (error) {
      // Two first appenders both creating the head: the other one did it, which is as good.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** Walks the whole chain: detects an altered, inserted, reordered or removed record. */
  async verify(): Promise<ChainVerification> {
    let prevHash = GENESIS;
    let expected = 1;
    for await (const doc of this.#links.find().sort({ _id: 1 })) {
      const { _id, prevHash: storedPrev, hash, ...fields } = doc;
      if (_id !== expected) {
        return {
          ok: false,
          records: expected - 1,
          brokenAt: expected,
          problem: `record ${expected} is missing`,
        };
      }
      if (storedPrev !== prevHash || this.#hash(prevHash, _id, fields as unknown as F) !== hash) {
        return {
          ok: false,
          records: expected - 1,
          brokenAt: _id,
          problem: `record ${_id} does not match its hash`,
        };
      }
      prevHash = hash;
      expected += 1;
    }
    // The head remembers the last record, so a removed tail shows. A head behind the chain
    // is what a crash between a record and its head update leaves; the next append repairs it.
    const head = await this.#head.findOne({ _id: 'head' });
    const last = expected - 1;
    if (head && head.seq > last) {
      return {
        ok: false,
        records: last,
        brokenAt: expected,
        problem: `the chain ends at record ${last} but its head names record ${head.seq}`,
      };
    }
    if (head && head.seq > 0 && head.hash !== (await this.#links.findOne({ _id: head.seq }))?.hash) {
      return {
        ok: false,
        records: last,
        brokenAt: head.seq,
        problem: `record ${head.seq} does not match the head`,
      };
    }
    return { ok: true, records: last, head: prevHash };
  }
}
