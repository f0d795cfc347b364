/**
 * The activities the response workflows call, as types only: workflows import this file with
 * `import type`, and `createActivities` implements it against the real services. Times are
 * milliseconds since the epoch so they survive Temporal's JSON payloads unchanged.
 */
import type { NcissInput, NcissInputs, NcissInputSource, PartialNcissInputs, Tlp } from '@beacon/domain';
import type { AgencyProfile } from '../domain/engagement.js';
import type { NumberedTimelineEntry } from '../domain/timeline.js';

/** The lifecycle states of an incident in intake that the response moves it through. */
export type IncidentLifecycle = 'reported' | 'triage' | 'active' | 'contained' | 'resolved' | 'closed';

/** What the response needs of an incident, as intake holds it. */
export interface IncidentSnapshot {
  readonly id: string;
  readonly title: string;
  readonly status: IncidentLifecycle;
  readonly tlp: Tlp;
  readonly rsitClass: string;
  readonly rsitType: string;
  readonly sectors: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly severityInputs: NcissInputs;
  readonly ncissScore: number;
  readonly ncissLevel: number;
  readonly awareAtMs: number;
  readonly engagedAgencyIds: readonly string[];
  readonly affectedAssets: readonly { readonly assetId: string; readonly loss: number }[];
  readonly version: number;
  /**
   * Who set each severity input (intake's record); an input without one is the baseline.
   * Absent from snapshots an older worker recorded.
   */
  readonly severityOrigins?: { readonly [K in NcissInput]?: SeverityInputOrigin };
}

/** Who set a severity input: the reporter (which agency, which report), a coordinator, impact. */
export interface SeverityInputOrigin {
  readonly source: NcissInputSource;
  readonly agencyId?: string;
  readonly reportId?: string;
}

/** Severity inputs a joining report gave that intake did not apply (not the source agency's). */
export interface SeverityProposal {
  readonly reportId: string;
  /** Absent when the coordination centre filed the report. */
  readonly agencyId?: string;
  readonly inputs: PartialNcissInputs;
}

/** The part of impact's cascade assessment the response acts on. */
export interface ImpactSummary {
  readonly impactedAssets: number;
  readonly populationAffected: number;
  /** Sectors and jurisdictions the cascade reaches, the directly hit ones included. */
  readonly sectorsReached: readonly string[];
  readonly jurisdictionsReached: readonly string[];
  /**
   * The (sector, jurisdiction) places the cascade reaches. Absent from assessments an older
   * worker recorded: a response replaying one matches as that worker did.
   */
  readonly placesReached?: readonly { readonly sector: string; readonly jurisdiction: string }[];
  /** Impact's revision of the assessment: a later one replaces it (absent from older workers'). */
  readonly revision?: number;
  /** The NCISS inputs the cascade implies. */
  readonly crossSectorDependency: string;
  readonly potentialImpact: string;
}

export interface EngagementNoticeRequest {
  readonly incidentId: string;
  /** Whose contact is notified. */
  readonly agencyId: string;
  readonly contactRank: number;
  /** The engaged agency, when the notice goes to another agency's SPOC about it. */
  readonly regardingAgencyId: string;
  /** Which pass over the chain, from 1. */
  readonly round: number;
  readonly ncissLevel: number;
  /** When the response stops waiting for this contact. */
  readonly acknowledgeByMs: number;
}

export interface EngagementNoticeResult {
  readonly noticeId: string;
  /** False when notify had already sent a notice under this activity's key: nothing new was sent. */
  readonly first: boolean;
  readonly sentAtMs: number;
}

/** Events the response publishes to `beacon.evt.response.<event>`. */
export type ResponseEvent =
  | {
      readonly type: 'report-due' | 'report-overdue';
      readonly incidentId: string;
      readonly tlp: Tlp;
      readonly regime: string;
      readonly obligation: string;
      readonly dueAtMs: number;
      /** 0 for a reminder or the overdue alarm, then 1, 2… for each escalation. */
      readonly escalationLevel: number;
      readonly draft: Record<string, unknown>;
      readonly atMs: number;
    }
  | {
      readonly type: 'engagement-escalated' | 'engagement-unacknowledged';
      readonly incidentId: string;
      readonly tlp: Tlp;
      readonly agencyId: string;
      /** The step now notified (escalated) or the last one tried (unacknowledged). */
      readonly toAgencyId: string;
      readonly contactRank: number;
      readonly role: string;
      readonly round: number;
      readonly atMs: number;
    }
  | {
      readonly type: 'victim-escalated';
      readonly incidentId: string;
      readonly tlp: Tlp;
      readonly caseId: string;
      readonly reason: string;
      readonly atMs: number;
    }
  | {
      readonly type: 'final-report';
      readonly incidentId: string;
      readonly tlp: Tlp;
      readonly report: Record<string, unknown>;
      readonly atMs: number;
    };

