import { NEED_KINDS } from '@beacon/domain';
/**
 * Where a victim case goes next: the organisations that could take it, referrals and their
 * answers, follow-up check-ins, and disclosure to law enforcement with the victim's consent.
 */
import { getCommand } from '../command-kinds.js';
import { jsonText, type Command } from '../context.js';
import { enumFlag, enumName, listFlag, required } from '../flags.js';
import { table } from '../format.js';
import { fields } from '../format-registry.js';
import {
  caseDetails,
  checkInLines,
  needNames,
  referralLines,
  uncoveredLine,
  type CaseJson,
  type CheckInJson,
  type ReferralJson,
} from '../format-victims.js';
import { UsageError } from '../io.js';
import { CASE_OFFICERS, casePath } from './victim-cases.js';

export const victimsSuggestCommand: Command = {
  name: 'victims suggest',
  routes: ['GET /v1/victim-cases/{case_id}:suggestReferrals'],
  synopsis: '<case-id>',
  summary: "the support organisations the routing rules would choose for the case's unmet needs",
  roles: CASE_OFFICERS,
  options: {},
  args: ['case-id'],
  async run(context) {
    const response = await context.client().call<{
      suggestions?: {
        organisationId?: string;
        organisationName?: string;
        needs?: string[];
        crisis?: boolean;
        speaksLanguage?: boolean;
      }[];
      uncoveredNeeds?: string[];
    }>('GET', `${casePath(context.args[0]!)}:suggestReferrals`);
    if (context.json) {
      context.io.stdout.write(jsonText(response));
      return 0;
    }
    const suggestions = response.suggestions ?? [];
    context.io.stdout.write(
      (suggestions.length === 0
        ? 'no organisation to suggest\n'
        : table(
            ['ORGANISATION', 'NAME', 'NEEDS', 'CRISIS', 'SPEAKS LANGUAGE'],
            suggestions.map((s) => [
              s.organisationId ?? '',
              s.organisationName ?? '',
              needNames(s.needs),
              s.crisis ? 'yes' : 'no',
              s.speaksLanguage ? 'yes' : 'no',
            ]),
          )) + uncoveredLine(response.uncoveredNeeds),
    );
    return 0;
  },
};

export const victimsReferCommand: Command = {
  name: 'victims refer',
  routes: ['POST /v1/victim-cases/{case_id}/referrals'],
  synopsis: '<case-id> [--organisation ID] [--needs LIST]',
  summary: 'refer the case to an organisation, or to those the rules choose',
  roles: CASE_OFFICERS,
  details: `Needs the victim's consent to share with support organisations (\`victims consent
--purpose share-support --grant\`). Without --organisation the rules choose for --needs; without
--needs every need without an open or accepted referral (that the organisation covers).
--needs  ${NEED_KINDS.join(', ')}`,
  options: { organisation: { type: 'string' }, needs: { type: 'string', multiple: true } },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const needs = listFlag(context, 'needs').map((n) => enumFlag('needs', n, 'NEED_KIND_', NEED_KINDS));
    const response = await context
      .client()
      .call<{ case?: CaseJson; referrals?: ReferralJson[]; uncoveredNeeds?: string[] }>(
        'POST',
        `${casePath(caseId)}/referrals`,
        { body: { organisationId: context.string('organisation') ?? '', needs } },
      );
    if (context.json) {
      context.io.stdout.write(jsonText(response));
      return 0;
    }
    const made = referralLines(response.referrals);
    context.io.stdout.write(
      `${made.length === 0 ? 'no referral made' : `referred ${caseId}:\n${made.join('\n')}`}\n` +
        uncoveredLine(response.uncoveredNeeds),
    );
    return 0;
  },
};

const DECLINE_REASONS = ['no-capacity', 'out-of-remit', 'language', 'other'] as const;

