import type { Jurisdiction } from '@beacon/domain';
import { applyConsent, CONSENT_HISTORY_KEPT, hasConsent, type ConsentState } from './consent.js';
import { cancelDue, onBecameUrgent, recordOutcome, schedule } from './follow-up.js';
import type {
  Assessment,
  CaseStatus,
  CheckIn,
  CheckInOutcome,
  CloseReason,
  ConsentRecord,
  DeclineReason,
  NeedKind,
  NeedSummary,
  Referral,
  VictimKind,
} from './model.js';
import { newNeedKinds } from './needs.js';

/**
 * A victim case without its personal data: what may be stored in the clear, counted,
 * routed and followed up on. The personal data travels beside it, encrypted.
 */
export interface CaseState {
  readonly id: string;
  /** The organisation whose officer opened the case: the controller of its data. */
  readonly ownerOrgId: string;
  /** The owner and every organisation whose referral it accepted, while consent stands. */
  readonly assignedOrgIds: readonly string[];
  readonly incidentIds: readonly string[];
  readonly reportIds: readonly string[];
  readonly jurisdiction: Jurisdiction;
  readonly language: string;
  readonly victimKind: VictimKind;
  readonly assessment: Assessment;
  readonly consents: ConsentState;
  /** Every consent decision, oldest first (the last `CONSENT_HISTORY_KEPT`). */
  readonly consentLog: readonly ConsentRecord[];
  readonly referrals: readonly Referral[];
  readonly checkIns: readonly CheckIn[];
  readonly reviewRequested: boolean;
  readonly openedAt: Date;
  readonly updatedAt: Date;
  readonly closedAt?: Date;
  readonly closeReason?: CloseReason;
  readonly erasedAt?: Date;
  /** 1 when opened; each change adds one. */
  readonly version: number;
}

/** What happened to a case, as published (without personal data) on BEACON_EVENTS. */
export type CaseEvent =
  | { readonly type: 'case-opened' }
  | { readonly type: 'need-identified'; readonly need: NeedSummary }
  | { readonly type: 'referral-made'; readonly referral: Referral }
  | { readonly type: 'referral-accepted'; readonly referral: Referral }
  | { readonly type: 'case-closed'; readonly reason: CloseReason; readonly erased: boolean };

/** A change to a case: its new state, the events it raises, and organisations' places it frees. */
export interface CaseChange {
  readonly state: CaseState;
  readonly events: readonly CaseEvent[];
  /** One entry per referral place given back (an organisation may appear more than once). */
  readonly released: readonly string[];
}

