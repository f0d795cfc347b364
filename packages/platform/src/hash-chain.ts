import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db, OptionalUnlessRequiredId } from 'mongodb';

/**
 * A record as stored: its fields and the chain's hashes. Its `_id` says when it was written,
 * by which writer's chain and at which position in it: `<ms, 13 digits>.<chain>.<position, 10
 * digits>`, so the log sorted by `_id` is in the order of writing, every chain's records in
 * their own order within it.
 */
export type ChainDoc<F extends object> = F & {
  _id: string;
  prevHash: string;
  hash: string;
};

/** Where a record sits: which writer's chain, which position in it (from 1, without gaps). */
export interface ChainPosition {
  readonly chain: string;
  readonly seq: number;
}

export type ChainVerification =
  | {
      readonly ok: true;
      readonly records: number;
      readonly chains: number;
      /** A digest of every chain's last record: publish it to detect a removed tail later. */
      readonly head: string;
    }
  | {
      readonly ok: false;
      /** Records verified before the first problem. */
      readonly records: number;
      readonly chain: string;
      readonly brokenAt: number;
      readonly problem: string;
    };

/** A chain's end as its writer last recorded it: a removed tail shows against it. */
interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
}

const GENESIS = '0'.repeat(64);
/** Appends waiting while a write is under way go together, this many at most. */
const GROUP = 500;
const RECORD_ID = /^(\d{13})\.([0-9a-f]{16})\.(\d{10})$/;

/** The position a record's `_id` names, or undefined for an id no writer makes. */
export function chainPosition(id: string): ChainPosition | undefined {
  const parts = RECORD_ID.exec(id);
  return parts ? { chain: parts[2]!, seq: Number(parts[3]) } : undefined;
}

/** Whether a string is a record id as a writer makes them (for page tokens). */
export function isChainRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

/**
 * An append-only, hash-chained log in a collection of its own (audit records), written by
 * every replica of a service without any of them waiting for another: each writer (each
 * instance of this class, one per process) appends to a chain of its own, named at random when
 * it first writes. Each record names its predecessor's hash and its own id (with chain and
 * position), so altering, inserting, removing, reordering or moving a record between chains
 * breaks its chain from there on, and a head document per chain names the chain's last record,
 * so a removed tail shows too.
 *
 * One chain for all replicas would give one total order, but every replica would contend for
 * its end: with two intake instances the appends collided most of the time and each collision
 * cost reads to catch up. A writer owning its chain never reads the log to append, so replicas
 * add no work to each other. The order that matters across writers is the time each record
 * carries; within a chain the order is exact.
 *
 * Appends made while a write is under way are written together in one ordered insert (group
 * commit), then the head is moved: two writes per group, whatever its size. A write that fails
 * (the store went away mid-insert) may have stored part of the group, so the writer does not
 * guess where its chain ends: it starts a new chain and the old one stays as it was left, its
 * head short of its end (which verification accepts: a crash between insert and head leaves the
 * same).
 */
