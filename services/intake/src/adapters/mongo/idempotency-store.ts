import type { Collection, Db } from 'mongodb';
import { GroupCommit } from '@beacon/platform';
import type { CreatedIds, IdempotencyOutcome, IdempotencyStore } from '../../app/ports.js';

interface IdempotencyDoc {
  /** `<caller>:<key>` */
  _id: string;
  requestHash: string;
  ids: CreatedIds;
  createdAt: Date;
}

/**
 * Idempotency records, claimed by inserting under a unique id: of two concurrent first
 * attempts one inserts and the other reads what it stored.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  readonly collection: Collection<IdempotencyDoc>;
  readonly #writes: GroupCommit<IdempotencyDoc>;

  constructor(db: Db) {
    this.collection = db.collection<IdempotencyDoc>('idempotency');
    this.#writes = new GroupCommit(this.collection);
  }

  async claim(scope: string, requestHash: string, ids: CreatedIds): Promise<IdempotencyOutcome> {
    if (await this.#writes.insertOne({ _id: scope, requestHash, ids: { ...ids }, createdAt: new Date() })) {
      return { state: 'new' };
    }
    const existing = await this.collection.findOne({ _id: scope });
    if (!existing) throw new Error(`idempotency record ${scope} vanished`);
    return existing.requestHash === requestHash
      ? { state: 'replay', ids: existing.ids }
      : { state: 'mismatch' };
  }

  async expire(before: Date): Promise<number> {
    return (await this.collection.deleteMany({ createdAt: { $lt: before } })).deletedCount;
  }
}