export const victimsRespondCommand: Command = {
  name: 'victims respond',
  routes: ['POST /v1/victim-cases/{case_id}/referrals/{referral_id}:respond'],
  synopsis: `<case-id> <referral-id> (--accept | --decline ${DECLINE_REASONS.join('|')})`,
  summary: 'accept or decline a referral made to your organisation',
  roles: 'victim_officer (of the organisation referred to)',
  details: `The referrals waiting for your organisation: \`beacon support-orgs referrals <your-org>
--state offered\`. Accepting assigns the case to your organisation: its officers may read it.`,
  options: { accept: { type: 'boolean' }, decline: { type: 'string' } },
  args: ['case-id', 'referral-id'],
  async run(context) {
    const [caseId, referralId] = context.args as [string, string];
    const decline = context.string('decline');
    if (context.flag('accept') === (decline !== undefined))
      throw new UsageError('give --accept or --decline');
    const body = context.flag('accept')
      ? { accept: true }
      : { accept: false, declineReason: enumFlag('decline', decline!, 'DECLINE_REASON_', DECLINE_REASONS) };
    const response = await context
      .client()
      .call<{ referral?: ReferralJson }>(
        'POST',
        `${casePath(caseId)}/referrals/${encodeURIComponent(referralId)}:respond`,
        { body },
      );
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${caseId}\n${referralLines(response.referral ? [response.referral] : []).join('\n')}\n`,
    );
    return 0;
  },
};

interface FollowUpJson {
  readonly caseId?: string;
  readonly status?: string;
  readonly urgent?: boolean;
  readonly contactAllowed?: boolean;
  readonly reviewRequested?: boolean;
  readonly checkIns?: readonly CheckInJson[];
  readonly version?: number;
}

function followUpText(f: FollowUpJson): string {
  const lines = fields([
    ['case', f.caseId ?? ''],
    ['status', enumName(f.status, 'CASE_STATUS_')],
    ['urgent', f.urgent ? 'yes' : 'no'],
    ['contact allowed', f.contactAllowed ? 'yes' : 'no'],
    ['review requested', f.reviewRequested ? 'yes' : 'no'],
    ['version', String(f.version ?? 0)],
  ]);
  const checkIns = checkInLines(f.checkIns);
  lines.push(checkIns.length > 0 ? 'check-ins:' : 'check-ins: none', ...checkIns);
  return `${lines.join('\n')}\n`;
}

export const victimsFollowUpCommand = getCommand({
  name: 'victims follow-up',
  routes: ['GET /v1/victim-cases/{case_id}/follow-up'],
  synopsis: '<case-id>',
  summary: "the case's check-in schedule and urgency, without personal data",
  roles: CASE_OFFICERS,
  args: ['case-id'],
  request: (context) => ({ path: `${casePath(context.args[0]!)}/follow-up` }),
  text: (response: { followUp?: FollowUpJson }) => followUpText(response.followUp ?? {}),
});

const OUTCOMES = ['reached-ok', 'reached-needs-help', 'no-answer', 'declined-contact'] as const;

export const victimsCheckInCommand: Command = {
  name: 'victims check-in',
  routes: ['POST /v1/victim-cases/{case_id}/check-ins/{check_in_id}:record'],
  synopsis: `<case-id> <check-in-id> --outcome ${OUTCOMES.join('|')}`,
  summary: 'record how a check-in with the victim went',
  roles: CASE_OFFICERS,
  details: `--outcome  reached-ok
           reached-needs-help: the case is flagged for the officer's review
           no-answer: tried again the next day, twice at most
           declined-contact: the remaining check-ins are cancelled and contact consent withdrawn
The check-ins due: \`beacon victims follow-up <case-id>\`.`,
  options: { outcome: { type: 'string' } },
  args: ['case-id', 'check-in-id'],
  async run(context) {
    const [caseId, checkInId] = context.args as [string, string];
    const outcome = enumFlag('outcome', required(context, 'outcome'), 'CHECK_IN_OUTCOME_', OUTCOMES);
    const response = await context
      .client()
      .call<{ followUp?: FollowUpJson }>(
        'POST',
        `${casePath(caseId)}/check-ins/${encodeURIComponent(checkInId)}:record`,
        { body: { outcome } },
      );
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `recorded ${checkInId}: ${enumName(outcome, 'CHECK_IN_OUTCOME_')}\n${followUpText(response.followUp ?? {})}`,
    );
    return 0;
  },
};

export const victimsDiscloseCommand: Command = {
  name: 'victims disclose',
  routes: ['POST /v1/victim-cases/{case_id}:discloseToLawEnforcement'],
  synopsis: '<case-id> --agency ID [--legal-reference REF]',
  summary: "the victim's details for a law-enforcement agency, with the victim's consent (audited)",
  roles: CASE_OFFICERS,
  details: `Needs the victim's consent to share with law enforcement (\`victims consent --purpose
share-law-enforcement --grant\`). The disclosure is audited with the receiving --agency and
its --legal-reference (the police's case or file number). Prints the details to hand over.`,
  options: { agency: { type: 'string' }, 'legal-reference': { type: 'string' } },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const response = await context
      .client()
      .call<CaseJson & { caseId?: string; disclosedAt?: string }>(
        'POST',
        `${casePath(caseId)}:discloseToLawEnforcement`,
        {
          body: {
            agencyId: required(context, 'agency'),
            legalReference: context.string('legal-reference') ?? '',
          },
        },
      );
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `disclosed at ${response.disclosedAt ?? '?'} to ${context.string('agency')}\n` +
            caseDetails({ ...response, id: response.caseId ?? caseId }),
    );
    return 0;
  },
};