export class HashChain<F extends object> {
  readonly collection: Collection<ChainDoc<F>>;
  /** The same collection, seen only as the chain's own fields. */
  readonly #links: Collection<{ _id: string; prevHash: string; hash: string }>;
  readonly #heads: Collection<HeadDoc>;
  /**
   * The record's fields in a fixed order, as hashed (after its id and its predecessor's hash).
   * Fields a record lacks are given as null, as a stored record reads back.
   */
  readonly #canonical: (fields: F) => readonly unknown[];
  /** This writer's chain and its end; none until the first append (or after a failed write). */
  #end: { chain: string; seq: number; hash: string; ms: number } | undefined;
  #queue: { fields: F; done: (error?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Db, name: string, canonical: (fields: F) => readonly unknown[]) {
    this.collection = db.collection<ChainDoc<F>>(name);
    this.#links = db.collection(name);
    this.#heads = db.collection<HeadDoc>(`${name}_head`);
    this.#canonical = canonical;
  }

  /** Resolves once the record is in the chain. */
  append(fields: F): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ fields, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.#writing) void this.#drain();
    });
  }

  #hash(id: string, prevHash: string, fields: F): string {
    return createHash('sha256')
      .update(JSON.stringify([id, prevHash, ...this.#canonical(fields)]))
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
    const end = this.#end ?? { chain: randomBytes(8).toString('hex'), seq: 0, hash: GENESIS, ms: 0 };
    // Ids sort in writing order only if this chain's clock never goes back.
    const ms = Math.max(end.ms, Date.now());
    const stamp = String(ms).padStart(13, '0');
    let prevHash = end.hash;
    const docs = batch.map((fields, i) => {
      const _id = `${stamp}.${end.chain}.${String(end.seq + 1 + i).padStart(10, '0')}`;
      const doc = { ...fields, _id, prevHash, hash: this.#hash(_id, prevHash, fields) } as ChainDoc<F>;
      prevHash = doc.hash;
      return doc;
    });
    this.#end = undefined; // until the group is known to be written
    await this.collection.insertMany(docs as OptionalUnlessRequiredId<ChainDoc<F>>[], { ordered: true });
    const seq = end.seq + docs.length;
    await this.#heads.updateOne({ _id: end.chain }, { $set: { seq, hash: prevHash } }, { upsert: true });
    this.#end = { chain: end.chain, seq, hash: prevHash, ms };
  }

  /**
   * Walks the whole log once, in `_id` order, every chain at once: detects an altered,
   * inserted, reordered, moved or removed record, and a tail removed short of its chain's head.
   * A whole chain removed with its head leaves nothing to compare with here: the digest of
   * every chain's end (`head`), published outside the store, is what shows that.
   */
  async verify(): Promise<ChainVerification> {
    const heads = new Map<string, HeadDoc>();
    for await (const head of this.#heads.find()) heads.set(head._id, head);
    const ends = new Map<string, { seq: number; hash: string }>();
    let records = 0;
    const broken = (chain: string, brokenAt: number, problem: string): ChainVerification => ({
      ok: false,
      records,
      chain,
      brokenAt,
      problem,
    });
    for await (const doc of this.#links.find().sort({ _id: 1 })) {
      const { _id, prevHash, hash, ...fields } = doc;
      const at = chainPosition(_id);
      if (at === undefined) return broken('', 0, `record ${JSON.stringify(_id)} is not a chain record`);
      const end = ends.get(at.chain) ?? { seq: 0, hash: GENESIS };
      if (at.seq !== end.seq + 1) {
        return broken(at.chain, end.seq + 1, `record ${end.seq + 1} of chain ${at.chain} is missing`);
      }
      if (prevHash !== end.hash || this.#hash(_id, end.hash, fields as unknown as F) !== hash) {
        return broken(at.chain, at.seq, `record ${at.seq} of chain ${at.chain} does not match its hash`);
      }
      const head = heads.get(at.chain);
      if (head && head.seq === at.seq && head.hash !== hash) {
        return broken(
          at.chain,
          at.seq,
          `record ${at.seq} of chain ${at.chain} does not match the chain's head`,
        );
      }
      ends.set(at.chain, { seq: at.seq, hash });
      records += 1;
    }
    // A head behind its chain is what a crash between a group and its head update leaves.
    for (const head of heads.values()) {
      const end = ends.get(head._id)?.seq ?? 0;
      if (head.seq > end) {
        return broken(
          head._id,
          end + 1,
          `chain ${head._id} ends at record ${end} but its head names record ${head.seq}`,
        );
      }
    }
    const summary = [...ends]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([chain, e]) => [chain, e.seq, e.hash]);
    return {
      ok: true,
      records,
      chains: ends.size,
      head: createHash('sha256').update(JSON.stringify(summary)).digest('hex'),
    };
  }
}