/** Intake: the incident itself. */
export interface IncidentActivities {
  loadIncident(incidentId: string): Promise<IncidentSnapshot>;
  /**
   * Moves the incident to `to` when its lifecycle allows it from where it is; a no-op when it
   * is there already or has moved past. Returns the status it is in afterwards.
   */
  transitionIncident(incidentId: string, to: IncidentLifecycle, reason: string): Promise<IncidentLifecycle>;
  /**
   * The incident as it stands once moved to triage (`transitionIncident(id, 'triage')` and
   * `loadIncident` in one call): what a response reads first.
   */
  enterTriage(incidentId: string, reason: string): Promise<IncidentSnapshot>;
  /** Raises (never lowers) the two inputs a cascade informs; returns the incident afterwards. */
  raiseSeverity(
    incidentId: string,
    implied: { readonly crossSectorDependency: string; readonly potentialImpact: string },
  ): Promise<IncidentSnapshot>;
  /** Replaces the severity inputs (a coordinator's command). */
  updateSeverity(incidentId: string, inputs: NcissInputs): Promise<IncidentSnapshot>;
  /** Engages the agency on the incident in intake; already engaged is success. */
  engageAgency(incidentId: string, agencyId: string): Promise<void>;
  /** Ends the agency's engagement in intake, and the access it gave; not engaged is success. */
  disengageAgency(incidentId: string, agencyId: string): Promise<void>;
}

/** Impact: the cascade. */
export interface ImpactActivities {
  /** Null when the incident names no affected asset the registry knows. */
  assessImpact(
    incidentId: string,
    affectedAssets: readonly { readonly assetId: string; readonly loss: number }[],
  ): Promise<ImpactSummary | null>;
}

/** Notify: the registry and engagement notices. */
export interface NotifyActivities {
  listAgencies(): Promise<AgencyProfile[]>;
  /** Sends one engagement notice, at most once per activity (its key is workflow + activity id). */
  notifyEngagement(request: EngagementNoticeRequest): Promise<EngagementNoticeResult>;
}

/** JetStream: the response's own events, at most once per activity. */
export interface EventActivities {
  publishResponseEvent(event: ResponseEvent): Promise<void>;
}

/** The timeline store: what the response noted, numbered, appended in order and each entry once. */
export interface TimelineActivities {
  recordTimeline(incidentId: string, entries: readonly NumberedTimelineEntry[]): Promise<void>;
}

/** A victim case as the follow-up needs it. */
export interface VictimCase {
  readonly caseId: string;
  readonly urgency: 'routine' | 'urgent';
  /** The case's own check-in schedule in days, when its officer set one. */
  readonly checkInDays?: readonly number[];
}

export interface CheckInResult {
  readonly urgency: 'routine' | 'urgent';
  readonly note?: string;
}

/**
 * The victims service. A worker started without its address runs without it, and these
 * activities fail with `VictimsServiceUnavailable`.
 */
export interface VictimActivities {
  /** Victim cases linked to the incident. */
  listVictimCases(incidentId: string): Promise<string[]>;
  /** The case's urgency and schedule. */
  getCase(caseId: string): Promise<VictimCase>;
  /** Records a check-in (once per activity) and returns the urgency it found. */
  recordCheckIn(
    caseId: string,
    checkIn: { readonly day: number; readonly dueAtMs: number },
  ): Promise<CheckInResult>;
  /** Hands the case to the victim officer's escalation (once per activity). */
  escalateCase(caseId: string, reason: string): Promise<void>;
}

export type ResponseActivities = IncidentActivities &
  ImpactActivities &
  NotifyActivities &
  EventActivities &
  TimelineActivities &
  VictimActivities;
