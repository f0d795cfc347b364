import type { ReleasedCount } from '@beacon/domain';
import { victimsV1 } from '@beacon/proto';
import { hasConsent } from '../domain/consent.js';
import { nextDue } from '../domain/follow-up.js';
import {
  ACCOUNT_KINDS,
  CASE_STATUSES,
  CHECK_IN_OUTCOMES,
  CHECK_IN_STATES,
  CLOSE_REASONS,
  CONSENT_PURPOSES,
  CONTACT_CHANNELS,
  DATA_CATEGORIES,
  DECLINE_REASONS,
  ESSENTIAL_SERVICES,
  IDENTITY_DOCUMENTS,
  LOSS_BANDS,
  NEED_KINDS,
  PAYMENT_METHODS,
  PRIORITIES,
  RECALLS,
  REFERRAL_STATES,
  RISK_FLAGS,
  SCREENING_INSTRUMENTS,
  SCREENING_RESULTS,
  URGENCY_REASONS,
  VICTIM_KINDS,
  type Assessment,
  type CheckIn,
  type ConsentRecord,
  type Need,
  type Referral,
  type Victim,
} from '../domain/model.js';
import type { ReleasedVictimStats } from '../domain/stats.js';
import { statusOf, type CaseEvent, type CaseState } from '../domain/victim-case.js';
import type { PersonalData } from '../app/personal-data.js';
import type { StoredOrganisation } from '../app/ports.js';

/**
 * A domain vocabulary and its proto enum: the proto numbers each value in the same order
 * from 1 (0 is UNSPECIFIED), which `proto-mapping.test.ts` checks against the enum names.
 */
export interface EnumCodec<T extends string> {
  readonly values: readonly T[];
  readonly toProto: (value: T) => number;
  /** Undefined for UNSPECIFIED or a number the contract does not define. */
  readonly fromProto: (value: number) => T | undefined;
}

export function enumCodec<T extends string>(values: readonly T[]): EnumCodec<T> {
  return {
    values,
    toProto: (value) => values.indexOf(value) + 1,
    fromProto: (value) => (Number.isInteger(value) && value >= 1 ? values[value - 1] : undefined),
  };
}

export const codecs = {
  needKind: enumCodec(NEED_KINDS),
  paymentMethod: enumCodec(PAYMENT_METHODS),
  identityDocument: enumCodec(IDENTITY_DOCUMENTS),
  accountKind: enumCodec(ACCOUNT_KINDS),
  dataCategory: enumCodec(DATA_CATEGORIES),
  essentialService: enumCodec(ESSENTIAL_SERVICES),
  screeningInstrument: enumCodec(SCREENING_INSTRUMENTS),
  riskFlag: enumCodec(RISK_FLAGS),
  victimKind: enumCodec(VICTIM_KINDS),
  contactChannel: enumCodec(CONTACT_CHANNELS),
  priority: enumCodec(PRIORITIES),
  lossBand: enumCodec(LOSS_BANDS),
  recall: enumCodec(RECALLS),
  screeningResult: enumCodec(SCREENING_RESULTS),
  urgencyReason: enumCodec(URGENCY_REASONS),
  consentPurpose: enumCodec(CONSENT_PURPOSES),
  referralState: enumCodec(REFERRAL_STATES),
  declineReason: enumCodec(DECLINE_REASONS),
  checkInState: enumCodec(CHECK_IN_STATES),
  checkInOutcome: enumCodec(CHECK_IN_OUTCOMES),
  caseStatus: enumCodec(CASE_STATUSES),
  closeReason: enumCodec(CLOSE_REASONS),
} as const;

