import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db, OptionalUnlessRequiredId } from 'mongodb';

/**
 * A record as stored: its fields and the chain's hashes. Its `_id` says when it was written,
 * by which writer's chain and at which position in it: `<ms, 13 digits>.<chain>.<position, 10
 * digits>`, so one writer's records sort in their order, and the log sorted by `_id` is in the
 * order of writing as far as the writers' clocks agree.
 */
export type ChainDoc<F extends object> = F & {
  _id: string;
  prevHash: string;
  hash: string;
  /**
   * Other chains' ends as this writer saw them (see `HashChain`), on some records. Objects, not
   * pairs: FerretDB stores no nested arrays.
   */
  anchors?: ChainEnd[];
};

/** Where a record sits: which writer's chain, which position in it (from 1, without gaps). */
export interface ChainPosition {
  readonly chain: string;
  readonly seq: number;
}

/** A record named by its id, with the hash it must have: a chain's end, kept as a checkpoint. */
export interface ChainEnd {
  readonly id: string;
  readonly hash: string;
}

export type ChainVerification =
  | {
      readonly ok: true;
      readonly records: number;
      readonly chains: number;
      /** Each chain's last record checked: pass them to a later `verify` as its checkpoint. */
      readonly ends: readonly ChainEnd[];
      /** SHA-256 over `ends`: one value naming them. */
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

/**
 * A service's audit log as its use cases see it: `HashChain` behind the service's own record
 * type, so the use cases and their test doubles need no store.
 */
export interface ChainedLog<R> {
  /** Resolves once the record is stored. */
  append(record: R): Promise<void>;
  /**
   * Walks every chain: finds an altered, inserted, reordered or removed record, and any
   * record of `checkpoint` (ends of an earlier verification) missing or different.
   */
  verify(checkpoint?: readonly ChainEnd[]): Promise<ChainVerification>;
}

/**
 * A verification as the `VerifyAuditChainResponse` of every service carries it, but for
 * `head_hash`, which only some of them return: zero values in the fields the outcome leaves
 * out, as proto3 has them.
 */
export function chainVerificationReply(result: ChainVerification) {
  return result.ok
    ? {
        ok: true,
        records: result.records,
        brokenAt: 0,
        problem: '',
        chains: result.chains,
        brokenChain: '',
        ends: result.ends.map((e) => ({ recordId: e.id, hash: e.hash })),
      }
    : {
        ok: false,
        records: result.records,
        brokenAt: result.brokenAt,
        problem: result.problem,
        chains: 0,
        brokenChain: result.chain,
        ends: [],
      };
}

/** A chain's end as its writer last recorded it: a removed tail shows against it. */
interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
  /** The id of the record at `seq`. */
  last: string;
  at: Date;
}

const GENESIS = '0'.repeat(64);
/** Appends waiting while a write is under way go together, this many at most. */
const GROUP = 500;
/** How often a writer records the other chains' ends in its own (and so vouches for them). */
const ANCHOR_MS = 60_000;
/**
 * Records this recent past their chain's head (as read when verification began) may still be
 * arriving behind the scan; they are left to the next verification.
 */
const SETTLING_MS = 60_000;
const MAX_SEQ = 9_999_999_999;
const RECORD_ID = /^(\d{13})\.([0-9a-f]{16})\.(\d{10})$/;
const HASH = /^[0-9a-f]{64}$/;

/** The position a record's `_id` names, or undefined for an id no writer makes. */
export function chainPosition(id: string): ChainPosition | undefined {
  const parts = RECORD_ID.exec(id);
  return parts ? { chain: parts[2]!, seq: Number(parts[3]) } : undefined;
}

/** Whether a string is a record id as a writer makes them (for page tokens). */
export function isChainRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

/** Ends a caller may pass to `verify` at once. */
export const MAX_CHECKPOINT = 10_000;

/** What is wrong with a checkpoint from a caller, as field paths below `field` and what. */
export function checkpointProblems(
  field: string,
  ends: readonly ChainEnd[],
): { readonly field: string; readonly description: string }[] {
  if (ends.length > MAX_CHECKPOINT)
    return [{ field, description: `has ${ends.length} chain ends; at most ${MAX_CHECKPOINT}` }];
  return ends.flatMap((end, i) => [
    ...(RECORD_ID.test(end.id)
      ? []
      : [{ field: `${field}[${i}].record_id`, description: 'is not an audit record id' }]),
    ...(HASH.test(end.hash)
      ? []
      : [{ field: `${field}[${i}].hash`, description: 'is not a SHA-256 in lowercase hex' }]),
  ]);
}

