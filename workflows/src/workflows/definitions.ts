/**
 * The messages the response workflows exchange with each other and with the outside: signals,
 * validated updates, queries, and the shapes they carry. Clients (the starter, the
 * acknowledgement consumer, the response API) import these same definitions.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DraftFacts, NcissInputs, ObligationId, Regime, Tlp } from '@beacon/domain';
import type { ImpactSummary, IncidentSnapshot, SeverityProposal } from '../activities/types.js';
import type { AlarmKind } from '../domain/alarms.js';
import type { EngagementDecision, EscalationStep } from '../domain/engagement.js';
import type { ResponsePolicy } from '../domain/policy.js';

export const TASK_QUEUE = 'response';

/** The search attributes coordinators filter on in the Temporal UI (registered by the test kit). */
export const SEARCH_ATTRIBUTES = {
  IncidentId: defineSearchAttributeKey('IncidentId', SearchAttributeType.KEYWORD),
  NcissLevel: defineSearchAttributeKey('NcissLevel', SearchAttributeType.INT),
  Sectors: defineSearchAttributeKey('Sectors', SearchAttributeType.KEYWORD_LIST),
  Jurisdictions: defineSearchAttributeKey('Jurisdictions', SearchAttributeType.KEYWORD_LIST),
  IncidentStatus: defineSearchAttributeKey('IncidentStatus', SearchAttributeType.KEYWORD),
  Tlp: defineSearchAttributeKey('Tlp', SearchAttributeType.KEYWORD),
} as const;

/**
 * Every agency a response has engaged, removed ones included (each engagement's state is in the
 * response's memo): what an agency's list of its engagements is read from
 * (`engagement-visibility.ts`). Registered with the others.
 */
export const AGENCY_IDS_ATTRIBUTE = defineSearchAttributeKey('AgencyIds', SearchAttributeType.KEYWORD_LIST);

export const responseWorkflowId = (incidentId: string) => `incident-${incidentId}`;
export const engagementWorkflowId = (incidentId: string, agencyId: string) =>
  `incident-${incidentId}-agency-${agencyId}`;
export const clockWorkflowId = (incidentId: string, regime: Regime) =>
  `incident-${incidentId}-clock-${regime.toLowerCase()}`;
export const victimFollowUpWorkflowId = (incidentId: string, caseId: string) =>
  `incident-${incidentId}-victim-${caseId}`;
/** The follow-up of every victim case of an incident (`victim-follow-ups`). */
export const victimFollowUpsWorkflowId = (incidentId: string) => `incident-${incidentId}-victims`;

/**
 * A victim follow-up's task priority (1 first, 5 last; everything else has the default, 3): its
 * first check-in is a day away, so a campaign's thousands of cases must not queue ahead of the
 * responses' triage on the shared task queue (the storm: 50,000 cases left 705 of 1,000
 * responses unstarted after 25 minutes). Its activities inherit it.
 */
export const VICTIM_FOLLOW_UP_PRIORITY = { priorityKey: 5 } as const;

// ---------------------------------------------------------------------------------------------
// IncidentResponse

export type ResponsePhase = 'triage' | 'active' | 'resolved' | 'closed';

export interface TimelineEntry {
  readonly atMs: number;
  readonly kind: string;
  readonly detail: string;
  readonly agencyId?: string;
  readonly obligation?: ObligationId;
}

export type EngagementState = 'engaging' | 'notified' | 'acknowledged' | 'unacknowledged' | 'removed';

export interface AgencyEngagementStatus {
  readonly agencyId: string;
  readonly state: EngagementState;
  readonly reasons: readonly string[];
  /** The step last notified. */
  readonly contactRank?: number;
  readonly role?: string;
  readonly notifiedAgencyId?: string;
  readonly round?: number;
  readonly noticesSent: number;
  readonly acknowledgedAtMs?: number;
  readonly timeToAcknowledgeMs?: number;
  readonly via?: string;
  /** Who acknowledged, when the response API knew (the caller's subject). */
  readonly acknowledgedBy?: string;
  readonly startedAtMs: number;
  /** When the step last notified was (absent in responses from before it was kept). */
  readonly notifiedAtMs?: number;
}

export type ObligationState = 'open' | 'overdue' | 'filed';

export interface ObligationStatus {
  readonly id: ObligationId;
  readonly regime: Regime;
  readonly title: string;
  readonly phase: 'initial' | 'final';
  readonly dueAtMs?: number;
  readonly state: ObligationState;
  readonly filedAtMs?: number;
  readonly reference?: string;
  readonly mustFileBeforeResolving: boolean;
  readonly escalationLevel: number;
  /** A draft of the report, prefilled (in the status query; not in commands' results). */
  readonly draft?: Record<string, unknown>;
}