export function needToProto(need: Need): victimsV1.Need {
  switch (need.kind) {
    case 'financial-loss':
      return {
        detail: {
          $case: 'financialLoss',
          value: {
            amountMinor: String(need.amountMinor),
            currency: need.currency,
            paymentMethod: codecs.paymentMethod.toProto(need.paymentMethod),
            ...(need.paidAt ? { paidAt: need.paidAt } : {}),
          },
        },
      };
    case 'identity-theft':
      return {
        detail: {
          $case: 'identityTheft',
          value: {
            documents: need.documents.map(codecs.identityDocument.toProto),
            misuseSeen: need.misuseSeen,
          },
        },
      };
    case 'account-takeover':
      return {
        detail: {
          $case: 'accountTakeover',
          value: { accounts: need.accounts.map(codecs.accountKind.toProto), lockedOut: need.lockedOut },
        },
      };
    case 'sextortion':
      return {
        detail: {
          $case: 'sextortion',
          value: { ongoing: need.ongoing, paymentDemanded: need.paymentDemanded },
        },
      };
    case 'harassment':
      return {
        detail: {
          $case: 'harassment',
          value: { ongoing: need.ongoing, offlineThreats: need.offlineThreats },
        },
      };
    case 'data-exposure':
      return {
        detail: {
          $case: 'dataExposure',
          value: { categories: need.categories.map(codecs.dataCategory.toProto) },
        },
      };
    case 'service-loss':
      return {
        detail: {
          $case: 'serviceLoss',
          value: { service: codecs.essentialService.toProto(need.service), vital: need.vital },
        },
      };
    case 'psychological-distress':
      return {
        detail: {
          $case: 'psychologicalDistress',
          value: { instrument: codecs.screeningInstrument.toProto(need.instrument), score: need.score },
        },
      };
  }
}

export function victimToProto(victim: Victim): victimsV1.Victim {
  return {
    kind: codecs.victimKind.toProto(victim.kind),
    displayName: victim.displayName,
    organisationName: victim.organisationName,
    email: victim.email,
    phone: victim.phone,
    preferredChannel: victim.preferredChannel ? codecs.contactChannel.toProto(victim.preferredChannel) : 0,
    notes: victim.notes,
  };
}

export function assessmentToProto(a: Assessment): victimsV1.Assessment {
  return {
    needs: a.needs.map((n) => ({
      kind: codecs.needKind.toProto(n.kind),
      priority: codecs.priority.toProto(n.priority),
      lossBand: n.lossBand ? codecs.lossBand.toProto(n.lossBand) : 0,
      currency: n.currency ?? '',
      recall: n.recall ? codecs.recall.toProto(n.recall) : 0,
      ...(n.recallDeadline ? { recallDeadline: n.recallDeadline } : {}),
      screeningResult: n.screeningResult ? codecs.screeningResult.toProto(n.screeningResult) : 0,
    })),
    urgent: a.urgent,
    urgencyReasons: a.urgencyReasons.map(codecs.urgencyReason.toProto),
    crisis: a.crisis,
    assessedAt: a.assessedAt,
  };
}

export function referralToProto(r: Referral): victimsV1.Referral {
  return {
    id: r.id,
    organisationId: r.organisationId,
    needs: r.needs.map(codecs.needKind.toProto),
    crisis: r.crisis,
    state: codecs.referralState.toProto(r.state),
    madeAt: r.madeAt,
    ...(r.respondedAt ? { respondedAt: r.respondedAt } : {}),
    declineReason: r.declineReason ? codecs.declineReason.toProto(r.declineReason) : 0,
  };
}

export function checkInToProto(c: CheckIn): victimsV1.CheckIn {
  return {
    id: c.id,
    dueAt: c.dueAt,
    state: codecs.checkInState.toProto(c.state),
    outcome: c.outcome ? codecs.checkInOutcome.toProto(c.outcome) : 0,
    ...(c.recordedAt ? { recordedAt: c.recordedAt } : {}),
    attempt: c.attempt,
  };
}

export function consentToProto(c: ConsentRecord): victimsV1.Consent {
  return {
    purpose: codecs.consentPurpose.toProto(c.purpose),
    granted: c.granted,
    wordingVersion: c.wordingVersion,
    recordedAt: c.recordedAt,
    recordedBy: c.recordedBy,
  };
}

