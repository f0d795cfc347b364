import type { Recipients, Tlp } from '@beacon/domain';
import type { Incident, IncidentStatus, Report } from './incident.js';

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
  | MergedEvent;

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
