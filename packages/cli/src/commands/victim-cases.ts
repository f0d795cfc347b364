/**
 * A victim officer's cases: open, list, find, read and change one, close or erase it, and the
 * auditors' record of who did what with it. Referrals and follow-up are in victim-referrals.ts.
 */
import { getCommand, pagedListCommand, valueOptions } from '../command-kinds.js';
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import { copyFlags, enumFlag, enumName, optional, readJsonObject, required } from '../flags.js';
import { tableOf } from '../format.js';
import { caseDetails, caseTable, needNames, type CaseJson } from '../format-victims.js';
import { CliError, UsageError } from '../io.js';
import { idempotencyKey } from '../report-file.js';
import { ROLES } from '../roles.js';

export const casePath = (id: string) => `/v1/victim-cases/${encodeURIComponent(id)}`;

/** Officers of an organisation the case is assigned to; any other organisation's: not found. */
export const CASE_OFFICERS =
  'victim_officer (of an organisation the case is assigned to: the one that opened it, or one ' +
  'whose referral it accepted)';
const OWNER_OFFICERS = 'victim_officer (of the organisation that opened the case)';
export const VERSION_HELP =
  '--version N applies the change only to version N of the case (0 or absent: the latest).';

const NEW_CASE_EXAMPLE = `  {"incidentIds": ["inc_…"], "jurisdiction": "DE-BY", "language": "de",
   "victim": {"kind": "VICTIM_KIND_PERSON", "displayName": "Jana Nováková", "email": "jana@example.org",
              "preferredChannel": "CONTACT_CHANNEL_EMAIL"},
   "needs": [{"financialLoss": {"amountMinor": "185000", "currency": "EUR",
              "paymentMethod": "PAYMENT_METHOD_CARD", "paidAt": "2026-03-01T10:00:00Z"}}],
   "consents": [{"purpose": "CONSENT_PURPOSE_CONTACT", "granted": true, "wordingVersion": "v2026-01"}]}`;

/** Prints `headline` and the case, or the whole answer as JSON. */
function print(context: Context, response: unknown, headline: string, c: CaseJson | undefined): number {
  context.io.stdout.write(context.json ? jsonText(response) : `${headline}\n${c ? caseDetails(c) : ''}`);
  return 0;
}

const uncovered = (needs: readonly string[] | undefined) =>
  needs && needs.length > 0 ? `\nno organisation takes: ${needNames(needs)}` : '';

export const victimsOpenCommand: Command = {
  name: 'victims open',
  routes: ['POST /v1/victim-cases'],
  synopsis: '--file case.json',
  summary: 'open one victim case from a JSON file (idempotent); prints the reference to give the victim',
  roles: ROLES.victimOfficers,
  details: `The file holds one JSON object, a NewCase in the proto3 JSON mapping or {"case": {…}}, e.g.
${NEW_CASE_EXAMPLE}
At least one incident or report. Sending the same file again returns the case it opened.
Many cases at once: \`beacon victims import\`.`,
  options: { file: { type: 'string' } },
  args: [],
  async run(context) {
    const file = required(context, 'file');
    const value = await readJsonObject(context, file, 'a NewCase, or {"case": {…}}');
    const body = typeof value['case'] === 'object' && value['case'] !== null ? value : { case: value };
    const response = await context
      .client()
      .call<{ case?: CaseJson; reference?: string; uncoveredNeeds?: string[] }>('POST', '/v1/victim-cases', {
        body,
        idempotencyKey: idempotencyKey(body),
      });
    return print(
      context,
      response,
      `opened ${response.case?.id ?? '?'}: give the victim the reference ${response.reference ?? '?'}` +
        uncovered(response.uncoveredNeeds),
      response.case,
    );
  },
};

