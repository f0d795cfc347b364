import type { Collection, Db } from 'mongodb';
import type { Place } from '@beacon/domain';
import type { IncidentFacts, IncidentFactsStore, ReachedPlaces } from '../../app/ports.js';

/**
 * An incident's facts under `current`, its version first: `$max` on `current` compares the
 * embedded documents field by field, so the version decides which facts stay.
 */
export interface IncidentFactsDoc {
  _id: string;
  current: Omit<IncidentFacts, 'incidentId' | 'placesReached'>;
  /** Impact's latest assessment's places, its revision first (`$max` keeps the latest). */
  reached?: ReachedPlaces;
}

/** Incidents whose last written facts are remembered. */
const CACHE_LIMIT = 10_000;
/** How long this replica trusts the places it last read or wrote of an incident. */
const REACHED_TTL_MS = 5_000;

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
 * replica handled late, cannot roll them back: the write keeps the newer of the two.
 */
export class MongoIncidentFactsStore implements IncidentFactsStore {
  readonly collection: Collection<IncidentFactsDoc>;
  /** What the database holds, as far as this replica wrote it. */
  readonly #stored = new Map<string, { version: number; key: string }>();
  /** Each incident's last write, running or waiting. */
  readonly #writing = new Map<string, Promise<void>>();
  /** Each incident's write that waits for the running one: later facts join it. */
  readonly #waiting = new Map<string, { facts: IncidentFacts; readonly written: Promise<void> }>();
  /** The places each incident's cascade reaches, as last read or written here, and until when. */
  readonly #reached = new Map<string, { readonly places: readonly Place[]; readonly until: number }>();
  /** Each incident's places being written here: a read waits for them. */
  readonly #reachedWrites = new Map<string, Promise<void>>();

  constructor(db: Db) {
    this.collection = db.collection<IncidentFactsDoc>('incident_facts');
  }

  async get(incidentId: string): Promise<IncidentFacts | undefined> {
    await this.#writing.get(incidentId)?.catch(() => undefined);
    const doc = await this.collection.findOne({ _id: incidentId });
    if (!doc) return undefined;
    // Written before the facts moved under `current`: they are the document's own fields
    // (the next change of the incident's facts puts them under `current`).
    const { _id, current, reached, ...earlier } = doc as Partial<IncidentFactsDoc> &
      Omit<IncidentFacts, 'incidentId'>;
    const facts = current ?? earlier;
    // Only an assessment's places stored so far: intake's facts are not known yet.
    if (facts.tlp === undefined) return undefined;
    return { incidentId, ...facts, ...(reached ? { placesReached: reached.places } : {}) };
  }

  /**
   * Read through a short-lived cache, so the events of an incident that carry its facts cost
   * the database one read every few seconds, not one each; another replica's newer places
   * are seen within REACHED_TTL_MS.
   */
  async reached(incidentId: string): Promise<readonly Place[]> {
    await this.#reachedWrites.get(incidentId)?.catch(() => undefined);
    const cached = this.#reached.get(incidentId);
    if (cached && Date.now() < cached.until) return cached.places;
    const doc = await this.collection.findOne({ _id: incidentId }, { projection: { reached: 1 } });
    const places = doc?.reached?.places ?? [];
    remember(this.#reached, incidentId, { places, until: Date.now() + REACHED_TTL_MS });
    return places;
  }

  putReached(incidentId: string, reached: ReachedPlaces): Promise<void> {
    const write = (async () => {
      await this.#writing.get(incidentId)?.catch(() => undefined);
      await this.collection.updateOne(
        { _id: incidentId },
        { $max: { reached: { revision: reached.revision, places: [...reached.places] } } },
        { upsert: true },
      );
    })().finally(() => {
      // Read afresh next time: another replica may have stored a later revision's.
      this.#reached.delete(incidentId);
      if (this.#reachedWrites.get(incidentId) === write) this.#reachedWrites.delete(incidentId);
    });
    this.#reached.delete(incidentId);
    this.#reachedWrites.set(incidentId, write);
    return write;
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
    // The very next version, unchanged: no other replica can have written a version between.
    // After a gap, another replica may have (it handled the events in between): write.
    if (stored?.key === key && version === stored.version + 1) {
      stored.version = version;
      return;
    }
    // One write by `_id` (index-served on FerretDB too), atomic on any Mongo-wire store: `$max`
    // keeps the newer facts, so an older event handled late here, or on another replica,
    // never rolls back an incident's TLP or engagements (which would send its next events to
    // agencies no longer cleared for them).
    const result = await this.collection.updateOne(
      { _id: incidentId },
      { $max: { current: { version, ...matched } } },
      { upsert: true },
    );
    if (result.modifiedCount + result.upsertedCount > 0) remember(this.#stored, incidentId, { version, key });
    else this.#stored.delete(incidentId); // newer facts were stored: what they are, this replica does not know
  }
}

/** Sets `key`, evicting the oldest entry when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
}