export interface VictimCaseStatus {
  readonly caseId: string;
  readonly state: 'following-up' | 'escalated' | 'completed' | 'unavailable';
  readonly urgency: 'routine' | 'urgent' | 'unknown';
  readonly lastCheckInDay?: number;
}

export interface ResponseStatus {
  readonly incidentId: string;
  readonly phase: ResponsePhase;
  readonly title: string;
  readonly tlp: Tlp;
  readonly ncissScore: number;
  readonly ncissLevel: number;
  readonly sectors: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly awareAtMs: number;
  readonly impact?: ImpactSummary;
  readonly agencies: readonly AgencyEngagementStatus[];
  readonly notCleared: readonly EngagementDecision[];
  readonly regimes: readonly {
    readonly regime: Regime;
    readonly reasons: readonly string[];
    /** Why it no longer applies, while it does not: it owes nothing more. */
    readonly withdrawnReason?: string;
    readonly withdrawnAtMs?: number;
  }[];
  readonly obligations: readonly ObligationStatus[];
  /** Why the incident may not be resolved yet; empty when it may. */
  readonly resolveBlockers: readonly string[];
  readonly victimCases: readonly VictimCaseStatus[];
  /** The first ransom payment. */
  readonly ransomPaidAtMs?: number;
  /** Every ransom payment, in the order recorded; each owes its own CIRCIA report. */
  readonly ransomPaymentsAtMs: readonly number[];
  readonly resolvedAtMs?: number;
  readonly closedAtMs?: number;
  readonly resolutionSummary?: string;
  readonly finalReport?: Record<string, unknown>;
  /** Runs of this response so far: more than one after continue-as-new. */
  readonly runs: number;
}

export interface IncidentResponseInput {
  readonly incidentId: string;
  readonly policy?: ResponsePolicy;
  /** Set by continue-as-new: where the previous run left off. */
  readonly resumed?: unknown;
}

export interface ResponseOutcome {
  readonly incidentId: string;
  readonly phase: ResponsePhase;
  readonly agencies: readonly AgencyEngagementStatus[];
  readonly obligations: readonly ObligationStatus[];
  readonly runs: number;
  /** Set when the incident was merged into another and this response handed over to its. */
  readonly mergedInto?: string;
}

export interface AcknowledgementInput {
  readonly agencyId: string;
  /** feed, grpc, webhook-link, email-link (from notify) or coordinator. */
  readonly via: string;
  readonly note: string;
  readonly atMs: number;
  /** The person, when the response API took it (the token's subject). */
  readonly by?: string;
}

/** From the acknowledgement consumer when the engagement itself no longer runs. */
export const acknowledgedSignal = defineSignal<[AcknowledgementInput]>('acknowledged');

/** From an AgencyEngagement: where it stands. */
export interface EngagementChange {
  readonly agencyId: string;
  readonly state: Exclude<EngagementState, 'engaging'>;
  readonly step?: EscalationStep;
  readonly round?: number;
  readonly noticesSent: number;
  /** When the step was notified (state notified). */
  readonly notifiedAtMs?: number;
  readonly acknowledgement?: AcknowledgementInput;
  readonly timeToAcknowledgeMs?: number;
  readonly atMs: number;
}
export const engagementChangedSignal = defineSignal<[EngagementChange]>('engagementChanged');

/** From a RegulatoryClock: an alarm it raised. */
export interface ClockAlarm {
  readonly regime: Regime;
  readonly obligation: ObligationId;
  readonly kind: AlarmKind;
  readonly level: number;
  readonly dueAtMs: number;
  readonly atMs: number;
}
export const clockAlarmSignal = defineSignal<[ClockAlarm]>('clockAlarm');

/** From a VictimFollowUp. */
export interface VictimCaseChange {
  readonly caseId: string;
  readonly event: 'started' | 'check-in' | 'escalated' | 'completed' | 'unavailable';
  readonly urgency: 'routine' | 'urgent' | 'unknown';
  readonly day?: number;
  readonly detail: string;
  readonly atMs: number;
}
export const victimCaseChangedSignal = defineSignal<[VictimCaseChange]>('victimCaseChanged');
/** From the incident's VictimFollowUps: what happened to its cases since its last report, in order. */
export const victimCasesChangedSignal =
  defineSignal<[{ readonly changes: readonly VictimCaseChange[] }]>('victimCasesChanged');

/**
 * Intake changed the incident (its severity, or an agency a coordinator engaged there): the
 * incident as it now is. Older versions than the response holds are ignored.
 */
export const incidentChangedSignal = defineSignal<[IncidentSnapshot]>('incidentChanged');

/**
 * A report joined the incident with severity inputs intake kept as a proposal rather than apply
 * (the report was not the source agency's own): the response notes it for the coordinator.
 */
export const severityProposedSignal = defineSignal<[SeverityProposal]>('severityProposed');