/**
 * What every listed view of a case shows, the response worker's included: which case, its
 * status, its incidents, and where its follow-up stands. Each view names the rest itself, so a
 * field added to one view is never shown in another by accident.
 */
function caseHeadToProto(s: CaseState) {
  const next = nextDue(s.checkIns);
  return {
    id: s.id,
    status: codecs.caseStatus.toProto(statusOf(s)),
    incidentIds: [...s.incidentIds],
    ...(next ? { nextCheckInAt: next } : {}),
    reviewRequested: s.reviewRequested,
    openedAt: s.openedAt,
    ...(s.closedAt ? { closedAt: s.closedAt } : {}),
    erased: s.erasedAt !== undefined,
    version: s.version,
  };
}

/** A case without personal data. */
export function summaryToProto(s: CaseState): victimsV1.CaseSummary {
  return {
    ...caseHeadToProto(s),
    ownerOrganisationId: s.ownerOrgId,
    reportIds: [...s.reportIds],
    jurisdiction: s.jurisdiction,
    language: s.language,
    victimKind: codecs.victimKind.toProto(s.victimKind),
    assessment: assessmentToProto(s.assessment),
    referrals: s.referrals.map(referralToProto),
  };
}

/**
 * A listed case as the response worker sees it (`caseListView`): which case, its status and
 * when its follow-up is due; nothing of the victim, the needs, the screening or the referrals.
 */
export function followUpSummaryToProto(s: CaseState): victimsV1.CaseSummary {
  return {
    ...caseHeadToProto(s),
    ownerOrganisationId: '',
    reportIds: [],
    jurisdiction: '',
    language: '',
    victimKind: 0,
    referrals: [],
  };
}

/** The whole case as its officers see it. */
export function caseToProto(s: CaseState, personal: PersonalData): victimsV1.VictimCase {
  return {
    id: s.id,
    reference: personal.reference,
    status: codecs.caseStatus.toProto(statusOf(s)),
    ownerOrganisationId: s.ownerOrgId,
    assignedOrganisationIds: [...s.assignedOrgIds],
    incidentIds: [...s.incidentIds],
    reportIds: [...s.reportIds],
    jurisdiction: s.jurisdiction,
    language: s.language,
    victim: victimToProto(personal.victim),
    needs: personal.needs.map(needToProto),
    riskFlags: personal.riskFlags.map(codecs.riskFlag.toProto),
    assessment: assessmentToProto(s.assessment),
    consents: CONSENT_PURPOSES.flatMap((p) => {
      const c = s.consents[p];
      return c ? [consentToProto(c)] : [];
    }),
    referrals: s.referrals.map(referralToProto),
    checkIns: s.checkIns.map(checkInToProto),
    reviewRequested: s.reviewRequested,
    openedAt: s.openedAt,
    updatedAt: s.updatedAt,
    ...(s.closedAt ? { closedAt: s.closedAt } : {}),
    closeReason: s.closeReason ? codecs.closeReason.toProto(s.closeReason) : 0,
    version: s.version,
  };
}

export function followUpToProto(s: CaseState): victimsV1.FollowUp {
  return {
    caseId: s.id,
    status: codecs.caseStatus.toProto(statusOf(s)),
    urgent: s.assessment.urgent && !s.closedAt,
    contactAllowed: hasConsent(s.consents, 'contact') && !s.closedAt,
    reviewRequested: s.reviewRequested,
    checkIns: s.checkIns.map(checkInToProto),
    version: s.version,
  };
}

export function organisationToProto(o: StoredOrganisation): victimsV1.SupportOrganisation {
  return {
    id: o.id,
    name: o.name,
    jurisdictions: [...o.jurisdictions],
    languages: [...o.languages],
    needsCovered: o.needsCovered.map(codecs.needKind.toProto),
    crisisCapable: o.crisisCapable,
    capacity: o.capacity,
    accepting: o.accepting,
    activeReferrals: Math.max(0, o.capacity - o.spare),
    version: o.version,
  };
}

