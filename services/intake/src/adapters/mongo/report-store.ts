import type { Collection, Db } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import type { IntakeEvent } from '../../domain/events.js';
import type { ReportPlan, ReportStore } from '../../app/ports.js';
import { reportFromDoc, reportToDoc, type ReportDoc } from './documents.js';
import { outboxUpdate, type EventEncoder } from './outbox.js';

export class MongoReportStore implements ReportStore {
  readonly collection: Collection<ReportDoc>;

  constructor(
    db: Db,
    private readonly encode: EventEncoder,
  ) {
    this.collection = db.collection<ReportDoc>('reports');
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [
      { key: { linked: 1, submittedAt: 1 }, name: 'unlinked' },
      { key: { outboxCount: 1 }, name: 'outbox' },
    ]);
  }

  async insert(report: Report, plan: ReportPlan, event: IntakeEvent): Promise<'inserted' | 'exists'> {
    const { set, count } = outboxUpdate([event], this.encode, report.submittedAt, 0);
    try {
      await this.collection.insertOne({
        ...reportToDoc(report, plan),
        outbox: Object.fromEntries(Object.values(set).map((entry) => [entry.id, entry])),
        outboxCount: count,
      });
      return 'inserted';
    } catch (error) {
      if (isDuplicateKeyError(error)) return 'exists';
      throw error;
    }
  }

  async get(id: string) {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? reportFromDoc(doc) : undefined;
  }

  async markLinked(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id, linked: false }, { $set: { linked: true } });
  }

  async unlinked(before: Date, limit: number) {
    const docs = await this.collection
      .find({ linked: false, submittedAt: { $lt: before } })
      .sort({ submittedAt: 1 })
      .limit(limit)
      .toArray();
    return docs.map(reportFromDoc);
  }
}