export class CaseRuleError extends Error {
  override readonly name = 'CaseRuleError';
  constructor(
    readonly kind: 'closed' | 'erased' | 'no-referral' | 'not-offered' | 'check-in',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function statusOf(state: Pick<CaseState, 'closedAt' | 'referrals'>): CaseStatus {
  if (state.closedAt) return 'closed';
  if (state.referrals.some((r) => r.state === 'accepted')) return 'in-support';
  if (state.referrals.some((r) => r.state === 'offered')) return 'referred';
  return 'open';
}

/** Whether a referral holds one of its organisation's places. */
function holdsPlace(referral: Referral, closed: boolean): boolean {
  return !closed && (referral.state === 'offered' || referral.state === 'accepted');
}

function released(before: CaseState, after: CaseState): string[] {
  const held = new Map(before.referrals.map((r) => [r.id, holdsPlace(r, before.closedAt !== undefined)]));
  return after.referrals
    .filter((r) => held.get(r.id) === true && !holdsPlace(r, after.closedAt !== undefined))
    .map((r) => r.organisationId);
}

function change(before: CaseState, after: CaseState, events: readonly CaseEvent[]): CaseChange {
  return { state: after, events, released: released(before, after) };
}

function requireOpen(state: CaseState): void {
  if (state.erasedAt) throw new CaseRuleError('erased', 'the victim’s data was erased; the case is closed');
  if (state.closedAt) throw new CaseRuleError('closed', 'the case is closed');
}

export interface OpenCaseInput {
  readonly id: string;
  readonly ownerOrgId: string;
  readonly incidentIds: readonly string[];
  readonly reportIds: readonly string[];
  readonly jurisdiction: Jurisdiction;
  readonly language: string;
  readonly victimKind: VictimKind;
  readonly assessment: Assessment;
  readonly consents: readonly ConsentRecord[];
  /** Made at once: a crisis referral. */
  readonly referrals?: readonly NewReferral[];
}

/**
 * A new case: check-ins are scheduled only when the victim consents to contact. It raises
 * case-opened (which names the needs found at opening) and a referral-made for each referral
 * offered; need-identified is for needs found after that.
 */
export function openCase(input: OpenCaseInput, now: Date): CaseChange {
  let consents: ConsentState = {};
  for (const record of input.consents) consents = applyConsent(consents, record).state;
  const state: CaseState = {
    id: input.id,
    ownerOrgId: input.ownerOrgId,
    assignedOrgIds: [input.ownerOrgId],
    incidentIds: [...input.incidentIds],
    reportIds: [...input.reportIds],
    jurisdiction: input.jurisdiction,
    language: input.language,
    victimKind: input.victimKind,
    assessment: input.assessment,
    consents,
    consentLog: [...input.consents],
    referrals: (input.referrals ?? []).map((r, i) => referral(r, i + 1, now)),
    checkIns: hasConsent(consents, 'contact') ? schedule(now, input.assessment.urgent) : [],
    reviewRequested: false,
    openedAt: now,
    updatedAt: now,
    version: 1,
  };
  return {
    state,
    events: [
      { type: 'case-opened' },
      ...state.referrals
        .filter((r) => r.state === 'offered')
        .map((r) => ({ type: 'referral-made' as const, referral: r })),
    ],
    released: [],
  };
}

function referral(r: NewReferral, n: number, now: Date): Referral {
  return {
    id: `ref-${n}`,
    organisationId: r.organisationId,
    needs: [...r.needs],
    crisis: r.crisis,
    state: r.state,
    madeAt: now,
  };
}

/** A new assessment; each need kind the case did not have raises need-identified. */
export function reassess(state: CaseState, assessment: Assessment, now: Date): CaseChange {
  requireOpen(state);
  const becameUrgent = assessment.urgent && !state.assessment.urgent;
  const next: CaseState = {
    ...state,
    assessment,
    checkIns: becameUrgent ? onBecameUrgent(state.checkIns, now) : state.checkIns,
    updatedAt: now,
    version: state.version + 1,
  };
  return change(
    state,
    next,
    newNeedKinds(state.assessment.needs, assessment.needs).map((need) => ({ type: 'need-identified', need })),
  );
}

/**
 * Records a consent decision. Withdrawing consent to share with support organisations
 * withdraws every referral, and organisations that accepted one lose access to the case;
 * withdrawing contact cancels the check-ins still due; granting contact schedules them.
 * (Activating referrals that waited for consent needs the registry: the caller does it.)
 */
export function recordConsent(state: CaseState, record: ConsentRecord, now: Date): CaseChange {
  requireOpen(state);
  const { state: consents, granted, withdrawn } = applyConsent(state.consents, record);
  let next: CaseState = {
    ...state,
    consents,
    consentLog: [...state.consentLog, record].slice(-CONSENT_HISTORY_KEPT),
    updatedAt: now,
    version: state.version + 1,
  };
  if (record.purpose === 'share-support' && withdrawn) {
    next = {
      ...next,
      referrals: next.referrals.map((r) =>
        r.state === 'offered' || r.state === 'accepted' || r.state === 'awaiting-consent'
          ? { ...r, state: 'withdrawn' as const, respondedAt: now }
          : r,
      ),
      assignedOrgIds: [state.ownerOrgId],
    };
  }
  if (record.purpose === 'contact') {
    if (withdrawn) next = { ...next, checkIns: cancelDue(next.checkIns) };
    if (granted && !next.checkIns.some((c) => c.state === 'due')) {
      next = {
        ...next,
        checkIns: [...next.checkIns, ...schedule(now, next.assessment.urgent, next.checkIns)],
      };
    }
  }
  return change(state, next, []);
}

export interface NewReferral {
  readonly organisationId: string;
  readonly needs: readonly NeedKind[];
  readonly crisis: boolean;
  /** `awaiting-consent` when sharing is not consented to yet (an urgent case only). */
  readonly state: 'offered' | 'awaiting-consent';
}

/** Adds referrals (ids `ref-<n>`); each offered one raises referral-made. */
export function addReferrals(state: CaseState, referrals: readonly NewReferral[], now: Date): CaseChange {
  requireOpen(state);
  const top = state.referrals.reduce((max, r) => Math.max(max, Number(r.id.slice(4)) || 0), 0);
  const added = referrals.map((r, i) => referral(r, top + 1 + i, now));
  const next: CaseState = {
    ...state,
    referrals: [...state.referrals, ...added],
    updatedAt: now,
    version: state.version + 1,
  };
  return change(
    state,
    next,
    added.filter((r) => r.state === 'offered').map((referral) => ({ type: 'referral-made', referral })),
  );
}

/**
 * Offers a referral that waited for consent, to the organisation chosen now (the one chosen
 * before, or another if that one filled up meanwhile); raises referral-made.
 */
export function offerAwaiting(
  state: CaseState,
  referralId: string,
  organisationId: string,
  now: Date,
): CaseChange {
  requireOpen(state);
  const target = state.referrals.find((r) => r.id === referralId);
  if (!target || target.state !== 'awaiting-consent') {
    throw new CaseRuleError('not-offered', `referral ${referralId} is not waiting for consent`);
  }
  const offered: Referral = { ...target, organisationId, state: 'offered', madeAt: now };
  const next: CaseState = {
    ...state,
    referrals: state.referrals.map((r) => (r.id === referralId ? offered : r)),
    updatedAt: now,
    version: state.version + 1,
  };
  return change(state, next, [{ type: 'referral-made', referral: offered }]);
}

/**
 * The referred organisation answers. Accepting assigns the case to it (its officers may now
 * read the victim's data) and raises referral-accepted; declining frees its place.
 */
export function respondToReferral(
  state: CaseState,
  referralId: string,
  organisationId: string,
  answer: { readonly accept: true } | { readonly accept: false; readonly reason: DeclineReason },
  now: Date,
): CaseChange {
  requireOpen(state);
  const target = state.referrals.find((r) => r.id === referralId && r.organisationId === organisationId);
  if (!target) throw new CaseRuleError('no-referral', `no referral ${referralId} to this organisation`);
  if (target.state !== 'offered') {
    if (answer.accept && target.state === 'accepted') return { state, events: [], released: [] };
    throw new CaseRuleError('not-offered', `referral ${referralId} is ${target.state}, not offered`);
  }
  const answered: Referral = answer.accept
    ? { ...target, state: 'accepted', respondedAt: now }
    : { ...target, state: 'declined', respondedAt: now, declineReason: answer.reason };
  const next: CaseState = {
    ...state,
    referrals: state.referrals.map((r) => (r.id === referralId ? answered : r)),
    assignedOrgIds:
      answer.accept && !state.assignedOrgIds.includes(organisationId)
        ? [...state.assignedOrgIds, organisationId]
        : state.assignedOrgIds,
    updatedAt: now,
    version: state.version + 1,
  };
  return change(state, next, answer.accept ? [{ type: 'referral-accepted', referral: answered }] : []);
}

/**
 * Records a check-in's outcome. A victim who declines further contact has withdrawn their
 * contact consent, which is recorded as such (wording `check-in-declined`).
 */
export function recordCheckIn(
  state: CaseState,
  checkInId: string,
  outcome: CheckInOutcome,
  recordedBy: string,
  now: Date,
): { change: CaseChange; repeated: boolean } {
  if (state.closedAt) throw new CaseRuleError('closed', 'the case is closed');
  const result = recordOutcome(state.checkIns, checkInId, outcome, now);
  if (result.repeated) return { change: { state, events: [], released: [] }, repeated: true };
  let next: CaseState = {
    ...state,
    checkIns: result.checkIns,
    reviewRequested: state.reviewRequested || result.reviewRequested,
    updatedAt: now,
    version: state.version + 1,
  };
  if (result.contactDeclined) {
    const record: ConsentRecord = {
      purpose: 'contact',
      granted: false,
      wordingVersion: 'check-in-declined',
      recordedAt: now,
      recordedBy,
    };
    next = {
      ...next,
      consents: applyConsent(next.consents, record).state,
      consentLog: [...next.consentLog, record].slice(-CONSENT_HISTORY_KEPT),
    };
  }
  return { change: change(state, next, []), repeated: false };
}

/** Closes the case: nothing more is due, open referrals are withdrawn, places freed. */
export function closeCase(state: CaseState, reason: CloseReason, now: Date): CaseChange {
  requireOpen(state);
  const next: CaseState = {
    ...state,
    closedAt: now,
    closeReason: reason,
    checkIns: cancelDue(state.checkIns),
    referrals: state.referrals.map((r) =>
      r.state === 'offered' || r.state === 'awaiting-consent'
        ? { ...r, state: 'withdrawn' as const, respondedAt: now }
        : r,
    ),
    reviewRequested: false,
    updatedAt: now,
    version: state.version + 1,
  };
  return change(state, next, [{ type: 'case-closed', reason, erased: reason === 'erased' }]);
}

/**
 * Erasure: the case closes (if it was open) and is marked erased. What makes the personal
 * data unreadable — destroying its key — is the store's part of the same write. Erasing an
 * erased case changes nothing.
 */
export function eraseCase(state: CaseState, now: Date): CaseChange {
  if (state.erasedAt) return { state, events: [], released: [] };
  const closed = state.closedAt
    ? { state, events: [] as CaseEvent[], released: [] as string[] }
    : closeCase(state, 'erased', now);
  return {
    state: {
      ...closed.state,
      erasedAt: now,
      // Only the owner is left to hold statistics; nobody can read the data any more anyway.
      assignedOrgIds: [state.ownerOrgId],
      updatedAt: now,
      version: state.version + 1,
    },
    events: closed.events,
    released: closed.released,
  };
}

/** Needs that no offered, accepted or waiting referral covers yet. */
export function unmetNeeds(state: CaseState): NeedKind[] {
  const covered = new Set(
    state.referrals
      .filter((r) => r.state === 'offered' || r.state === 'accepted' || r.state === 'awaiting-consent')
      .flatMap((r) => r.needs),
  );
  return state.assessment.needs.map((n) => n.kind).filter((k) => !covered.has(k));
}

/** Organisations already holding, or having declined, a referral: routing passes them over. */
export function involvedOrganisations(state: CaseState): Set<string> {
  return new Set(state.referrals.filter((r) => r.state !== 'withdrawn').map((r) => r.organisationId));
}