/** A released count as the wire carries it: a suppressed one is 0 with its flag set. */
const wire = (c: ReleasedCount) => ({ cases: c.suppressed ? 0 : c.count, suppressed: c.suppressed });

const counts = (map: ReadonlyMap<string, ReleasedCount>): victimsV1.Count[] =>
  [...map].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => ({ key, ...wire(count) }));

export function statsToProto(stats: ReleasedVictimStats): victimsV1.GetVictimStatsResponse {
  const [cases, urgent, erased] = [stats.cases, stats.urgent, stats.erased].map(wire);
  return {
    cases: cases!.cases,
    casesSuppressed: cases!.suppressed,
    urgent: urgent!.cases,
    urgentSuppressed: urgent!.suppressed,
    erased: erased!.cases,
    erasedSuppressed: erased!.suppressed,
    suppressionThreshold: stats.threshold,
    byStatus: counts(stats.byStatus),
    byNeed: counts(stats.byNeed),
    byJurisdiction: counts(stats.byJurisdiction),
    byLanguage: counts(stats.byLanguage),
    byScreeningResult: [],
    referrals: counts(stats.referrals),
    losses: [...stats.losses]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([currency, bands]) =>
        LOSS_BANDS.filter((b) => bands.has(b)).map((band) => ({
          currency,
          band: codecs.lossBand.toProto(band),
          ...wire(bands.get(band)!),
        })),
      ),
  };
}

/** The payload of an event: its message name and bytes. Never personal data. */
export function eventPayload(state: CaseState, event: CaseEvent): { schema: string; data: Uint8Array } {
  switch (event.type) {
    case 'case-opened':
      return {
        schema: 'beacon.victims.v1.CaseOpened',
        data: victimsV1.CaseOpened.encode({
          caseId: state.id,
          ownerOrganisationId: state.ownerOrgId,
          incidentIds: [...state.incidentIds],
          reportIds: [...state.reportIds],
          jurisdiction: state.jurisdiction,
          victimKind: codecs.victimKind.toProto(state.victimKind),
          needs: state.assessment.needs.map((n) => codecs.needKind.toProto(n.kind)),
          urgent: state.assessment.urgent,
          openedAt: state.openedAt,
        }).finish(),
      };
    case 'need-identified':
      return {
        schema: 'beacon.victims.v1.NeedIdentified',
        data: victimsV1.NeedIdentified.encode({
          caseId: state.id,
          incidentIds: [...state.incidentIds],
          need: codecs.needKind.toProto(event.need.kind),
          priority: codecs.priority.toProto(event.need.priority),
          urgent: state.assessment.urgent,
        }).finish(),
      };
    case 'referral-made':
      return {
        schema: 'beacon.victims.v1.ReferralMade',
        data: victimsV1.ReferralMade.encode({
          caseId: state.id,
          referralId: event.referral.id,
          organisationId: event.referral.organisationId,
          needs: event.referral.needs.map(codecs.needKind.toProto),
          crisis: event.referral.crisis,
          urgent: state.assessment.urgent,
        }).finish(),
      };
    case 'referral-accepted':
      return {
        schema: 'beacon.victims.v1.ReferralAccepted',
        data: victimsV1.ReferralAccepted.encode({
          caseId: state.id,
          referralId: event.referral.id,
          organisationId: event.referral.organisationId,
        }).finish(),
      };
    case 'case-closed':
      return {
        schema: 'beacon.victims.v1.CaseClosed',
        data: victimsV1.CaseClosed.encode({
          caseId: state.id,
          reason: codecs.closeReason.toProto(event.reason),
          erased: event.erased,
        }).finish(),
      };
  }
}
