import { observableKey, relationLabel, type Observable, type Tlp } from '@beacon/domain';

/**
 * Two incidents a report showed to share indicators, when the report could not join the one it
 * matched (its reporter may not read it, or the report is labelled more restrictively). The
 * report opened, or joined, an incident of its own instead; the relation tells the coordinators
 * cleared for both, and nobody else, so that they may merge the two.
 */
export interface PossibleRelation {
  /** Derived from the two incident ids (`relationId`): one relation per pair, however found. */
  readonly id: string;
  /** The incident the report went to. */
  readonly incidentId: string;
  /** The incident it matched and could not join. */
  readonly relatedIncidentId: string;
  /** The indicators the two share, as far as the reports that found it showed. */
  readonly observables: readonly Observable[];
  /** The reports that found it. */
  readonly reportIds: readonly string[];
  /** The more restrictive of the two incidents' labels when it was found. */
  readonly tlp: Tlp;
  readonly foundAt: Date;
}

/** A pair of incidents, in either order, has one id: recording it twice stores it once. */
export function relationId(a: string, b: string): string {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `rel_${first}_${second}`;
}

/** The relation a report found between the incident it went to and one it could not join. */
export function findRelation(
  report: { readonly id: string; readonly incidentId: string; readonly observables: readonly Observable[] },
  related: { readonly id: string; readonly tlp: Tlp; readonly sharedKeys: readonly string[] },
  incidentTlp: Tlp,
  now: Date,
): PossibleRelation {
  const shared = new Set(related.sharedKeys);
  return {
    id: relationId(report.incidentId, related.id),
    incidentId: report.incidentId,
    relatedIncidentId: related.id,
    observables: report.observables
      .filter((o) => shared.has(observableKey(o)))
      .map(({ type, value }) => ({ type, value })),
    reportIds: [report.id],
    tlp: relationLabel(incidentTlp, related.tlp),
    foundAt: now,
  };
}
