/**
 * Merging two incidents a coordinator found to be one: pure rules, no I/O. Who may merge is the
 * trust policy's (`mayMerge`); this file says what the two incidents become.
 *
 * A merge changes two documents and the store has no multi-document transactions, so it is two
 * steps, each a single-document write that can be repeated: first the merged incident is closed
 * and marked (`markMerged`, carrying `mergePending`), then the survivor takes everything of it
 * (`absorb`, which records the merged id in `mergedIncidentIds` so a repeat finds it done). A
 * crash between the two leaves the mark, from which a recovery sweep finishes the merge.
 */
import { mostRestrictive, type Recipients } from '@beacon/domain';
import { mergeAffectedAssets } from './affected-asset.js';
import type { MergedEvent } from './events.js';
import type { Incident, MergePending } from './incident.js';
import { MAX_INCIDENT_REPORTS, mergeObservables, type Change } from './rules.js';

/** A merge the rules refuse; `kind` decides the status code at the edge. */
export class MergeRuleError extends Error {
  override readonly name = 'MergeRuleError';
  constructor(
    readonly kind: 'same-incident' | 'already-merged' | 'closed' | 'awareness-not-confirmed' | 'full',
    /** The request field the refusal is about, for a field violation at the edge. */
    readonly field: 'merged_id' | 'survivor_id' | 'aware_at',
    message: string,
  ) {
    super(message);
  }
}

/** Whom an incident is shared with, as the trust policy reads it. */
export function recipientsOf(
  incident: Pick<Incident, 'tlp' | 'sourceAgencyId' | 'engagedAgencyIds'>,
): Recipients {
  return {
    tlp: incident.tlp,
    sourceAgencyId: incident.sourceAgencyId,
    engagedAgencyIds: [...incident.engagedAgencyIds],
  };
}

/** Whether `merged` is merged into `survivor` already, at least its first step. */
export function isMergedInto(merged: Incident, survivorId: string): boolean {
  return merged.mergedInto === survivorId;
}

/** Whether the survivor has taken the merged incident in: the second step is done. */
export function hasAbsorbed(survivor: Incident, mergedId: string): boolean {
  return survivor.mergedIncidentIds?.includes(mergedId) ?? false;
}

/**
 * Refuses a merge that cannot be carried out: an incident into itself, into or from an incident
 * merged or closed, an awareness time that is neither incident's (the coordinator confirms one
 * of the two, never invents a third), or a survivor that would hold too many reports.
 */
export function checkMerge(survivor: Incident, merged: Incident, awareAt: Date): void {
  if (survivor.id === merged.id) {
    throw new MergeRuleError('same-incident', 'merged_id', 'an incident cannot be merged into itself');
  }
  if (merged.mergedInto !== undefined) {
    throw new MergeRuleError('already-merged', 'merged_id', `incident ${merged.id} was merged already`);
  }
  if (survivor.mergedInto !== undefined) {
    throw new MergeRuleError(
      'already-merged',
      'survivor_id',
      `incident ${survivor.id} was merged into another; merge into that one`,
    );
  }
  if (merged.mergePending !== undefined || survivor.mergePending !== undefined) {
    throw new MergeRuleError('already-merged', 'merged_id', 'a merge of one of these incidents is under way');
  }
  if (survivor.status === 'closed') {
    throw new MergeRuleError('closed', 'survivor_id', `incident ${survivor.id} is closed`);
  }
  if (merged.status === 'closed') {
    throw new MergeRuleError('closed', 'merged_id', `incident ${merged.id} is closed`);
  }
  if (awareAt.getTime() !== survivor.awareAt.getTime() && awareAt.getTime() !== merged.awareAt.getTime()) {
    throw new MergeRuleError(
      'awareness-not-confirmed',
      'aware_at',
      "must be one of the two incidents' awareness times",
    );
  }
  const reports = new Set([...survivor.reportIds, ...merged.reportIds]).size;
  if (reports > MAX_INCIDENT_REPORTS) {
    throw new MergeRuleError(
      'full',
      'merged_id',
      `the survivor would hold ${reports} reports, more than ${MAX_INCIDENT_REPORTS}`,
    );
  }
}

/**
 * The first step: the merged incident is closed, points to the survivor, and carries what the
 * second step needs. It publishes nothing: the survivor's write announces the merge, once.
 */
export function markMerged(merged: Incident, pending: MergePending, now: Date): Change {
  return {
    incident: {
      ...merged,
      status: 'closed',
      mergedInto: pending.survivorId,
      mergePending: pending,
      updatedAt: now,
      version: merged.version + 1,
    },
    events: [],
  };
}

/**
 * The second step: the survivor keeps every report, observable, sector, jurisdiction, affected
 * asset and engagement of both, the most restrictive label of the two and the awareness time
 * the coordinator confirmed. Its severity inputs, status, title and source stay its own. The
 * event names both incidents and whom each was shared with before.
 */
export function absorb(survivor: Incident, merged: Incident, awareAt: Date, now: Date): Change {
  const next: Incident = {
    ...survivor,
    tlp: mostRestrictive(survivor.tlp, merged.tlp),
    sectors: union(survivor.sectors, merged.sectors),
    jurisdictions: union(survivor.jurisdictions, merged.jurisdictions),
    reportIds: union(survivor.reportIds, merged.reportIds),
    engagedAgencyIds: union(survivor.engagedAgencyIds, merged.engagedAgencyIds),
    reporterAgencyIds: union(survivor.reporterAgencyIds, merged.reporterAgencyIds),
    observables: mergeObservables(survivor.observables, merged.observables),
    affectedAssets: mergeAffectedAssets(survivor.affectedAssets, merged.affectedAssets),
    awareAt,
    mergedIncidentIds: union(survivor.mergedIncidentIds ?? [], [merged.id]),
    updatedAt: now,
    version: survivor.version + 1,
  };
  const event: MergedEvent = {
    kind: 'merged',
    incident: next,
    mergedId: merged.id,
    survivorBefore: recipientsOf(survivor),
    // As it was shared before the merge: the mark changes neither its label nor its recipients.
    mergedBefore: recipientsOf(merged),
  };
  return { incident: next, events: [event] };
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
