import type { Recipients, Tlp } from '@beacon/domain';
import type { Incident, IncidentStatus, Report } from './incident.js';
import type { PossibleRelation } from './relation.js';
import type { SeverityInputChange } from './severity.js';

/** What intake tells the rest of Beacon, one variant per `beacon.evt.incident.<kind>` subject. */
export type IntakeEvent =
  | {
      readonly kind: 'reported';
      readonly report: Report;
      /** The label of the incident it joined or opened: the event links the two. */
      readonly label: Tlp;
    }
  | { readonly kind: 'opened'; readonly incident: Incident }
  | { readonly kind: 'report-attached'; readonly incident: Incident; readonly reportId: string }
  | {
      readonly kind: 'severity-changed';
      readonly incident: Incident;
      readonly previousScore: number;
      readonly previousLevel: number;
      /** The inputs that moved, each with where its new category came from. */
      readonly changes: readonly SeverityInputChange[];
    }
  | {
      readonly kind: 'status-changed';
      readonly incident: Incident;
      readonly previousStatus: IncidentStatus;
      readonly reason: string;
    }
  | { readonly kind: 'agency-assigned'; readonly incident: Incident; readonly agencyId: string }
  | { readonly kind: 'agency-unassigned'; readonly incident: Incident; readonly agencyId: string }
  | { readonly kind: 'resolved'; readonly incident: Incident }
  | MergedEvent
  | {
      readonly kind: 'facts-revised';
      readonly incident: Incident;
      readonly previousTlp: Tlp;
      readonly previousAwareAt: Date;
      readonly reason: string;
    }
  /**
   * A report matched an incident it could not join (see `PossibleRelation`): for the
   * coordinators cleared for both incidents only, never for an agency's feed.
   */
  | { readonly kind: 'relation-found'; readonly relation: PossibleRelation };

/** A coordinator merged `mergedId` into `incident`, the survivor as it now is. */
export interface MergedEvent {
  readonly kind: 'merged';
  readonly incident: Incident;
  readonly mergedId: string;
  /**
   * Whom each incident was shared with before: with the survivor's recipients now, what a
   * consumer needs to tell the agencies that lost access (`agenciesLosingAccess`).
   */
  readonly survivorBefore: Recipients;
  readonly mergedBefore: Recipients;
}

export type IntakeEventKind = IntakeEvent['kind'];
