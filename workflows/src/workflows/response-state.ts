/**
 * What an IncidentResponse keeps: plain data, handed whole from one run to the next on
 * continue-as-new (`ResponseLedger` holds the rules that change it).
 */
import type { ObligationId, Regime } from '@beacon/domain';
import type { ImpactSummary, IncidentSnapshot } from '../activities/types.js';
import type { EngagementDecision } from '../domain/engagement.js';
import type {
  AgencyEngagementStatus,
  ResponsePhase,
  TimelineEntry,
  VictimCaseStatus,
} from './definitions.js';
import type { InlineEngagementState } from './engagement-runs.js';
import type { HandOverState } from './merge-hand-over-state.js';
import type { TimelineState } from './timeline-keeper.js';
import type { VictimHandOverState } from './victim-hand-over.js';

export interface RegimeState {
  readonly regime: Regime;
  obligations: ObligationId[];
  reasons: string[];
  clockStarted: boolean;
  /** Set while the regime no longer applies to the incident as it now is; cleared if it does again. */
  withdrawn?: { reason: string; atMs: number };
}

export interface AlarmState {
  overdue: boolean;
  escalationLevel: number;
}

/**
 * Everything a run hands to the next on continue-as-new; the timeline's newest entries among it
 * (every entry is in the timeline store, `timeline-keeper.ts`).
 */
export interface ResponseState extends TimelineState, VictimHandOverState {
  phase: ResponsePhase;
  incident?: IncidentSnapshot;
  impact?: ImpactSummary;
  agencies: Record<string, AgencyEngagementStatus>;
  notCleared: EngagementDecision[];
  regimes: RegimeState[];
  filed: Partial<Record<ObligationId, { atMs: number; reference: string }>>;
  alarms: Partial<Record<ObligationId, AlarmState>>;
  ransomPaidAtMs?: number;
  /** Every payment once there is a second (`ransom-payments.ts`). */
  ransomPaymentsAtMs?: number[];
  victimCases: Record<string, VictimCaseStatus>;
  victimsChecked: boolean;
  resolution?: { requestedAtMs: number; summary: string };
  resolvedAtMs?: number;
  closedAtMs?: number;
  finalReport?: Record<string, unknown>;
  /** The newest incident intake announced, not yet applied. */
  pendingIncident?: IncidentSnapshot;
  /** The newest assessment impact announced, not yet applied. */
  pendingImpact?: ImpactSummary;
  /** Engaged agencies the rules no longer name, already put to the coordinator. */
  unmatched?: string[];
  /** Agencies intake announced as unassigned there, not yet checked. */
  pendingUnassigned?: string[];
  /** Search attribute values last written, to write only changes. */
  searchAttributes: Record<string, unknown>;
  runs: number;
  /** Merges into or of this incident (absent in runs from before merges). */
  merge?: HandOverState;
  /**
   * A lean response (`lean-triage`; absent in responses from before it): its short calls to the
   * services are local activities (`quick`), its children start together rather than one
   * workflow task after another, and it reads the registry and the victim cases side by side.
   */
  lean?: boolean;
  /** Its engagements run inside it (`inline-engagements`, which implies `lean`). */
  inline?: boolean;
  /** The engagements running inside it, as one run hands them to the next. */
  engagementRuns?: Record<string, InlineEngagementState>;
}

/** The state of a response that has just started, before triage. */
export function newResponseState(): ResponseState {
  return {
    phase: 'triage',
    agencies: {},
    notCleared: [],
    regimes: [],
    filed: {},
    alarms: {},
    victimCases: {},
    victimsChecked: false,
    timeline: [],
    searchAttributes: {},
    runs: 1,
  };
}

/** A timeline entry as the response notes it (the keeper stamps the time). */
export type Note = Omit<TimelineEntry, 'atMs'>;
