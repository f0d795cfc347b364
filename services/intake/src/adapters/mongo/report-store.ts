import type { Collection, Db } from 'mongodb';
import { ensureIndexes, GroupCommit, PendingSweep, type PendingMarks } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import type { AuditRecord, ReportPlan, ReportStore } from '../../app/ports.js';
import { reportFromDoc, reportToDoc, type ReportDoc } from './documents.js';

export class MongoReportStore implements ReportStore {
  readonly collection: Collection<ReportDoc>;
  readonly #writes: GroupCommit<ReportDoc>;
  readonly #unlinked: PendingSweep<ReportDoc> | undefined;

  /**
   * `links`: marks of the reports stored and not yet linked (see `PendingMarks`); without them,
   * every recovery sweep reads the whole collection (as releases before).
   */
  constructor(
    db: Db,
    private readonly links?: PendingMarks,
  ) {
    this.collection = db.collection<ReportDoc>('reports');
    this.#writes = new GroupCommit(this.collection);
    this.#unlinked =
      links &&
      new PendingSweep(links, {
        read: (_id) => this.collection.findOne({ _id }),
        pending: (doc) => !doc.linked,
        scan: (before, limit) => this.#scan(before, limit),
      });
  }

  async init(): Promise<void> {
    await this.links?.init();
    await ensureIndexes(this.collection, [{ key: { linked: 1, submittedAt: 1 }, name: 'unlinked' }]);
  }

  async insert(report: Report, plan: ReportPlan, audit: AuditRecord): Promise<'inserted' | 'exists'> {
    // Write-ahead: a stored report that is not yet linked always has its mark.
    await this.links?.mark(report.id);
    return (await this.#writes.insertOne(reportToDoc(report, plan, audit))) ? 'inserted' : 'exists';
  }

  async get(id: string) {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? reportFromDoc(doc) : undefined;
  }

  async replan(id: string, plan: ReportPlan): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      {
        $set: {
          incidentId: plan.incidentId,
          opensIncident: plan.opensIncident,
          // A report replanned to join its agency's own incident revises it (`IndicatorClaims`).
          ...(plan.revisesIncident ? { revisesIncident: true } : {}),
        },
      },
    );
  }

  async markLinked(id: string): Promise<void> {
    await this.#writes.updateById(id, { $set: { linked: true }, $unset: { audit: '' } });
  }

  /** From the marks, and their reports by `_id`; a full read at start-up and then rarely. */
  async unlinked(before: Date, limit: number) {
    const docs = this.#unlinked ? await this.#unlinked.find(before, limit) : await this.#scan(before, limit);
    return docs
      .filter((doc) => !doc.linked && doc.submittedAt < before)
      .sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime())
      .map(reportFromDoc);
  }

  /** Served by the `unlinked` index on MongoDB; a whole-collection read on FerretDB. */
  #scan(before: Date, limit: number): Promise<ReportDoc[]> {
    return this.collection
      .find({ linked: false, submittedAt: { $lt: before } })
      .sort({ submittedAt: 1 })
      .limit(limit)
      .toArray();
  }
}
