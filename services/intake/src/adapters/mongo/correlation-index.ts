import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@beacon/platform';
import type { CorrelationIndex } from '../../app/ports.js';

interface CorrelationDoc {
  /** The keyed hash of a normalised observable: the indicator itself is never stored here. */
  _id: string;
  incidentId: string;
  seenAt: Date;
}

/** Latest incident per correlation hash; every lookup and write is by `_id`. */
export class MongoCorrelationIndex implements CorrelationIndex {
  readonly collection: Collection<CorrelationDoc>;

  constructor(db: Db) {
    this.collection = db.collection<CorrelationDoc>('correlation');
  }

  async find(hashes: readonly string[], since: Date): Promise<string[]> {
    const docs = await Promise.all([...new Set(hashes)].map((_id) => this.collection.findOne({ _id })));
    return docs
      .filter((d): d is CorrelationDoc => d !== null && d.seenAt >= since)
      .sort((a, b) => b.seenAt.getTime() - a.seenAt.getTime())
      .map((d) => d.incidentId)
      .filter((id, i, all) => all.indexOf(id) === i);
  }

  async record(hashes: readonly string[], incidentId: string, at: Date): Promise<void> {
    await Promise.all(
      [...new Set(hashes)].map(async (_id) => {
        try {
          // Only move forward in time, so a late re-link does not take a newer incident's hash:
          // when a newer sighting holds it, the upsert's insert collides on `_id` and stops.
          await this.collection.updateOne(
            { _id, seenAt: { $lte: at } },
            { $set: { incidentId, seenAt: at } },
            { upsert: true },
          );
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      }),
    );
  }
}
