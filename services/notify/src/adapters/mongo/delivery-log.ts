import type { Collection, Db, ObjectId } from 'mongodb';
import { ensureIndexes } from '@beacon/platform';
import type { DeliveryChannel, DeliveryLog, DeliveryOutcome, DeliveryRecord } from '../../app/ports.js';

export interface DeliveryDoc {
  _id?: ObjectId;
  agencyId: string;
  incidentId: string;
  eventId: string;
  channel: string;
  attempt: number;
  outcome: string;
  latencyMs: number;
  detail: string;
  at: Date;
}

function recordFromDoc(doc: DeliveryDoc): DeliveryRecord {
  return {
    agencyId: doc.agencyId,
    incidentId: doc.incidentId,
    eventId: doc.eventId,
    channel: doc.channel as DeliveryChannel,
    attempt: doc.attempt,
    outcome: doc.outcome as DeliveryOutcome,
    latencyMs: doc.latencyMs,
    detail: withoutReceiverBody(doc.detail),
    at: doc.at,
  };
}

/**
 * Records written before receivers' bodies stopped being read kept up to 200 characters of one
 * after `HTTP <status> from <origin>`: cut back to the status so that no old record shows one.
 */
function withoutReceiverBody(detail: string): string {
  return /^(HTTP \d{3} from \S+(?: \(redirects are not followed\))?): /.exec(detail)?.[1] ?? detail;
}

/**
 * Every delivery attempt, one insert each: an append-only log, so the write is never a
 * read-modify-write and never contends. Kept until an operator prunes it (no TTL index: the
 * Mongo-wire store in use does not honour one).
 */
export class MongoDeliveryLog implements DeliveryLog {
  readonly collection: Collection<DeliveryDoc>;

  constructor(db: Db, collectionName = 'deliveries') {
    this.collection = db.collection<DeliveryDoc>(collectionName);
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [
      { key: { agencyId: 1, incidentId: 1, at: 1 }, name: 'by_agency_incident_time' },
    ]);
  }

  async record(entry: DeliveryRecord): Promise<void> {
    await this.collection.insertOne({
      agencyId: entry.agencyId,
      incidentId: entry.incidentId,
      eventId: entry.eventId,
      channel: entry.channel,
      attempt: entry.attempt,
      outcome: entry.outcome,
      latencyMs: entry.latencyMs,
      detail: entry.detail,
      at: entry.at,
    });
  }

  /** The agency's attempts for the incident, oldest first (insertion order within an instant). */
  async list(agencyId: string, incidentId: string): Promise<DeliveryRecord[]> {
    const docs = await this.collection.find({ agencyId, incidentId }).sort({ at: 1, _id: 1 }).toArray();
    return docs.map(recordFromDoc);
  }
}
