import type { Collection, Db } from 'mongodb';
import { ensureIndexes } from '@beacon/platform';
import type { DeadLetter, DeadLetterStore } from '../../app/channel-delivery.js';
import type { DeliveryChannel } from '../../app/ports.js';

export interface DeadLetterDoc {
  /** `<channel>:<key>`. */
  _id: string;
  channel: string;
  agencyId: string;
  incidentId: string;
  key: string;
  kind: string;
  eventIds: string[];
  feedSequences: number[];
  reason: string;
  attempts: number;
  lastError: string;
  at: Date;
}

function letterFromDoc(doc: DeadLetterDoc): DeadLetter {
  return {
    id: doc._id,
    channel: doc.channel as DeliveryChannel,
    agencyId: doc.agencyId,
    incidentId: doc.incidentId,
    key: doc.key,
    kind: doc.kind as DeadLetter['kind'],
    eventIds: doc.eventIds,
    feedSequences: doc.feedSequences,
    reason: doc.reason as DeadLetter['reason'],
    attempts: doc.attempts,
    lastError: doc.lastError,
    at: doc.at,
  };
}

/** Deliveries given up on (`dead-letters`), one document per notification and channel. */
export class MongoDeadLetterStore implements DeadLetterStore {
  readonly collection: Collection<DeadLetterDoc>;

  constructor(db: Db, collectionName = 'dead-letters') {
    this.collection = db.collection<DeadLetterDoc>(collectionName);
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { agencyId: 1, at: 1 }, name: 'by_agency_time' }]);
  }

  /** Replaces by `_id` alone, so a message dead-lettered twice (a redelivery) leaves one letter. */
  async put(letter: DeadLetter): Promise<void> {
    const { id, ...fields } = letter;
    await this.collection.replaceOne(
      { _id: id },
      { ...fields, eventIds: [...fields.eventIds], feedSequences: [...fields.feedSequences] },
      { upsert: true },
    );
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? letterFromDoc(doc) : undefined;
  }

  /** The agency's dead letters, oldest first. */
  async list(agencyId: string): Promise<DeadLetter[]> {
    const docs = await this.collection.find({ agencyId }).sort({ at: 1, _id: 1 }).toArray();
    return docs.map(letterFromDoc);
  }
}