/**
 * An append-only, hash-chained log in a collection of its own (audit records), written by
 * every replica of a service without any of them waiting for another: each writer (each
 * instance of this class, one per process) appends to a chain of its own, named at random when
 * it first writes. Each record's hash covers its id (chain and position), its predecessor's
 * hash and its fields, so altering, removing, inserting, reordering or moving a record between
 * chains breaks its chain from there on; a head document per chain names the chain's last
 * record, so a removed tail shows too.
 *
 * A whole chain removed with its head, or one made up, leaves nothing broken in itself. Two
 * things catch that. Every writer records the ends of the other chains active lately in its
 * own chain when it starts one and every `ANCHOR_MS` while it writes (one read of the heads),
 * so each chain vouches for the others: verification requires every record so named, with its
 * hash. And a verification returns every chain's end: kept outside the store and passed back
 * later as a checkpoint, they prove nothing up to them has changed since (the hashes have no
 * key, so whoever can write the store can rewrite a chain consistently; only ends kept
 * elsewhere catch that).
 *
 * One chain for all replicas would give one total order, but every replica would contend for
 * its end: with two intake instances the appends collided most of the time and each collision
 * cost reads to catch up. A writer owning its chain reads nothing to append (but the heads
 * once a minute), so replicas add no work to each other. Within a chain the order is exact;
 * across chains it is the writers' clocks.
 *
 * Appends made while a write is under way are written together in one ordered insert (group
 * commit), then the head is moved: two writes per group, whatever its size. A write that fails
 * (the store went away mid-insert) may have stored part of the group, so the writer does not
 * guess where its chain ends: it starts a new chain and the old one stays as it was left, its
 * head short of its end (which verification accepts: a crash between insert and head leaves the
 * same). The callers of a failed group get the error even if their record was stored.
 */
