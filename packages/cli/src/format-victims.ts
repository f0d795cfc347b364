/**
 * How victim cases read in a terminal. A summary carries no personal data; only `caseDetails`
 * shows the victim's, and only an officer's audited read returns it.
 */
import { enumName } from './flags.js';
import { fields } from './format-registry.js';
import { tableOf } from './format.js';

export interface ReferralJson {
  readonly id?: string;
  readonly organisationId?: string;
  readonly needs?: readonly string[];
  readonly crisis?: boolean;
  readonly state?: string;
  readonly madeAt?: string;
  readonly respondedAt?: string;
  readonly declineReason?: string;
}

export interface CheckInJson {
  readonly id?: string;
  readonly dueAt?: string;
  readonly state?: string;
  readonly outcome?: string;
  readonly recordedAt?: string;
  readonly attempt?: number;
}

export interface AssessmentJson {
  readonly needs?: readonly { readonly kind?: string; readonly priority?: string }[];
  readonly urgent?: boolean;
  readonly urgencyReasons?: readonly string[];
  readonly crisis?: boolean;
}

/** A case without personal data (`CaseSummary`), or the whole case (`VictimCase`). */
export interface CaseJson {
  readonly id?: string;
  readonly reference?: string;
  readonly status?: string;
  readonly ownerOrganisationId?: string;
  readonly assignedOrganisationIds?: readonly string[];
  readonly incidentIds?: readonly string[];
  readonly reportIds?: readonly string[];
  readonly jurisdiction?: string;
  readonly language?: string;
  readonly victimKind?: string;
  readonly victim?: {
    readonly kind?: string;
    readonly displayName?: string;
    readonly organisationName?: string;
    readonly email?: string;
    readonly phone?: string;
    readonly preferredChannel?: string;
    readonly notes?: string;
  };
  readonly assessment?: AssessmentJson;
  readonly consents?: readonly { readonly purpose?: string; readonly granted?: boolean }[];
  readonly referrals?: readonly ReferralJson[];
  readonly checkIns?: readonly CheckInJson[];
  readonly nextCheckInAt?: string;
  readonly reviewRequested?: boolean;
  readonly openedAt?: string;
  readonly closedAt?: string;
  readonly closeReason?: string;
  readonly erased?: boolean;
  readonly version?: number;
}

const list = (items: readonly string[] | undefined) => (items && items.length > 0 ? items.join(', ') : '-');
export const needNames = (needs: readonly string[] | undefined) =>
  list(needs?.map((n) => enumName(n, 'NEED_KIND_')));

/** `no organisation takes: …` and a newline for needs no organisation covers; nothing for none. */
export const uncoveredLine = (needs: readonly string[] | undefined) =>
  needs?.length ? `no organisation takes: ${needNames(needs)}\n` : '';

function urgency(a: AssessmentJson | undefined): string {
  if (!a?.urgent) return 'no';
  const why = (a.urgencyReasons ?? []).map((r) => enumName(r, 'URGENCY_REASON_')).join(', ');
  return `yes${a.crisis ? ', crisis' : ''}${why ? ` (${why})` : ''}`;
}

export function caseTable(cases: readonly CaseJson[]): string {
  return tableOf(cases, 'no cases\n', [
    ['CASE', (c) => c.id ?? ''],
    ['STATUS', (c) => (c.erased ? 'erased' : enumName(c.status, 'CASE_STATUS_'))],
    ['URGENT', (c) => (c.assessment?.urgent ? (c.assessment.crisis ? 'crisis' : 'yes') : 'no')],
    ['NEEDS', (c) => needNames(c.assessment?.needs?.map((n) => n.kind ?? ''))],
    ['JURISDICTION', (c) => c.jurisdiction ?? ''],
    ['LANG', (c) => c.language ?? ''],
    ['INCIDENTS', (c) => list(c.incidentIds)],
    ['NEXT CHECK-IN', (c) => c.nextCheckInAt ?? '-'],
    ['VERSION', (c) => String(c.version ?? 0)],
  ]);
}

export function referralLines(referrals: readonly ReferralJson[] | undefined): string[] {
  return (referrals ?? []).map(
    (r) =>
      `  ${r.id ?? '?'} to ${r.organisationId ?? '?'}: ${enumName(r.state, 'REFERRAL_STATE_')}` +
      `${r.crisis ? ' (crisis)' : ''}, needs ${needNames(r.needs)}` +
      (r.declineReason ? `, declined: ${enumName(r.declineReason, 'DECLINE_REASON_')}` : ''),
  );
}

export function checkInLines(checkIns: readonly CheckInJson[] | undefined): string[] {
  return (checkIns ?? []).map(
    (c) =>
      `  ${c.id ?? '?'} due ${c.dueAt ?? '?'}: ${enumName(c.state, 'CHECK_IN_STATE_')}` +
      (c.outcome ? `, ${enumName(c.outcome, 'CHECK_IN_OUTCOME_')}` : '') +
      ((c.attempt ?? 1) > 1 ? ` (attempt ${c.attempt})` : ''),
  );
}

/** A case in full: the victim's details when the answer holds them, then its state. */
export function caseDetails(c: CaseJson): string {
  const v = c.victim;
  const lines = fields([
    ['case', c.id ?? ''],
    ...(c.reference ? [['reference', c.reference] as const] : []),
    ['status', c.erased ? 'erased' : enumName(c.status, 'CASE_STATUS_')],
    ['owner', c.ownerOrganisationId ?? ''],
    ...(c.assignedOrganisationIds ? [['assigned', list(c.assignedOrganisationIds)] as const] : []),
    ['incidents', list(c.incidentIds)],
    ['reports', list(c.reportIds)],
    ['jurisdiction', c.jurisdiction ?? ''],
    ['language', c.language ?? ''],
    ...(v
      ? ([
          ['victim', `${v.displayName ?? ''}${v.organisationName ? ` (${v.organisationName})` : ''}`],
          ['kind', enumName(v.kind, 'VICTIM_KIND_')],
          ['e-mail', v.email ?? '-'],
          ['phone', v.phone ?? '-'],
          ['preferred channel', enumName(v.preferredChannel, 'CONTACT_CHANNEL_')],
          ...(v.notes ? [['notes', v.notes] as const] : []),
        ] as const)
      : []),
    ['needs', needNames(c.assessment?.needs?.map((n) => n.kind ?? ''))],
    ['urgent', urgency(c.assessment)],
    ...(c.consents
      ? [
          [
            'consents',
            list(
              c.consents.map((k) => `${enumName(k.purpose, 'CONSENT_PURPOSE_')} ${k.granted ? 'yes' : 'no'}`),
            ),
          ] as const,
        ]
      : []),
    ['review requested', c.reviewRequested ? 'yes' : 'no'],
    ['opened', c.openedAt ?? ''],
    ...(c.closedAt
      ? [['closed', `${c.closedAt} (${enumName(c.closeReason, 'CLOSE_REASON_')})`] as const]
      : []),
    ['version', String(c.version ?? 0)],
  ]);
  const referrals = referralLines(c.referrals);
  if (referrals.length > 0) lines.push('referrals:', ...referrals);
  const checkIns = checkInLines(c.checkIns);
  if (checkIns.length > 0) lines.push('check-ins:', ...checkIns);
  return `${lines.join('\n')}\n`;
}
