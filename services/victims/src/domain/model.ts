import type { Jurisdiction, NeedKind } from '@beacon/domain';

/**
 * The vocabulary of victim cases. Everything here is plain data: the personal part (`Victim`,
 * `Need` details, risk flags) is what gets encrypted; the rest is what statistics, routing and
 * follow-up work from.
 */

export { NEED_KINDS, type NeedKind } from '@beacon/domain';

export const PAYMENT_METHODS = [
  'sepa-credit-transfer',
  'instant-transfer',
  'card',
  'direct-debit',
  'crypto',
  'gift-card',
  'cash',
  'other',
] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const IDENTITY_DOCUMENTS = [
  'id-card',
  'passport',
  'driving-licence',
  'tax-id',
  'social-security',
  'bank-account',
] as const;
export type IdentityDocument = (typeof IDENTITY_DOCUMENTS)[number];

export const ACCOUNT_KINDS = ['email', 'social-media', 'banking', 'shopping', 'work', 'other'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const DATA_CATEGORIES = [
  'contact',
  'financial',
  'health',
  'credentials',
  'identity-documents',
  'intimate-images',
] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const ESSENTIAL_SERVICES = [
  'health-care',
  'electricity',
  'water',
  'telecoms',
  'payments',
  'public-services',
  'other',
] as const;
export type EssentialService = (typeof ESSENTIAL_SERVICES)[number];

export const SCREENING_INSTRUMENTS = ['phq-4', 'k10'] as const;
export type ScreeningInstrument = (typeof SCREENING_INSTRUMENTS)[number];

export const RISK_FLAGS = ['self-harm', 'threat-to-life', 'child-at-risk'] as const;
export type RiskFlag = (typeof RISK_FLAGS)[number];

/** One need with the details its kind asks for: personal data, kept encrypted. */
export type Need =
  | {
      readonly kind: 'financial-loss';
      /** In the currency's minor unit. */
      readonly amountMinor: number;
      /** ISO 4217. */
      readonly currency: string;
      readonly paymentMethod: PaymentMethod;
      readonly paidAt: Date | undefined;
    }
  | {
      readonly kind: 'identity-theft';
      readonly documents: readonly IdentityDocument[];
      readonly misuseSeen: boolean;
    }
  | {
      readonly kind: 'account-takeover';
      readonly accounts: readonly AccountKind[];
      readonly lockedOut: boolean;
    }
  | { readonly kind: 'sextortion'; readonly ongoing: boolean; readonly paymentDemanded: boolean }
  | { readonly kind: 'harassment'; readonly ongoing: boolean; readonly offlineThreats: boolean }
  | { readonly kind: 'data-exposure'; readonly categories: readonly DataCategory[] }
  | { readonly kind: 'service-loss'; readonly service: EssentialService; readonly vital: boolean }
  | {
      readonly kind: 'psychological-distress';
      readonly instrument: ScreeningInstrument;
      readonly score: number;
    };

export type FinancialLossNeed = Extract<Need, { kind: 'financial-loss' }>;

export const VICTIM_KINDS = ['person', 'small-organisation'] as const;
export type VictimKind = (typeof VICTIM_KINDS)[number];

export const CONTACT_CHANNELS = ['email', 'phone', 'sms'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** The victim's personal data. Empty strings are fields not given. */
export interface Victim {
  readonly kind: VictimKind;
  readonly displayName: string;
  readonly organisationName: string;
  readonly email: string;
  readonly phone: string;
  readonly preferredChannel: ContactChannel | undefined;
  readonly notes: string;
}

export const PRIORITIES = ['routine', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const LOSS_BANDS = ['under-100', 'under-1000', 'under-10000', 'under-100000', 'from-100000'] as const;
export type LossBand = (typeof LOSS_BANDS)[number];

export const RECALLS = ['possible', 'closed', 'not-possible', 'unknown'] as const;
export type Recall = (typeof RECALLS)[number];

export const SCREENING_RESULTS = ['none', 'mild', 'moderate', 'severe'] as const;
export type ScreeningResult = (typeof SCREENING_RESULTS)[number];

export const URGENCY_REASONS = [
  'risk-disclosed',
  'recall-closing',
  'vital-service-lost',
  'severe-distress',
  'ongoing-extortion',
  'offline-threats',
] as const;
export type UrgencyReason = (typeof URGENCY_REASONS)[number];

/** A need as the rules judge it, without personal data: what statistics and routing read. */
export interface NeedSummary {
  readonly kind: NeedKind;
  readonly priority: Priority;
  readonly lossBand?: LossBand;
  readonly currency?: string;
  readonly recall?: Recall;
  readonly recallDeadline?: Date;
  readonly screeningResult?: ScreeningResult;
}

export interface Assessment {
  readonly needs: readonly NeedSummary[];
  readonly urgent: boolean;
  readonly urgencyReasons: readonly UrgencyReason[];
  /** A risk flag asks for a crisis-capable organisation. */
  readonly crisis: boolean;
  readonly assessedAt: Date;
}

export const CONSENT_PURPOSES = ['contact', 'share-law-enforcement', 'share-support'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export interface ConsentRecord {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly wordingVersion: string;
  readonly recordedAt: Date;
  /** The token subject of whoever recorded it. */
  readonly recordedBy: string;
}

export const REFERRAL_STATES = ['awaiting-consent', 'offered', 'accepted', 'declined', 'withdrawn'] as const;
export type ReferralState = (typeof REFERRAL_STATES)[number];

export const DECLINE_REASONS = ['no-capacity', 'out-of-remit', 'language', 'other'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

export interface Referral {
  readonly id: string;
  readonly organisationId: string;
  readonly needs: readonly NeedKind[];
  readonly crisis: boolean;
  readonly state: ReferralState;
  readonly madeAt: Date;
  readonly respondedAt?: Date;
  readonly declineReason?: DeclineReason;
}

export const CHECK_IN_STATES = ['due', 'done', 'cancelled'] as const;
export type CheckInState = (typeof CHECK_IN_STATES)[number];

export const CHECK_IN_OUTCOMES = [
  'reached-ok',
  'reached-needs-help',
  'no-answer',
  'declined-contact',
] as const;
export type CheckInOutcome = (typeof CHECK_IN_OUTCOMES)[number];

export interface CheckIn {
  readonly id: string;
  readonly dueAt: Date;
  readonly state: CheckInState;
  readonly outcome?: CheckInOutcome;
  readonly recordedAt?: Date;
  /** 1 for a scheduled check-in; 2 and 3 for retries after no answer. */
  readonly attempt: number;
}

export const CASE_STATUSES = ['open', 'referred', 'in-support', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const CLOSE_REASONS = ['resolved', 'no-further-contact', 'duplicate', 'erased'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** A support organisation in the registry. */
export interface SupportOrganisation {
  readonly id: string;
  readonly name: string;
  readonly jurisdictions: readonly Jurisdiction[];
  /** ISO 639-1. */
  readonly languages: readonly string[];
  readonly needsCovered: readonly NeedKind[];
  readonly crisisCapable: boolean;
  readonly capacity: number;
  readonly accepting: boolean;
}

/**
 * Ids: cases `vc_` + 32 hex digits; reports as a new case names them. The shapes requests
 * name otherwise are declared in proto/ (`beacon.api.v1.IdShape`).
 */
export const CASE_ID = /^vc_[0-9a-f]{32}$/;
export const REPORT_ID = /^rep_[a-z0-9]{1,64}$/;

export const isOneOf =
  <T extends string>(values: readonly T[]) =>
  (value: string): value is T =>
    (values as readonly string[]).includes(value);
