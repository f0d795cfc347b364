/**
 * What a response tells about its engagements to the agencies engaged (`ListAgencyEngagements`):
 * each engagement's state, escalation step, acknowledgement deadline and acknowledgement, and the
 * regulatory deadlines the incident runs against. The response computes it (it alone knows its
 * policy and the severity the deadlines follow) and keeps it in its workflow memo, where the
 * response API reads it for a whole page of incidents in one Visibility call.
 */
import { ackTimeoutMs, type ResponsePolicy } from './policy.js';

/** The memo key the response keeps its engagements under. */
export const ENGAGEMENTS_MEMO_KEY = 'engagements';

export type ListedEngagementState = 'engaging' | 'notified' | 'acknowledged' | 'unacknowledged' | 'removed';
export type ListedPhase = 'triage' | 'active' | 'resolved' | 'closed';

/** An engagement as the response holds it (`AgencyEngagementStatus`). */
export interface EngagementFacts {
  readonly agencyId: string;
  readonly state: ListedEngagementState;
  readonly reasons: readonly string[];
  readonly contactRank?: number;
  readonly role?: string;
  readonly notifiedAgencyId?: string;
  readonly round?: number;
  readonly noticesSent: number;
  readonly notifiedAtMs?: number;
  readonly acknowledgedAtMs?: number;
  readonly timeToAcknowledgeMs?: number;
  readonly via?: string;
  readonly acknowledgedBy?: string;
  readonly startedAtMs: number;
}

/** A regulatory obligation as the response schedules it (`ObligationStatus`). */
export interface ObligationFacts {
  readonly id: string;
  readonly regime: string;
  readonly title: string;
  readonly dueAtMs?: number;
  readonly state: 'open' | 'overdue' | 'filed';
}

export interface ResponseFacts {
  readonly phase: ListedPhase;
  readonly ncissLevel: number;
  readonly agencies: readonly EngagementFacts[];
  readonly obligations: readonly ObligationFacts[];
}

export interface ListedEngagement extends EngagementFacts {
  /** Past the first contact of the first round. */
  readonly escalated: boolean;
  /** While notified: when the contact must acknowledge before the chain moves on. */
  readonly acknowledgeByMs?: number;
}

export interface RegulatoryDeadline {
  readonly obligation: string;
  readonly regime: string;
  readonly title: string;
  readonly dueAtMs?: number;
  readonly state: 'open' | 'overdue';
}

/** The memo: small (a few hundred bytes an agency), and the same shape in every run. */
export interface EngagementsMemo {
  readonly v: 1;
  readonly phase: ListedPhase;
  readonly ncissLevel: number;
  /** By agency id. */
  readonly agencies: readonly ListedEngagement[];
  /** Unfiled reports, soonest first. */
  readonly deadlines: readonly RegulatoryDeadline[];
}

/**
 * The memo for the response as it stands. The acknowledgement deadline is the one the
 * engagement waits on: the notice's time plus the wait the policy gives the incident's level now
 * (a change of severity moves both).
 */
export function engagementsMemo(facts: ResponseFacts, policy: ResponsePolicy): EngagementsMemo {
  const agencies = [...facts.agencies]
    .sort((a, b) => a.agencyId.localeCompare(b.agencyId))
    .map((a): ListedEngagement => {
      const escalated =
        (a.round ?? 1) > 1 ||
        (a.contactRank ?? 0) > 0 ||
        (a.notifiedAgencyId !== undefined && a.notifiedAgencyId !== a.agencyId);
      const waitingSince = a.state === 'notified' ? a.notifiedAtMs : undefined;
      return {
        ...a,
        escalated,
        ...(waitingSince === undefined
          ? {}
          : { acknowledgeByMs: waitingSince + ackTimeoutMs(policy, facts.ncissLevel) }),
      };
    });
  const deadlines = facts.obligations
    .filter((o): o is ObligationFacts & { state: 'open' | 'overdue' } => o.state !== 'filed')
    .map((o) => ({
      obligation: o.id,
      regime: o.regime,
      title: o.title,
      ...(o.dueAtMs === undefined ? {} : { dueAtMs: o.dueAtMs }),
      state: o.state,
    }))
    .sort((x, y) => (x.dueAtMs ?? Infinity) - (y.dueAtMs ?? Infinity));
  return { v: 1, phase: facts.phase, ncissLevel: facts.ncissLevel, agencies, deadlines };
}

/** A memo read back from Visibility, or undefined when it is not one this code wrote. */
export function readEngagementsMemo(value: unknown): EngagementsMemo | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const memo = value as Partial<EngagementsMemo>;
  if (memo.v !== 1 || !Array.isArray(memo.agencies) || !Array.isArray(memo.deadlines)) return undefined;
  return memo as EngagementsMemo;
}
