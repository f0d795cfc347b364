import type { Collection, Db } from 'mongodb';
import type { Tlp } from '@beacon/domain';
import { observableKey } from '@beacon/domain';
import { ensureIndexes, GroupCommit } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import type { Sighting, SightingStore } from '../../app/ports.js';

interface SightingDoc {
  /** `<observable key>|<report id>`: one sighting per report, however often it is recorded. */
  _id: string;
  key: string;
  incidentId: string;
  reportId: string;
  seenAt: Date;
  tlp: Tlp;
}

/** One small document per (indicator, report), so no document grows without bound. */
export class MongoSightingStore implements SightingStore {
  readonly collection: Collection<SightingDoc>;
  readonly #writes: GroupCommit<SightingDoc>;

  constructor(db: Db) {
    this.collection = db.collection<SightingDoc>('sightings');
    this.#writes = new GroupCommit(this.collection);
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { key: 1, seenAt: -1 }, name: 'by-indicator' }]);
  }

  /**
   * The report's indicators in one insert, shared with concurrent reports' (group commit): a
   * sighting already recorded (a retried link) is a duplicate `_id` and is left as it is.
   */
  async record(report: Report): Promise<void> {
    const docs = [...new Map(report.observables.map((o) => [observableKey(o), o])).keys()].map(
      (key): SightingDoc => ({
        _id: `${key}|${report.id}`,
        key,
        incidentId: report.incidentId,
        reportId: report.id,
        seenAt: report.submittedAt,
        tlp: report.tlp,
      }),
    );
    await this.#writes.insert(docs);
  }

  async *newestFirst(key: string): AsyncIterable<Sighting> {
    const cursor = this.collection.find({ key }).sort({ seenAt: -1, _id: 1 }).batchSize(500);
    try {
      for await (const { incidentId, reportId, seenAt, tlp } of cursor)
        yield { incidentId, reportId, seenAt, tlp };
    } finally {
      await cursor.close();
    }
  }
}
