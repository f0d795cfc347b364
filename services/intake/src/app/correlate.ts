import type { Tlp } from '@beacon/domain';
import { canJoin, type Caller } from '../domain/access.js';
import type { Incident } from '../domain/incident.js';
import { acceptsReports } from '../domain/rules.js';
import type { CorrelationIndex, IncidentStore, RelatedMatch } from './ports.js';

/** Matching incidents one report looks at, most recently active first. */
export const MAX_CANDIDATES = 50;
/** Possible relations one report records at most. */
export const MAX_RELATED = 20;

export interface Correlation {
  /** The most recently active open incident the report matches and may join, if any. */
  readonly target: Incident | undefined;
  /** Open incidents it matches and may not join: each gets a possible relation. */
  readonly related: readonly RelatedMatch[];
}

/**
 * Where a new report goes. It joins a matching incident only when `mayJoin` allows (its
 * reporter reads the incident, and the report is not labelled more restrictively); every other
 * match is only recorded, for coordinators, as a possible relation. So what the reporter is
 * answered depends on the incidents it may read alone: a match it may not read answers as an
 * indicator seen nowhere, and it changes nothing of that incident.
 */
export async function correlate(
  deps: { readonly incidents: IncidentStore; readonly correlation: CorrelationIndex },
  caller: Caller,
  report: { readonly tlp: Tlp; readonly keyByHash: ReadonlyMap<string, string> },
  since: Date,
): Promise<Correlation> {
  const found = (await deps.correlation.find([...report.keyByHash.keys()], since)).slice(0, MAX_CANDIDATES);
  // Every candidate is read, whether or not an earlier one is joined, so the cost does not
  // depend on which of them the caller may read.
  const byId = new Map((await deps.incidents.getMany(found.map((f) => f.incidentId))).map((i) => [i.id, i]));
  let target: Incident | undefined;
  const related: RelatedMatch[] = [];
  for (const { incidentId, hashes } of found) {
    const incident = byId.get(incidentId);
    if (!incident || incident.status === 'closed') continue;
    if (canJoin(caller, report.tlp, incident)) {
      // A full incident it may join is no relation: it has the reporter's sight already.
      if (!target && acceptsReports(incident)) target = incident;
      continue;
    }
    if (related.length < MAX_RELATED) {
      related.push({
        incidentId,
        tlp: incident.tlp,
        sharedKeys: [...new Set(hashes.flatMap((h) => report.keyByHash.get(h) ?? []))],
      });
    }
  }
  return { target, related };
}
