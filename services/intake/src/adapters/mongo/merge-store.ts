import type { Collection, Db } from 'mongodb';
import type { Incident } from '../../domain/incident.js';
import type { MergeStore } from '../../app/merge-incidents.js';
import { incidentFromDoc, type IncidentDoc } from './documents.js';

/** Half-done merges, found by the mark the merged incident carries in its own document. */
export class MongoMergeStore implements MergeStore {
  readonly #incidents: Collection<IncidentDoc>;

  constructor(db: Db) {
    this.#incidents = db.collection<IncidentDoc>('incidents');
  }

  /** Reads every marked incident (no index serves the filter on FerretDB; marks are few and brief). */
  async pending(before: Date, limit: number): Promise<Incident[]> {
    const docs = await this.#incidents
      .find({ mergePending: { $exists: true, $ne: null } })
      .limit(limit)
      .toArray();
    return docs
      .map(incidentFromDoc)
      .filter((incident) => incident.mergePending !== undefined && incident.mergePending.at < before);
  }

  async settle(mergedId: string): Promise<void> {
    await this.#incidents.updateOne({ _id: mergedId }, { $unset: { mergePending: '' } });
  }
}
