import type {
  Classification,
  NcissInputs,
  Observable,
  PartialNcissInputs,
  Severity,
  Tlp,
} from '@beacon/domain';
import type { AffectedAsset } from './affected-asset.js';
import type { SeverityOrigins, SeverityProposal } from './severity.js';

/** An observable on an incident, with the label of the report it came from. */
export interface IncidentObservable extends Observable {
  readonly tlp: Tlp;
  readonly reportId: string;
}

export const INCIDENT_STATUSES = ['reported', 'triage', 'active', 'contained', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * Allowed lifecycle moves. Forward along the lifecycle, with two ways back that real responses
 * need: a contained incident flares up again (contained → active) and a resolved one is
 * reopened (resolved → active). Closed is final.
 */
const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  reported: ['triage', 'active', 'closed'],
  triage: ['active', 'resolved', 'closed'],
  active: ['contained', 'resolved'],
  contained: ['active', 'resolved'],
  resolved: ['active', 'closed'],
  closed: [],
};

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: IncidentStatus): readonly IncidentStatus[] {
  return TRANSITIONS[from];
}

/** A report as filed by an agency; immutable once stored. */
export interface Report {
  readonly id: string;
  readonly incidentId: string;
  /** The filing agency; absent when the coordination centre itself filed the report. */
  readonly reporterAgencyId: string | undefined;
  readonly title: string;
  readonly description: string;
  readonly tlp: Tlp;
  readonly classification: Classification;
  readonly sectors: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly observables: readonly Observable[];
  /** Assets the report says are directly affected, each once. */
  readonly affectedAssets: readonly AffectedAsset[];
  /** The reporter's NCISS judgement: only the inputs it gave (absent: none). */
  readonly severityInputs?: PartialNcissInputs | undefined;
  readonly awareAt: Date;
  readonly submittedAt: Date;
}

/** The coordinated case that reports attach to. */
export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly status: IncidentStatus;
  /** The most restrictive label of the incident and every report attached to it. */
  readonly tlp: Tlp;
  readonly classification: Classification;
  readonly sectors: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly severityInputs: NcissInputs;
  readonly severity: Severity;
  /** Who set each input (see `severity.ts`); an input without an origin is the baseline. */
  readonly severityOrigins: SeverityOrigins;
  /** Inputs joining reports gave that the incident did not take, oldest first. */
  readonly severityProposals: readonly SeverityProposal[];
  readonly reportIds: readonly string[];
  /** Agencies the coordinator engaged: named recipients under TLP, with the source. */
  readonly engagedAgencyIds: readonly string[];
  /**
   * The agency whose report opened the incident: the source of its information under TLP.
   * Absent when a coordinator opened it. Agencies whose reports merely correlated with it are
   * not named recipients: the coordinator decides whom to engage.
   */
  readonly sourceAgencyId: string | undefined;
  /** Agencies whose reports are attached. */
  readonly reporterAgencyIds: readonly string[];
  /** Each observable once, with the most permissive label any report gave it. */
  readonly observables: readonly IncidentObservable[];
  /**
   * Assets directly affected: the union over the incident's own request and every attached
   * report, each with the largest loss any of them gave it.
   */
  readonly affectedAssets: readonly AffectedAsset[];
  /** Earliest awareness among its reports: regulatory clocks count from here. */
  readonly awareAt: Date;
  readonly openedAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
  /** Set when a coordinator merged this incident into another: the survivor's id. It is closed. */
  readonly mergedInto?: string | undefined;
  /** Incidents merged into this one (each once): a repeated merge finds itself done here. */
  readonly mergedIncidentIds?: readonly string[] | undefined;
  /**
   * A merge of this incident started and not yet known to be in the survivor: what a recovery
   * sweep needs to finish it (there are no multi-document transactions to do both at once).
   */
  readonly mergePending?: MergePending | undefined;
}

/** The half-done merge a merged incident carries until the survivor has it. */
export interface MergePending {
  readonly survivorId: string;
  /** The awareness time the coordinator confirmed for the survivor. */
  readonly awareAt: Date;
  /** Who merged, for the survivor's audit record. */
  readonly actor: string;
  readonly actorAgencyId: string | undefined;
  readonly at: Date;
}
