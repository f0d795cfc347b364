import type { Collection, Db } from 'mongodb';
import { ensureIndexes, GroupCommit } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import type { AuditRecord, ReportPlan, ReportStore } from '../../app/ports.js';
import { reportFromDoc, reportToDoc, type ReportDoc } from './documents.js';

export class MongoReportStore implements ReportStore {
  readonly collection: Collection<ReportDoc>;
  readonly #writes: GroupCommit<ReportDoc>;

  constructor(db: Db) {
    this.collection = db.collection<ReportDoc>('reports');
    this.#writes = new GroupCommit(this.collection);
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { linked: 1, submittedAt: 1 }, name: 'unlinked' }]);
  }

  async insert(report: Report, plan: ReportPlan, audit: AuditRecord): Promise<'inserted' | 'exists'> {
    return (await this.#writes.insertOne(reportToDoc(report, plan, audit))) ? 'inserted' : 'exists';
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
    await this.#writes.updateById(id, { $set: { linked: true }, $unset: { audit: '' } });
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