/**
 * Impact assessed the incident again (a coordinator's re-assessment, or a registry change
 * that moved the cascade): its summary, which replaces the response's when newer.
 */
export const impactChangedSignal = defineSignal<[ImpactSummary]>('impactChanged');

/**
 * A coordinator unassigned the agency in intake directly: the response checks intake and, if
 * the agency is still not engaged there, ends its engagement (no more notices about the incident).
 */
export const agencyUnassignedSignal = defineSignal<[{ readonly agencyId: string }]>('agencyUnassigned');

/**
 * Intake merged this incident into `survivorId` (and closed it): the response hands its
 * engagements and filed reports over to the survivor's response, ends its own engagements and
 * clocks, and completes. Intake is not asked to move the incident: it is closed already.
 */
export const mergedIntoSignal = defineSignal<[{ readonly survivorId: string }]>('mergedInto');

/** What the response of a merged incident hands to the survivor's. */
export interface HandOver {
  readonly mergedId: string;
  /** Its engagements as they stood before it ended them. */
  readonly agencies: readonly AgencyEngagementStatus[];
  /** Reports already filed about the merged incident: the authority has them. */
  readonly filed: Partial<Record<ObligationId, { readonly atMs: number; readonly reference: string }>>;
}

/**
 * To the survivor's response: an incident was merged into it (sent by the merged incident's
 * response, or by the change signaller when that has no response). The survivor re-reads itself
 * from intake, takes over the engagements it lacks, never doubling one, and moves its clocks.
 */
export const handOverSignal = defineSignal<[HandOver]>('handOver');

/** A victim case linked to the incident after the response started (victims service, officer). */
export const linkVictimCaseSignal = defineSignal<[{ readonly caseId: string }]>('linkVictimCase');

// Coordinator commands: validated updates. Each returns the response's status afterwards.
export interface AcknowledgeCommand {
  readonly agencyId: string;
  readonly note: string;
  /** Who recorded it: `coordinator`, or the agency's own call through the response API. */
  readonly via: string;
  /** The caller's subject. */
  readonly by?: string;
}
export const acknowledgeUpdate = defineUpdate<ResponseStatus, [AcknowledgeCommand]>('acknowledge');
/** Moves an engagement (or every open one, when `agencyId` is empty) to its next contact now. */
export const escalateUpdate = defineUpdate<ResponseStatus, [{ readonly agencyId: string }]>('escalate');
export const addAgencyUpdate = defineUpdate<
  ResponseStatus,
  [{ readonly agencyId: string; readonly reason: string }]
>('addAgency');
export const removeAgencyUpdate = defineUpdate<
  ResponseStatus,
  [{ readonly agencyId: string; readonly reason: string }]
>('removeAgency');
export const changeSeverityUpdate = defineUpdate<ResponseStatus, [{ readonly inputs: NcissInputs }]>(
  'changeSeverity',
);
export interface FileReportCommand {
  readonly obligation: ObligationId;
  /** The authority's reference for the filed report. */
  readonly reference: string;
  /** When it was filed; now when absent. */
  readonly filedAtMs?: number;
}
export const fileReportUpdate = defineUpdate<ResponseStatus, [FileReportCommand]>('fileReport');
export const recordRansomPaymentUpdate = defineUpdate<ResponseStatus, [{ readonly paidAtMs: number }]>(
  'recordRansomPayment',
);
/** Refused, with the reasons, while reports that must come first are unfiled. */
export const resolveUpdate = defineUpdate<ResponseStatus, [{ readonly summary: string }]>('resolve');

export const statusQuery = defineQuery<ResponseStatus>('status');
export const timelineQuery = defineQuery<readonly TimelineEntry[]>('timeline');

// ---------------------------------------------------------------------------------------------
// AgencyEngagement

export interface AgencyEngagementInput {
  readonly incidentId: string;
  readonly agencyId: string;
  readonly parentWorkflowId: string;
  readonly tlp: Tlp;
  readonly ncissLevel: number;
  readonly chain: readonly EscalationStep[];
  readonly policy: ResponsePolicy;
  /**
   * Intake has the agency engaged already (a coordinator assigned it there): the engagement
   * does not assign it again, so a coordinator's removal made meanwhile is never undone.
   */
  readonly assignedInIntake?: boolean;
  /** Started by a lean response: its call to intake is a local activity (see `quick`). */
  readonly lean?: boolean;
  readonly resumed?: unknown;
}

export interface AgencyEngagementOutcome {
  readonly agencyId: string;
  readonly state: 'acknowledged' | 'unacknowledged' | 'removed';
  readonly noticesSent: number;
  readonly acknowledgement?: AcknowledgementInput;
  readonly timeToAcknowledgeMs?: number;
}