export const victimsListCommand = pagedListCommand({
  name: 'victims list',
  routes: ['GET /v1/victim-cases'],
  synopsis: '[--incident ID] [--urgent] [--closed] [--page-size N] [--page-token TOKEN] [--all]',
  summary: "your organisation's cases, without personal data (--all follows every page)",
  roles: ROLES.victimOfficers,
  details: `--incident  only cases linked to this incident
--urgent    only urgent cases
--closed    closed cases too`,
  options: {
    incident: { type: 'string' },
    urgent: { type: 'boolean' },
    closed: { type: 'boolean' },
  },
  key: 'cases',
  maxPageSize: 500,
  request: (context) => ({
    path: '/v1/victim-cases',
    query: {
      incidentId: context.string('incident'),
      urgentOnly: context.flag('urgent') ? 'true' : undefined,
      includeClosed: context.flag('closed') ? 'true' : undefined,
    },
  }),
  text: caseTable,
});

export const victimsFindCommand: Command = {
  name: 'victims find',
  routes: ['POST /v1/victim-cases:find'],
  synopsis: '(--email ADDRESS | --phone NUMBER)',
  summary: "your organisation's cases of the victim with this e-mail address or phone number (audited)",
  roles: ROLES.victimOfficers,
  details: `Matched by keyed hash: the address or number is never stored in the clear. The search
is recorded in the audit log, with the cases it found.`,
  options: { email: { type: 'string' }, phone: { type: 'string' } },
  args: [],
  async run(context) {
    const email = context.string('email');
    const phone = context.string('phone');
    if ((email === undefined) === (phone === undefined)) throw new UsageError('give --email or --phone');
    const response = await context.client().call<{ cases?: CaseJson[] }>('POST', '/v1/victim-cases:find', {
      body: email === undefined ? { phone } : { email },
    });
    const cases = response.cases ?? [];
    context.io.stdout.write(context.json ? jsonText({ cases }) : caseTable(cases));
    return 0;
  },
};

export const victimsGetCommand = getCommand({
  name: 'victims get',
  routes: ['GET /v1/victim-cases/{case_id}'],
  synopsis: '<case-id>',
  summary: "the whole case with the victim's personal data (each read is audited)",
  roles: CASE_OFFICERS,
  args: ['case-id'],
  request: (context) => ({ path: casePath(context.args[0]!) }),
  text: (response: { case?: CaseJson }) => caseDetails(response.case ?? {}),
});

const CHANNELS = ['email', 'phone', 'sms'] as const;
const VICTIM_KINDS = ['person', 'small-organisation'] as const;

export const victimsUpdateCommand: Command = {
  name: 'victims update',
  routes: ['POST /v1/victim-cases/{case_id}:updateVictim', 'GET /v1/victim-cases/{case_id}'],
  synopsis:
    '<case-id> [--file victim.json] [--kind KIND] [--name NAME] [--organisation NAME] [--email ADDRESS] ' +
    '[--phone NUMBER] [--channel email|phone|sms] [--notes TEXT] [--version N]',
  summary: "replace the victim's own details (not the needs); flags change only what they name",
  roles: CASE_OFFICERS,
  details: `With --file: the file holds one JSON object, a Victim in the proto3 JSON mapping, e.g.
  {"kind": "VICTIM_KIND_PERSON", "displayName": "Jana Nováková", "email": "jana@example.org",
   "phone": "+4915112345678", "preferredChannel": "CONTACT_CHANNEL_EMAIL", "notes": "prefers mornings"}
and replaces the details; flags override it. Without --file the details are read first (an
audited read) and the flags change only the fields they name; --email '' removes an address.
--kind is ${VICTIM_KINDS.join(' or ')}. Contact details are kept only while the victim consents
to contact. ${VERSION_HELP}`,
  options: {
    ...valueOptions('file', 'kind', 'name', 'organisation', 'email', 'phone', 'channel', 'notes', 'version'),
  },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const flags: Record<string, unknown> = {};
    copyFlags(context, flags, [
      ['name', 'displayName'],
      ['organisation', 'organisationName'],
      ['email', 'email'],
      ['phone', 'phone'],
      ['notes', 'notes'],
    ]);
    const kind = optional(context, 'kind', (t) => enumFlag('kind', t, 'VICTIM_KIND_', VICTIM_KINDS));
    if (kind) flags['kind'] = kind;
    const channel = optional(context, 'channel', (t) => enumFlag('channel', t, 'CONTACT_CHANNEL_', CHANNELS));
    if (channel) flags['preferredChannel'] = channel;
    const file = context.string('file');
    if (!file && Object.keys(flags).length === 0) throw new UsageError('give --file or a flag to change');
    let expectedVersion = optional(context, 'version', (t) => integerFlag('version', t, 0)) ?? 0;
    const client = context.client();
    let base: Record<string, unknown>;
    if (file) base = await readJsonObject(context, file, 'a Victim');
    else {
      const { case: current } = await client.call<{ case?: CaseJson }>('GET', casePath(caseId));
      if (!current?.victim) throw new CliError(`case ${caseId} holds no victim's details (erased?)`);
      base = { ...current.victim };
      // What was read is what is changed: a change made since is not overwritten unseen.
      if (expectedVersion === 0) expectedVersion = current.version ?? 0;
    }
    const response = await client.call<{ case?: CaseJson }>('POST', `${casePath(caseId)}:updateVictim`, {
      body: { victim: { ...base, ...flags }, expectedVersion },
    });
    return print(context, response, `updated the victim's details on ${caseId}`, response.case);
  },
};