export class HashChain<F extends object> {
  readonly collection: Collection<ChainDoc<F>>;
  /** The same collection, seen only as the chain's own fields. */
  readonly #links: Collection<{
    _id: string;
    prevHash: string;
    hash: string;
    anchors?: ChainEnd[];
  }>;
  readonly #heads: Collection<HeadDoc>;
  /**
   * The record's fields in a fixed order, as hashed (after its id, its predecessor's hash and
   * its anchors). Fields a record lacks are given as null, as a stored record reads back.
   */
  readonly #canonical: (fields: F) => readonly unknown[];
  /** This writer's chain and its end; none until the first append (or after a failed write). */
  #end: { chain: string; seq: number; hash: string; ms: number; anchoredMs: number } | undefined;
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

  #hash(id: string, prevHash: string, anchors: readonly ChainEnd[] | undefined, fields: F): string {
    const named = anchors?.map((a) => [a.id, a.hash]) ?? null;
    return createHash('sha256')
      .update(JSON.stringify([id, prevHash, named, ...this.#canonical(fields)]))
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
    const end = this.#end ?? {
      chain: randomBytes(8).toString('hex'),
      seq: 0,
      hash: GENESIS,
      ms: 0,
      anchoredMs: Number.NEGATIVE_INFINITY,
    };
    this.#end = undefined; // until the group is known to be written
    if (end.seq + batch.length > MAX_SEQ) throw new Error(`${this.collection.collectionName}: chain full`);
    // Ids sort in writing order only if this chain's clock never goes back.
    const ms = Math.max(end.ms, Date.now());
    let anchors: ChainEnd[] | undefined;
    let anchoredMs = end.anchoredMs;
    if (ms - anchoredMs >= ANCHOR_MS) {
      const heads = await this.#heads
        .find({ at: { $gte: new Date(ms - 2 * ANCHOR_MS) } }, { projection: { last: 1, hash: 1 } })
        .toArray();
      anchors = heads
        .filter((h) => h._id !== end.chain)
        .map((h) => ({ id: h.last, hash: h.hash }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      anchoredMs = ms;
    }
    const stamp = String(ms).padStart(13, '0');
    let prevHash = end.hash;
    const docs = batch.map((fields, i) => {
      const _id = `${stamp}.${end.chain}.${String(end.seq + 1 + i).padStart(10, '0')}`;
      const own = i === 0 && anchors !== undefined && anchors.length > 0 ? anchors : undefined;
      const doc = {
        ...fields,
        _id,
        prevHash,
        hash: this.#hash(_id, prevHash, own, fields),
        ...(own ? { anchors: own } : {}),
      } as ChainDoc<F>;
      prevHash = doc.hash;
      return doc;
    });
    await this.collection.insertMany(docs as OptionalUnlessRequiredId<ChainDoc<F>>[], { ordered: true });
    const seq = end.seq + docs.length;
    await this.#heads.updateOne(
      { _id: end.chain },
      { $set: { seq, hash: prevHash, last: docs.at(-1)!._id, at: new Date(ms) } },
      { upsert: true },
    );
    this.#end = { chain: end.chain, seq, hash: prevHash, ms, anchoredMs };
  }

  /**
   * Walks the whole log once, in `_id` order, every chain at once: detects an altered,
   * inserted, reordered, moved or removed record, a tail removed short of its chain's head, and
   * a record named by another chain's anchors or by `checkpoint` (ends an earlier verification
   * returned) that is missing or different.
   */
  async verify(checkpoint: readonly ChainEnd[] = []): Promise<ChainVerification> {
    const startedMs = Date.now();
    const heads = new Map<string, HeadDoc>();
    for await (const head of this.#heads.find()) heads.set(head._id, head);
    const ends = new Map<string, { seq: number; hash: string; id: string }>();
    /** Records named with the hash they must have, ahead of the scan. */
    const named = new Map<string, string>();
    /** Records named after the scan passed them: looked up at the end. */
    const passed: ChainEnd[] = [];
    const name = (id: string, hash: string, scanned: string) => {
      if (id <= scanned) passed.push({ id, hash });
      else if (named.has(id) && named.get(id) !== hash) passed.push({ id, hash });
      else named.set(id, hash);
    };
    for (const end of checkpoint) name(end.id, end.hash, '');
    /** Chains whose newest records are still settling: the rest of them waits for next time. */
    const settling = new Set<string>();
    let records = 0;
    const broken = (chain: string, brokenAt: number, problem: string): ChainVerification => ({
      ok: false,
      records,
      chain,
      brokenAt,
      problem,
    });
    for await (const doc of this.#links.find().sort({ _id: 1 })) {
      const { _id, prevHash, hash, anchors, ...fields } = doc;
      const at = chainPosition(_id);
      if (at === undefined) return broken('', 0, `record ${JSON.stringify(_id)} is not a chain record`);
      if (settling.has(at.chain)) continue;
      const head = heads.get(at.chain);
      if ((head === undefined || at.seq > head.seq) && Number(_id.slice(0, 13)) >= startedMs - SETTLING_MS) {
        settling.add(at.chain);
        continue;
      }
      const end = ends.get(at.chain) ?? { seq: 0, hash: GENESIS, id: '' };
      if (at.seq !== end.seq + 1) {
        return broken(at.chain, end.seq + 1, `record ${end.seq + 1} of chain ${at.chain} is missing`);
      }
      if (prevHash !== end.hash || this.#hash(_id, end.hash, anchors, fields as unknown as F) !== hash) {
        return broken(at.chain, at.seq, `record ${at.seq} of chain ${at.chain} does not match its hash`);
      }
      if (head && head.seq === at.seq && head.hash !== hash) {
        return broken(
          at.chain,
          at.seq,
          `record ${at.seq} of chain ${at.chain} does not match the chain's head`,
        );
      }
      const wanted = named.get(_id);
      if (wanted !== undefined) {
        if (wanted !== hash) {
          return broken(
            at.chain,
            at.seq,
            `record ${at.seq} of chain ${at.chain} is not the one named by a checkpoint or another chain`,
          );
        }
        named.delete(_id);
      }
      for (const anchor of anchors ?? []) name(anchor.id, anchor.hash, _id);
      ends.set(at.chain, { seq: at.seq, hash, id: _id });
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
    for (const { id, hash } of [...[...named].map(([id, hash]) => ({ id, hash })), ...passed]) {
      const found = await this.#links.findOne({ _id: id }, { projection: { hash: 1 } });
      const at = chainPosition(id) ?? { chain: '', seq: 0 };
      const verified = found !== null && (ends.get(at.chain)?.seq ?? 0) >= at.seq;
      if (!verified || found.hash !== hash) {
        return broken(
          at.chain,
          at.seq,
          found === null
            ? `record ${at.seq} of chain ${at.chain}, named by a checkpoint or another chain, is missing`
            : `record ${at.seq} of chain ${at.chain} is not the one named by a checkpoint or another chain`,
        );
      }
    }
    const chainEnds = [...ends.values()]
      .map(({ id, hash }) => ({ id, hash }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      ok: true,
      records,
      chains: ends.size,
      ends: chainEnds,
      head: createHash('sha256')
        .update(JSON.stringify(chainEnds.map((e) => [e.id, e.hash])))
        .digest('hex'),
    };
  }
}
