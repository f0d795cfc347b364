import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
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

/**
 * An append-only, hash-chained audit log. Each record names its predecessor's hash, and its
 * position is its `_id`: two writers racing for the same position collide on the unique `_id`,
 * and the loser retries on top of the winner, so the chain never forks.
 */
export class MongoAuditLog implements AuditLog {
  readonly collection: Collection<AuditDoc>;

  constructor(db: Db) {
    this.collection = db.collection<AuditDoc>('audit');
  }

  async append(record: AuditRecord): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const last = await this.collection.find().sort({ _id: -1 }).limit(1).next();
      const seq = (last?._id ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS;
      try {
        await this.collection.insertOne({
          ...record,
          _id: seq,
          prevHash,
          hash: chainHash(prevHash, seq, record),
        });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw new Error('audit log contention: could not append after 100 attempts');
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
    return { ok: true, records: expected - 1, head: prevHash };
  }
}
