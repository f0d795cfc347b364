import type { Collection, Db } from 'mongodb';
import type { IncidentFacts, IncidentFactsStore } from '../../app/ports.js';

export interface IncidentFactsDoc extends Omit<IncidentFacts, 'incidentId'> {
  _id: string;
}

/** Facts kept in memory per incident, to write only when they change. */
const CACHE_LIMIT = 10_000;

/**
 * What intake last announced of each incident. Most events repeat the facts they carry, so the
 * store remembers what it wrote and writes only a change: the fan-out's hot path then touches
 * the database once per change, not once per event.
 */
export class MongoIncidentFactsStore implements IncidentFactsStore {
  readonly collection: Collection<IncidentFactsDoc>;
  readonly #written = new Map<string, string>();

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
    const { incidentId, ...fields } = facts;
    const key = JSON.stringify(fields);
    if (this.#written.get(incidentId) === key) return;
    // A redelivered older event must not roll the facts back. Events are handled one at a
    // time, so reading then replacing by `_id` (the filter FerretDB serves from its index) is safe.
    const stored = await this.collection.findOne({ _id: incidentId }, { projection: { version: 1 } });
    if (stored && stored.version > facts.version) return;
    await this.collection.replaceOne({ _id: incidentId }, fields, { upsert: true });
    if (this.#written.size >= CACHE_LIMIT) this.#written.delete(this.#written.keys().next().value!);
    this.#written.set(incidentId, key);
  }
}
