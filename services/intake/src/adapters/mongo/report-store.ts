import type { Collection, Db } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import type { ReportPlan, ReportStore } from '../../app/ports.js';
import { reportFromDoc, reportToDoc, type ReportDoc } from './documents.js';

export class MongoReportStore implements ReportStore {
  readonly collection: Collection<ReportDoc>;

  constructor(db: Db) {
    this.collection = db.collection<ReportDoc>('reports');
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { linked: 1, submittedAt: 1 }, name: 'unlinked' }]);
  }

  async insert(report: Report, plan: ReportPlan): Promise<'inserted' | 'exists'> {
    try {
      await this.collection.insertOne(reportToDoc(report, plan));
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

  async replan(id: string, plan: ReportPlan): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      { $set: { incidentId: plan.incidentId, opensIncident: plan.opensIncident } },
    );
  }

  async markLinked(id: string): Promise<void> {
    // Filter on `_id` alone: FerretDB uses the index only for exactly that filter.
    await this.collection.updateOne({ _id: id }, { $set: { linked: true } });
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