const RISK_FLAGS = ['self-harm', 'threat-to-life', 'child-at-risk'] as const;

export const victimsAssessCommand: Command = {
  name: 'victims assess',
  routes: ['POST /v1/victim-cases/{case_id}:assessNeeds'],
  synopsis: '<case-id> --file needs.json [--risk FLAG]… [--version N]',
  summary: 'replace the needs assessment: needs and risk flags (a risk makes the case urgent)',
  roles: CASE_OFFICERS,
  details: `The file holds one JSON object, {"needs": [Need, …], "riskFlags": [RiskFlag, …]} in the proto3
JSON mapping, each need with the details of its kind, e.g.
  {"needs": [{"financialLoss": {"amountMinor": "185000", "currency": "EUR", "paymentMethod": "PAYMENT_METHOD_CARD",
               "paidAt": "2026-03-01T10:00:00Z"}},
             {"psychologicalDistress": {"instrument": "SCREENING_INSTRUMENT_PHQ4", "score": 7}}],
   "riskFlags": []}
Need kinds: financialLoss, identityTheft, accountTakeover, sextortion, harassment, dataExposure,
serviceLoss, psychologicalDistress (each once; financial losses one per payment, at most 10).
--risk adds a risk flag: ${RISK_FLAGS.join(', ')}; the case goes at once to a crisis-capable
organisation. ${VERSION_HELP}`,
  options: {
    file: { type: 'string' },
    risk: { type: 'string', multiple: true },
    version: { type: 'string' },
  },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const value = await readJsonObject(
      context,
      required(context, 'file'),
      '{"needs": […], "riskFlags": […]}',
    );
    if (!Array.isArray(value['needs'])) throw new UsageError('the file has no "needs" list');
    const riskFlags = [
      ...(Array.isArray(value['riskFlags']) ? (value['riskFlags'] as unknown[]) : []),
      ...context.strings('risk').map((t) => enumFlag('risk', t, 'RISK_FLAG_', RISK_FLAGS)),
    ];
    const expectedVersion = optional(context, 'version', (t) => integerFlag('version', t, 0)) ?? 0;
    const response = await context
      .client()
      .call<{ case?: CaseJson; uncoveredNeeds?: string[] }>('POST', `${casePath(caseId)}:assessNeeds`, {
        body: { needs: value['needs'], riskFlags, expectedVersion },
      });
    return print(context, response, `assessed ${caseId}${uncovered(response.uncoveredNeeds)}`, response.case);
  },
};

const PURPOSES = ['contact', 'share-law-enforcement', 'share-support'] as const;

