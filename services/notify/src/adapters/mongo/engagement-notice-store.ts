import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@beacon/platform';
import type { EngagementNotice, EngagementNoticeStore } from '../../app/ports.js';

export interface EngagementNoticeDoc extends EngagementNotice {
  /** The caller's idempotency key. */
  _id: string;
  /** When the notice reached the feed; absent while it has not (yet). */
  publishedAt?: Date;
}

/** Engagement notices by idempotency key: one insert claims a key, so two callers cannot both win. */
export class MongoEngagementNoticeStore implements EngagementNoticeStore {
  readonly collection: Collection<EngagementNoticeDoc>;

  constructor(db: Db) {
    this.collection = db.collection<EngagementNoticeDoc>('engagement_notices');
  }

  async claim(key: string, notice: EngagementNotice) {
    try {
      await this.collection.insertOne({ _id: key, ...notice });
      return { notice, first: true, published: false };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const existing = await this.collection.findOne({ _id: key });
    if (!existing) throw new Error(`engagement notice ${key} vanished`);
    const { _id, publishedAt, ...stored } = existing;
    return { notice: stored, first: false, published: publishedAt !== undefined };
  }

  async markPublished(key: string, at: Date): Promise<void> {
    await this.collection.updateOne({ _id: key }, { $set: { publishedAt: at } });
  }
}
