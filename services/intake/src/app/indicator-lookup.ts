import { compareTlp, observableKey, type Observable } from '@beacon/domain';
import { canReadIncident, type Caller } from '../domain/access.js';
import type { Incident } from '../domain/incident.js';
import type { IncidentStore, Sighting, SightingStore } from './ports.js';

/** Sightings an indicator lookup returns, and how many it reads to find them. */
export const SIGHTINGS_LIMIT = 500;
const SIGHTINGS_SCANNED = 5_000;
/** Sightings whose incidents are checked together. */
const SIGHTINGS_CHUNK = 200;

/**
 * Up to `SIGHTINGS_LIMIT` newest sightings of one indicator on the incidents the caller may
 * see, looking past the ones it may not (up to `SIGHTINGS_SCANNED`). (A sighting's label never
 * exceeds its incident's, so being allowed the incident covers the sighting.) Naming an AMBER
 * or higher incident as a sighting reveals it, so that is audited as a read (`auditRead`).
 */
export async function lookupIndicator(
  deps: {
    readonly incidents: Pick<IncidentStore, 'getMany'>;
    readonly sightings: Pick<SightingStore, 'newestFirst'>;
  },
  caller: Caller,
  observable: Observable,
  auditRead: (incident: Incident) => Promise<void>,
): Promise<Sighting[]> {
  const found: Sighting[] = [];
  const readable = new Map<string, Incident | undefined>();
  let chunk: Sighting[] = [];
  let scanned = 0;
  const take = async () => {
    const unknown = [...new Set(chunk.map((s) => s.incidentId))].filter((id) => !readable.has(id));
    for (const incident of await deps.incidents.getMany(unknown)) {
      readable.set(incident.id, canReadIncident(caller, incident) ? incident : undefined);
    }
    for (const sighting of chunk) {
      if (found.length < SIGHTINGS_LIMIT && readable.get(sighting.incidentId)) found.push(sighting);
    }
    chunk = [];
  };
  for await (const sighting of deps.sightings.newestFirst(observableKey(observable))) {
    chunk.push(sighting);
    scanned += 1;
    if (chunk.length === SIGHTINGS_CHUNK) await take();
    if (found.length >= SIGHTINGS_LIMIT || scanned >= SIGHTINGS_SCANNED) break;
  }
  await take();
  const revealed = new Set(found.map((s) => s.incidentId));
  await Promise.all(
    [...revealed]
      .map((id) => readable.get(id)!)
      .filter((incident) => compareTlp(incident.tlp, 'AMBER') >= 0)
      .map(auditRead),
  );
  return found;
}