export const acknowledgeSignal = defineSignal<[AcknowledgementInput]>('acknowledge');
export const escalateNowSignal = defineSignal('escalateNow');
/**
 * The incident's severity or label changed: the wait at the current contact follows the level,
 * the engagement's events the label (absent from responses before merges: the start's stands).
 */
export const severityChangedSignal =
  defineSignal<[{ readonly ncissLevel: number; readonly tlp?: Tlp }]>('severityChanged');

// ---------------------------------------------------------------------------------------------
// RegulatoryClock

export interface ClockFactsInput {
  readonly obligations: readonly ObligationId[];
  readonly ransomPaidAtMs?: number;
  /** Every payment, once there is more than one (absent from facts sent before). */
  readonly ransomPaymentsAtMs?: readonly number[];
  readonly draftFacts: DraftFacts;
  /**
   * The incident's awareness time and label now, when they may have moved since the clock
   * started (a merge); absent in facts sent before merges existed, when the start's stand.
   */
  readonly awareAtMs?: number;
  readonly tlp?: Tlp;
  /** The regime no longer applies: no reminder or alarm until it applies again. */
  readonly withdrawn?: boolean;
}

export interface RegulatoryClockInput extends ClockFactsInput {
  readonly incidentId: string;
  readonly parentWorkflowId: string;
  readonly regime: Regime;
  readonly awareAtMs: number;
  readonly tlp: Tlp;
  readonly policy: ResponsePolicy;
  readonly resumed?: unknown;
}

export interface RegulatoryClockOutcome {
  readonly regime: Regime;
  readonly filed: Partial<Record<ObligationId, number>>;
  readonly alarmsRaised: number;
  /** The survivor's id when the incident was merged and its clocks took over. */
  readonly handedOverTo?: string;
  /** The regime no longer applied when the incident was resolved. */
  readonly withdrawn?: boolean;
}

export const reportFiledSignal =
  defineSignal<
    [{ readonly obligation: ObligationId; readonly filedAtMs: number; readonly reference: string }]
  >('reportFiled');
export const incidentResolvedSignal = defineSignal<[{ readonly resolvedAtMs: number }]>('incidentResolved');
export const clockFactsSignal = defineSignal<[ClockFactsInput]>('clockFacts');
/** The incident was merged into another, whose own clocks count its deadlines: this one ends. */
export const clockHandedOverSignal = defineSignal<[{ readonly survivorId: string }]>('clockHandedOver');

// ---------------------------------------------------------------------------------------------
// VictimFollowUp

export interface VictimFollowUpInput {
  readonly incidentId: string;
  readonly caseId: string;
  readonly parentWorkflowId: string;
  readonly tlp: Tlp;
  /** Days after the start, unless the case has its own schedule. */
  readonly checkInDays: readonly number[];
}

export interface VictimFollowUpOutcome {
  readonly caseId: string;
  readonly checkIns: number;
  readonly escalated: boolean;
}

/** The case changed in the victims service (e.g. its officer marked it urgent). */
export const caseUpdatedSignal = defineSignal<[{ readonly urgency: 'routine' | 'urgent' }]>('caseUpdated');

// ---------------------------------------------------------------------------------------------
// VictimFollowUps

/** A case as the incident's follow-ups keep it, and hand it to their next run. */
export interface FollowedVictimCase {
  readonly caseId: string;
  readonly startedAtMs: number;
  /** Check-in days after the start, in order. */
  readonly schedule: readonly number[];
  /** How many of them are done. */
  done: number;
  escalated: boolean;
  /** The victims service flagged it urgent; not escalated yet. */
  flagged?: boolean;
}

export interface VictimFollowUpsInput {
  readonly incidentId: string;
  readonly parentWorkflowId: string;
  readonly tlp: Tlp;
  /** Days after a case's start, unless the case has its own schedule. */
  readonly checkInDays: readonly number[];
  /** Cases to start following. */
  readonly caseIds: readonly string[];
  /** A run hands its cases to a new one before its history grows past this (the response's). */
  readonly maxHistoryEvents: number;
  /** What an earlier run handed on (continue-as-new). */
  readonly resumed?: {
    readonly cases: readonly FollowedVictimCase[];
    readonly totals: VictimFollowUpsOutcome;
  };
}

export interface VictimFollowUpsOutcome {
  readonly followed: number;
  readonly checkIns: number;
  readonly escalated: number;
}

/** More cases of the incident to follow (the response heard of them); known ones are ignored. */
export const followVictimCasesSignal = defineSignal<
  [
    {
      readonly caseIds: readonly string[];
      /** The incident's label as the response holds it now (absent in signals from before). */
      readonly tlp?: Tlp;
    },
  ]
>('followVictimCases');
/** One of the incident's cases changed in the victims service (e.g. its officer marked it urgent). */
export const victimCaseUpdatedSignal =
  defineSignal<[{ readonly caseId: string; readonly urgency: 'routine' | 'urgent' }]>('victimCaseUpdated');