export const victimsConsentCommand: Command = {
  name: 'victims consent',
  routes: ['POST /v1/victim-cases/{case_id}:recordConsent'],
  synopsis: `<case-id> --purpose ${PURPOSES.join('|')} (--grant | --withdraw) --wording VERSION`,
  summary: "record the victim's consent, or its withdrawal, for one purpose",
  roles: CASE_OFFICERS,
  details: `--purpose  contact: Beacon's organisations may contact the victim (follow-up); withdrawing
           it removes the e-mail address and phone number
           share-law-enforcement: the details may be disclosed to police (\`victims disclose\`)
           share-support: the case may be referred to, and read by, support organisations
--wording  the version of the wording the victim was shown, e.g. contact-2026-01`,
  options: {
    ...valueOptions('purpose', 'wording'),
    grant: { type: 'boolean' },
    withdraw: { type: 'boolean' },
  },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const purpose = enumFlag('purpose', required(context, 'purpose'), 'CONSENT_PURPOSE_', PURPOSES);
    if (context.flag('grant') === context.flag('withdraw'))
      throw new UsageError('give --grant or --withdraw');
    const granted = context.flag('grant');
    const consent = { purpose, granted, wordingVersion: required(context, 'wording') };
    const response = await context
      .client()
      .call<{ case?: CaseJson }>('POST', `${casePath(caseId)}:recordConsent`, { body: { consent } });
    return print(
      context,
      response,
      `${granted ? 'granted' : 'withdrew'} consent to ${enumName(purpose, 'CONSENT_PURPOSE_')} on ${caseId}`,
      response.case,
    );
  },
};

const CLOSE_REASONS = ['resolved', 'no-further-contact', 'duplicate'] as const;

export const victimsCloseCommand: Command = {
  name: 'victims close',
  routes: ['POST /v1/victim-cases/{case_id}:close'],
  synopsis: `<case-id> --reason ${CLOSE_REASONS.join('|')}`,
  summary: 'close a case: open referrals are withdrawn and check-ins cancelled',
  roles: OWNER_OFFICERS,
  options: { reason: { type: 'string' } },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    const reason = enumFlag('reason', required(context, 'reason'), 'CLOSE_REASON_', CLOSE_REASONS);
    const response = await context
      .client()
      .call<{ case?: CaseJson }>('POST', `${casePath(caseId)}:close`, { body: { reason } });
    return print(context, response, `closed ${caseId}`, response.case);
  },
};

export const victimsEraseCommand: Command = {
  name: 'victims erase',
  routes: ['POST /v1/victim-cases/{case_id}:erase'],
  synopsis: '<case-id> --yes',
  summary: "erase the victim's personal data for good (GDPR Art. 17) and close the case",
  roles: OWNER_OFFICERS,
  details: `Destroys the victim's data key: the encrypted personal data can never be read again. The
case still counts in statistics' totals. --yes confirms: there is no undo.`,
  options: { yes: { type: 'boolean' } },
  args: ['case-id'],
  async run(context) {
    const caseId = context.args[0]!;
    if (!context.flag('yes')) throw new UsageError('erasure cannot be undone: confirm with --yes');
    const response = await context
      .client()
      .call<{ case?: CaseJson }>('POST', `${casePath(caseId)}:erase`, { body: {} });
    return print(context, response, `erased the victim's data on ${caseId}`, response.case);
  },
};

interface AuditRecordJson {
  readonly seq?: number;
  readonly at?: string;
  readonly actor?: string;
  readonly actorOrganisationId?: string;
  readonly action?: string;
  readonly detail?: string;
  readonly chain?: string;
}

export const victimsAuditCommand = pagedListCommand({
  name: 'victims audit',
  routes: ['GET /v1/victim-cases/{case_id}/audit'],
  synopsis: '<case-id> [--page-size N] [--page-token TOKEN] [--all]',
  summary: 'who did what with a case, and when: reads of personal data, disclosures, erasure',
  roles: 'auditor',
  args: ['case-id'],
  key: 'records',
  maxPageSize: 500,
  request: (context) => ({ path: `${casePath(context.args[0]!)}/audit` }),
  text: (records: readonly AuditRecordJson[]) =>
    tableOf(records, 'no audit records\n', [
      ['AT', (r) => r.at ?? ''],
      ['ACTOR', (r) => r.actor ?? ''],
      ['ORGANISATION', (r) => r.actorOrganisationId ?? ''],
      ['ACTION', (r) => r.action ?? ''],
      ['DETAIL', (r) => r.detail ?? ''],
    ]),
});
