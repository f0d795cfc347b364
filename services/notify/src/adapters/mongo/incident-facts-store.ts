import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@beacon/platform';
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
 * and only raise the incident's version, so a write happens only when a fact changes; and
 * while one write of an incident is under way, the facts put behind it wait as one write of
 * the newest (a burst of an incident's events costs two writes, not one each). Facts from an
 * older version than the one stored are dropped, so a redelivered event, or one another
 * replica handled late, cannot roll them back: a change is written only over older facts.
 */
export class MongoIncidentFactsStore implements IncidentFactsStore {
  readonly collection: Collection<IncidentFactsDoc>;
  /** What the database holds, as far as this replica wrote it. */
  readonly #stored = new Map<string, { version: number; key: string }>();
  /** Each incident's last write, running or waiting. */
  readonly #writing = new Map<string, Promise<void>>();
  /** Each incident's write that waits for the running one: later facts join it. */
  readonly #waiting = new Map<string, { facts: IncidentFacts; readonly written: Promise<void> }>();

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

  /** Settles once facts at least as new as these are stored (or found stored). */
  put(facts: IncidentFacts): Promise<void> {
    const { incidentId } = facts;
    const waiting = this.#waiting.get(incidentId);
    if (waiting) {
      if (facts.version > waiting.facts.version) waiting.facts = facts;
      return waiting.written;
    }
    const running = this.#writing.get(incidentId);
    if (!running) return this.#track(incidentId, this.#write(facts));
    const next: { facts: IncidentFacts; written: Promise<void> } = {
      facts,
      written: running
        .catch(() => undefined)
        .then(() => {
          this.#waiting.delete(incidentId);
          return this.#write(next.facts);
        }),
    };
    this.#waiting.set(incidentId, next);
    return this.#track(incidentId, next.written);
  }

  #track(incidentId: string, write: Promise<void>): Promise<void> {
    this.#writing.set(incidentId, write);
    void write
      .catch(() => undefined)
      .finally(() => {
        if (this.#writing.get(incidentId) === write) this.#writing.delete(incidentId);
      });
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
      // Most incidents this replica has not written are new: one insert stores them. One the
      // database already holds is read, so that older facts never replace newer ones.
      try {
        await this.collection.insertOne({ _id: incidentId, ...matched, version });
        remember(this.#stored, incidentId, { version, key });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const doc = await this.collection.findOne({ _id: incidentId }, { projection: { version: 1 } });
      if (doc && doc.version > version) return;
    }
    // Only over older facts: another replica may have written newer ones since this one last
    // did, and facts hold the incident's TLP and engagements, so rolling them back would send
    // its next events to agencies no longer cleared for them. FerretDB 1.24 scans the
    // collection for a filter beyond `_id` (12.7 ms against 1.6 ms per write at 20,000
    // incidents, measured); only a change of what notify matches on comes here.
    try {
      await this.collection.replaceOne(
        { _id: incidentId, version: { $lt: version } },
        { ...matched, version },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Newer facts are stored (the upsert found no older ones and collided with them).
      this.#stored.delete(incidentId);
      return;
    }
    remember(this.#stored, incidentId, { version, key });
  }
}

/** Sets `key`, evicting the oldest entry when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
}
