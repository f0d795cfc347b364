import type { Collection, Db } from 'mongodb';
import type { IncidentFacts, IncidentFactsStore } from '../../app/ports.js';

export interface IncidentFactsDoc extends Omit<IncidentFacts, 'incidentId'> {
  _id: string;
}

/** Incidents whose last written facts are remembered. */
const CACHE_LIMIT = 10_000;

/**
 * What intake last announced of each incident. Most events change nothing notify matches on
 * (a report attached, a status change) and only raise the incident's version, so the store
 * remembers what it wrote and writes only when a fact changes: the fan-out's hot path touches
 * the database once per change, not once per event. Facts from an older version than the one
 * stored are dropped, so a redelivered event cannot roll them back.
 */
export class MongoIncidentFactsStore implements IncidentFactsStore {
  readonly collection: Collection<IncidentFactsDoc>;
  readonly #known = new Map<string, { version: number; key: string }>();

  constructor(db: Db) {
    this.collection = db.collection<IncidentFactsDoc>('incident_facts');
  }

  async get(incidentId: string): Promise<IncidentFacts | undefined> {
    const doc = await this.collection.findOne({ _id: incidentId });
    if (!doc) return undefined;
    const { _id, ...facts } = doc;
    return { incidentId: _id, ...facts };
  }

  async put(facts: IncidentFacts): Promise<void> {
    const { incidentId, version, ...matched } = facts;
    const key = JSON.stringify(matched);
    const known = this.#known.get(incidentId);
    if (known && known.version >= version) return;
    if (known?.key === key) {
      known.version = version;
      return;
    }
    if (!known) {
      const stored = await this.collection.findOne({ _id: incidentId }, { projection: { version: 1 } });
      if (stored && stored.version > version) return;
    }
    await this.collection.replaceOne({ _id: incidentId }, { ...matched, version }, { upsert: true });
    if (this.#known.size >= CACHE_LIMIT) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(incidentId, { version, key });
  }
}
