import { createHash } from 'node:crypto';
import type { Collection, Db, MongoBulkWriteError } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@beacon/platform';
import type { AuditAction, AuditEntry, AuditLog, AuditVerification } from '../../app/ports.js';

interface AuditDoc {
  /** Position in the chain, from 1, without gaps. */
  _id: number;
  at: Date;
  actor: string;
  actorOrgId: string | null;
  action: string;
  caseIds: string[];
  detail: string;
  prevHash: string;
  hash: string;
}

interface HeadDoc {
  _id: 'head';
  seq: number;
  hash: string;
}

const GENESIS = '0'.repeat(64);
/** Appends waiting while a write is under way go together, this many at most. */
const GROUP = 500;

function chainHash(prevHash: string, seq: number, e: Omit<AuditDoc, '_id' | 'prevHash' | 'hash'>): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        seq,
        prevHash,
        e.at.toISOString(),
        e.actor,
        e.actorOrgId,
        e.action,
        e.caseIds,
        e.detail,
      ]),
    )
    .digest('hex');
}

/**
 * The victims service's audit log: append-only and hash-chained (each record carries its
 * predecessor's hash, so altering, inserting, removing or reordering one breaks every hash
 * after it). A record's position is its `_id`: two writers (replicas) racing for a position
 * collide on it and the loser goes again on top of the winner, so the chain never forks.
 * Appends that arrive while one is being written are written together (group commit), so
 * concurrent reads of personal data cost one insert, not one each.
 */
export class MongoAuditLog implements AuditLog {
  readonly collection: Collection<AuditDoc>;
  readonly #head: Collection<HeadDoc>;
  #known: { seq: number; hash: string } | undefined;
  #queue: { entry: AuditEntry; done: (error?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Db) {
    this.collection = db.collection<AuditDoc>('audit');
    this.#head = db.collection<HeadDoc>('audit_head');
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { caseIds: 1, _id: 1 }, name: 'by_case' }]);
  }

  append(entry: AuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, done: (error) => (error ? reject(error) : resolve()) });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, GROUP);
      try {
        await this.#write(batch.map((b) => b.entry));
        for (const b of batch) b.done();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error('audit append failed', { cause: error });
        for (const b of batch) b.done(failure);
      }
    }
    this.#writing = false;
  }

  async #write(entries: readonly AuditEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 0; attempt < 100; attempt++) {
      const head = this.#known ?? (await this.#head.findOne({ _id: 'head' })) ?? { seq: 0, hash: GENESIS };
      this.#known = undefined;
      let prevHash = head.hash;
      const docs = pending.map((e, i): AuditDoc => {
        const seq = head.seq + 1 + i;
        const fields = {
          at: e.at,
          actor: e.actor,
          actorOrgId: e.actorOrgId ?? null,
          action: e.action,
          caseIds: [...e.caseIds],
          detail: e.detail,
        };
        const hash = chainHash(prevHash, seq, fields);
        const doc = { _id: seq, ...fields, prevHash, hash };
        prevHash = hash;
        return doc;
      });
      try {
        await this.collection.insertMany(docs, { ordered: true });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Another replica took a position: what went in before the collision stays; the
        // rest goes after the real end of the chain.
        pending = pending.slice((error as MongoBulkWriteError).insertedCount);
        await this.#catchUp(head.seq);
        if (pending.length === 0) return;
        continue;
      }
      const last = docs.at(-1)!;
      await this.#advance(head.seq, last._id, last.hash);
      this.#known = { seq: last._id, hash: last.hash };
      return;
    }
    throw new Error('audit log contention: could not append after 100 attempts');
  }

  async #catchUp(from: number): Promise<void> {
    let seq = from;
    for (;;) {
      const next = await this.collection.findOne({ _id: seq + 1 }, { projection: { hash: 1 } });
      if (!next) return;
      await this.#advance(seq, next._id, next.hash);
      seq = next._id;
    }
  }

  async #advance(from: number, to: number, hash: string): Promise<void> {
    try {
      await this.#head.updateOne(
        { _id: 'head', seq: from },
        { $set: { seq: to, hash } },
        { upsert: from === 0 },
      );
    } catch (error) {
      // Two first appends both creating the head: the other did it.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async verify(): Promise<AuditVerification> {
    let prevHash = GENESIS;
    let expected = 1;
    for await (const doc of this.collection.find().sort({ _id: 1 })) {
      const { _id, prevHash: storedPrev, hash, ...fields } = doc;
      if (_id !== expected) {
        return {
          ok: false,
          records: expected - 1,
          brokenAt: expected,
          problem: `record ${expected} is missing`,
        };
      }
      if (storedPrev !== prevHash || chainHash(prevHash, _id, fields) !== hash) {
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
    const last = expected - 1;
    const head = await this.#head.findOne({ _id: 'head' });
    // A head behind the chain is a crash between a record and its head update (the next
    // append repairs it); a head ahead of it, or naming another hash, means records went.
    if (head && head.seq > last) {
      return {
        ok: false,
        records: last,
        brokenAt: last + 1,
        problem: `the chain ends at ${last}, its head names ${head.seq}`,
      };
    }
    if (head && head.seq > 0 && head.hash !== (await this.collection.findOne({ _id: head.seq }))?.hash) {
      return {
        ok: false,
        records: last,
        brokenAt: head.seq,
        problem: `record ${head.seq} does not match the head`,
      };
    }
    return { ok: true, records: last };
  }

  async list(
    caseId: string,
    after: number | undefined,
    limit: number,
  ): Promise<{ records: (AuditEntry & { seq: number })[]; next: number | undefined }> {
    const docs = await this.collection
      .find({ caseIds: caseId, ...(after !== undefined ? { _id: { $gt: after } } : {}) })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const records = docs.slice(0, limit).map((d) => ({
      seq: d._id,
      at: d.at,
      actor: d.actor,
      actorOrgId: d.actorOrgId ?? undefined,
      action: d.action as AuditAction,
      caseIds: d.caseIds,
      detail: d.detail,
    }));
    return { records, next: docs.length > limit ? records.at(-1)?.seq : undefined };
  }
}
