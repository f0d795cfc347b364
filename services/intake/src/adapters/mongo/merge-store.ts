import type { Collection, Db } from 'mongodb';
import { PendingSweep, type PendingMarks } from '@beacon/platform';
import type { Incident } from '../../domain/incident.js';
import type { MergeStore } from '../../app/merge-incidents.js';
import { incidentFromDoc, type IncidentDoc } from './documents.js';

/**
 * Half-done merges, found by the mark the merged incident carries in its own document
 * (`mergePending`), through the marks its writes leave beside the incidents (see
 * `PendingMarks`; `IncidentMarks.merges`).
 */
export class MongoMergeStore implements MergeStore {
  readonly #incidents: Collection<IncidentDoc>;
  readonly #sweep: PendingSweep<IncidentDoc> | undefined;

  /** Without marks, every sweep reads the whole collection (as releases before). */
  constructor(db: Db, marks?: PendingMarks) {
    this.#incidents = db.collection<IncidentDoc>('incidents');
    this.#sweep =
      marks &&
      new PendingSweep(marks, {
        read: (_id) => this.#incidents.findOne({ _id }),
        pending: (doc) => doc.mergePending !== undefined && doc.mergePending !== null,
        scan: (_before, limit) => this.#scan(limit),
      });
  }

  async pending(before: Date, limit: number): Promise<Incident[]> {
    const docs = this.#sweep ? await this.#sweep.find(before, limit) : await this.#scan(limit);
    return docs
      .map(incidentFromDoc)
      .filter((incident) => incident.mergePending !== undefined && incident.mergePending.at < before);
  }

  async settle(mergedId: string): Promise<void> {
    await this.#incidents.updateOne({ _id: mergedId }, { $unset: { mergePending: '' } });
  }

  /** Reads every marked incident (no index serves the filter on FerretDB). */
  #scan(limit: number): Promise<IncidentDoc[]> {
    return this.#incidents
      .find({ mergePending: { $exists: true, $ne: null } })
      .limit(limit)
      .toArray();
  }
}
