import { createHash } from 'node:crypto';
import type { Collection, Db, MongoBulkWriteError } from 'mongodb';
import { isDuplicateKeyError } from '@beacon/platform';
import type { AuditLog, AuditRecord, AuditVerification } from '../../app/ports.js';

interface AuditDoc extends AuditRecord {
  /** Position in the chain, from 1, without gaps. */
  _id: number;
  prevHash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

/** SHA-256 over the previous hash and the record's fields in a fixed order. */
function chainHash(prevHash: string, seq: number, record: AuditRecord): string {
  const canonical = JSON.stringify([
    seq,
    prevHash,
    record.actor,
    record.agencyId ?? null,
    record.action,
    record.objectId,
    record.tlp,
    record.at.toISOString(),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

interface HeadDoc {
  _id: 'head';
  seq: number;
  hash: string;
}

/**
 * An append-only, hash-chained audit log. Each record names its predecessor's hash, and its
 * position is its `_id`: two writers racing for the same position collide on the unique `_id`,
 * and the loser retries on top of the winner, so the chain never forks. A head document points
 * at the last record, so appending reads one document by `_id` (the only lookup FerretDB
 * serves from an index) instead of sorting the log.
 *
 * Appends made while a write is under way are queued and written together in one ordered
 * insert (group commit): concurrent callers do not race each other for the same position.
 */
export class MongoAuditLog implements AuditLog {
  readonly collection: Collection<AuditDoc>;
  readonly #head: Collection<HeadDoc>;
  /** The head as this process last wrote it: usually right, so appending skips reading it. */
  #known: { seq: number; hash: string } | undefined;
  #queue: { record: AuditRecord; done: (error?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Db) {
    this.collection = db.collection<AuditDoc>('audit');
    this.#head = db.collection<HeadDoc>('audit_head');
  }

  append(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({
        record,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, 500);
      try {
        await this.#write(batch.map((b) => b.record));
        for (const b of batch) b.done();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error('audit append failed', { cause: error });
        for (const b of batch) b.done(failure);
      }
    }
    this.#writing = false;
  }

  async #write(batch: readonly AuditRecord[]): Promise<void> {
    let records = batch;
    for (let attempt = 0; attempt < 100; attempt++) {
      const head = this.#known ?? (await this.#head.findOne({ _id: 'head' })) ?? { seq: 0, hash: GENESIS };
      this.#known = undefined;
      const docs: AuditDoc[] = [];
      let prevHash = head.hash;
      for (const [i, record] of records.entries()) {
        const seq = head.seq + 1 + i;
        const hash = chainHash(prevHash, seq, record);
        docs.push({ ...record, _id: seq, prevHash, hash });
        prevHash = hash;
      }
      try {
        await this.collection.insertMany(docs, { ordered: true });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Another writer (another replica) took a position. The records of ours inserted
        // before the collision are in the chain; the rest go after the real head.
        records = records.slice((error as MongoBulkWriteError).insertedCount);
        this.#known = await this.#catchUp(head);
        if (records.length === 0) return;
        continue;
      }
      const last = docs.at(-1)!;
      await this.#advance(head.seq, last._id, last.hash);
      this.#known = { seq: last._id, hash: last.hash };
      return;
    }
    throw new Error('audit log contention: could not append after 100 attempts');
  }

  /**
   * Finds the end of the chain past `from` by reading forward (reads take no write lock) and
   * moves the head there in one write; returns the end, where the next append goes. Another
   * replica appending all the while would otherwise cost a head update per record it wrote.
   */
  async #catchUp(from: { seq: number; hash: string }): Promise<{ seq: number; hash: string }> {
    let end = from;
    for (;;) {
      const next = await this.collection.findOne({ _id: end.seq + 1 }, { projection: { hash: 1 } });
      if (!next) break;
      end = { seq: next._id, hash: next.hash };
    }
    if (end.seq > from.seq) await this.#advance(from.seq, end.seq, end.hash);
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
  async verify(): Promise<AuditVerification> {
    let prevHash = GENESIS;
    let expected = 1;
    for await (const doc of this.collection.find().sort({ _id: 1 })) {
      const { _id, prevHash: storedPrev, hash, ...record } = doc;
      if (_id !== expected) {
        return {
          ok: false,
          records: expected - 1,
          brokenAt: expected,
          problem: `record ${expected} is missing`,
        };
      }
      if (storedPrev !== prevHash || chainHash(prevHash, _id, record) !== hash) {
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
    if (head && head.seq > 0 && head.hash !== (await this.collection.findOne({ _id: head.seq }))?.hash) {
      return {
        ok: false,
        records: last,
        brokenAt: head.seq,
        problem: `record ${head.seq} does not match the head`,
      };
    }
    return { ok: true, records: expected - 1, head: prevHash };
  }
}
