import type { Collection, Db } from 'mongodb';
import type { IncidentFacts, IncidentFactsStore } from '../../app/ports.js';

export interface IncidentFactsDoc extends Omit<IncidentFacts, 'incidentId'> {
  _id: string;
}

/** Incidents whose last written facts are remembered. */
const CACHE_LIMIT = 10_000;

/**
 * What intake last announced of each incident. `put` starts the write and returns at once with
 * its promise, so the fan-out publishes an event that carries its facts while they are being
 * written and acks it when both are done; one incident's writes run in order, and a `get`
 * waits for the incident's pending write, then reads the database — the truth every replica
 * shares. Most events change nothing notify matches on (a report attached, a status change)
 * and only raise the incident's version, so a write happens only when a fact changes. Facts
 * from an older version than the one stored are dropped, so a redelivered event cannot roll
 * them back.
 */
export class MongoIncidentFactsStore implements IncidentFactsStore {
  readonly collection: Collection<IncidentFactsDoc>;
  /** What the database holds, as far as this replica wrote it. */
  readonly #stored = new Map<string, { version: number; key: string }>();
  /** Each incident's write in progress, the next one chained behind it. */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(db: Db) {
    this.collection = db.collection<IncidentFactsDoc>('incident_facts');
  }

  async get(incidentId: string): Promise<IncidentFacts | undefined> {
    await this.#writing.get(incidentId)?.catch(() => undefined);
    const doc = await this.collection.findOne({ _id: incidentId });
    if (!doc) return undefined;
    const { _id, ...facts } = doc;
    return { incidentId: _id, ...facts };
  }

  put(facts: IncidentFacts): Promise<void> {
    const { incidentId } = facts;
    const write = (this.#writing.get(incidentId) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#write(facts))
      .finally(() => {
        if (this.#writing.get(incidentId) === write) this.#writing.delete(incidentId);
      });
    this.#writing.set(incidentId, write);
    return write;
  }

  async #write(facts: IncidentFacts): Promise<void> {
    const { incidentId, version, ...matched } = facts;
    const key = JSON.stringify(matched);
    const stored = this.#stored.get(incidentId);
    if (stored && stored.version >= version) return;
    if (stored?.key === key) {
      stored.version = version;
      return;
    }
    if (!stored) {
      const doc = await this.collection.findOne({ _id: incidentId }, { projection: { version: 1 } });
      if (doc && doc.version > version) return;
    }
    await this.collection.replaceOne({ _id: incidentId }, { ...matched, version }, { upsert: true });
    remember(this.#stored, incidentId, { version, key });
  }
}

/** Sets `key`, evicting the oldest entry when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
}
