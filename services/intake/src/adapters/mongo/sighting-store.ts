import type { Collection, Db } from 'mongodb';
import type { Tlp } from '@beacon/domain';
import { observableKey } from '@beacon/domain';
import { ensureIndexes } from '@beacon/platform';
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

  constructor(db: Db) {
    this.collection = db.collection<SightingDoc>('sightings');
  }

  async init(): Promise<void> {
    await ensureIndexes(this.collection, [{ key: { key: 1, seenAt: -1 }, name: 'by-indicator' }]);
  }

  async record(report: Report): Promise<void> {
    await Promise.all(
      report.observables.map((observable) => {
        const key = observableKey(observable);
        return this.collection.updateOne(
          { _id: `${key}|${report.id}` },
          {
            $setOnInsert: {
              key,
              incidentId: report.incidentId,
              reportId: report.id,
              seenAt: report.submittedAt,
              tlp: report.tlp,
            },
          },
          { upsert: true },
        );
      }),
    );
  }

  async find(key: string, limit: number): Promise<Sighting[]> {
    const docs = await this.collection.find({ key }).sort({ seenAt: -1 }).limit(limit).toArray();
    return docs.map(({ incidentId, reportId, seenAt, tlp }) => ({ incidentId, reportId, seenAt, tlp }));
  }
}
