import { NEED_KINDS } from '@beacon/domain';
import { getCommand, listOptions, valueOptions, VERSIONED_PUT_OPTIONS } from '../command-kinds.js';
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import { copyFlags, enumFlag, enumName, listFlag, optional } from '../flags.js';
import { tableOf } from '../format.js';
import { organisationDetails, organisationTable, type OrganisationJson } from '../format-registry.js';
import type { GatewayClient } from '../http.js';
import { CliError, UsageError } from '../io.js';
import { runVersionedPut } from '../versioned-put.js';

const REFERRAL_STATES = ['awaiting-consent', 'offered', 'accepted', 'declined', 'withdrawn'] as const;

const REGISTRY_READERS =
  'coordinator, victim_officer, agency_admin (the registry, without any victim’s data)';

async function organisations(client: GatewayClient): Promise<OrganisationJson[]> {
  const response = await client.call<{ organisations?: OrganisationJson[] }>(
    'GET',
    '/v1/support-organisations',
  );
  return response.organisations ?? [];
}

/** One organisation from the registry (the API lists; there is no one-organisation call). */
async function organisation(client: GatewayClient, id: string): Promise<OrganisationJson> {
  const found = (await organisations(client)).find((o) => o.id === id);
  if (!found) throw new CliError(`no support organisation ${id}`);
  return found;
}

export const supportOrgsListCommand = getCommand({
  name: 'support-orgs list',
  routes: ['GET /v1/support-organisations'],
  synopsis: '',
  summary: 'the support-organisation registry: remit, languages, capacity, whether accepting',
  roles: REGISTRY_READERS,
  request: () => ({ path: '/v1/support-organisations' }),
  json: (response: { organisations?: OrganisationJson[] }) => ({
    organisations: response.organisations ?? [],
  }),
  text: (response) => organisationTable(response.organisations ?? []),
});

export const supportOrgsGetCommand: Command = {
  name: 'support-orgs get',
  routes: ['GET /v1/support-organisations'],
  synopsis: '<organisation-id>',
  summary: 'one support organisation in full',
  roles: REGISTRY_READERS,
  options: {},
  args: ['organisation-id'],
  async run(context) {
    const found = await organisation(context.client(), context.args[0]!);
    context.io.stdout.write(context.json ? jsonText({ organisation: found }) : organisationDetails(found));
    return 0;
  },
};

function yesNo(flag: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['yes', 'true', 'y', '1'].includes(value)) return true;
  if (['no', 'false', 'n', '0'].includes(value)) return false;
  throw new UsageError(`--${flag} must be yes or no, not "${text}"`);
}

/** The organisation fields the flags give; a field not given is left out. */
function organisationFlags(context: Context): Record<string, unknown> {
  const org: Record<string, unknown> = {};
  const id = context.string('id');
  if (id) org['id'] = id;
  copyFlags(context, org, [['name', 'name']]);
  for (const field of ['jurisdictions', 'languages'] as const) {
    if (context.strings(field).length > 0) org[field] = listFlag(context, field);
  }
  if (context.strings('needs').length > 0) {
    org['needsCovered'] = listFlag(context, 'needs').map((n) =>
      enumFlag('needs', n, 'NEED_KIND_', NEED_KINDS),
    );
  }
  const crisis = optional(context, 'crisis-capable', (text) => yesNo('crisis-capable', text));
  if (crisis !== undefined) org['crisisCapable'] = crisis;
  const accepting = optional(context, 'accepting', (text) => yesNo('accepting', text));
  if (accepting !== undefined) org['accepting'] = accepting;
  const capacity = optional(context, 'capacity', (text) => integerFlag('capacity', text, 0));
  if (capacity !== undefined) org['capacity'] = capacity;
  return org;
}

export const supportOrgsPutCommand: Command = {
  name: 'support-orgs put',
  routes: ['POST /v1/support-organisations', 'GET /v1/support-organisations'],
  synopsis:
    '[--file org.json] [--id ID] [--name NAME] [--jurisdictions CODES] [--languages CODES] [--needs NEEDS] ' +
    '[--crisis-capable yes|no] [--capacity N] [--accepting yes|no] [--version N | --update]',
  summary:
    'register a support organisation, or update it at its version (--update: change only what you give)',
  roles:
    'coordinator (registers, and changes anything); agency_admin (its own organisation’s ' +
    'languages and whether it is accepting: its remit, crisis capability and capacity are vetting)',
  details: `Flags build the organisation; with --file they replace what the file says. The file holds one
JSON object, a SupportOrganisation in the proto3 JSON mapping or a whole request, e.g.
  {"organisation": {"id": "weisser-ring-by", "name": "Weisser Ring Bayern", "jurisdictions": ["DE-BY"],
   "languages": ["de", "en"], "needsCovered": ["NEED_KIND_FINANCIAL_LOSS", "NEED_KIND_PSYCHOLOGICAL_DISTRESS"],
   "crisisCapable": false, "capacity": 25, "accepting": true}, "expectedVersion": 0}
--id             the organisation's id: its victim officers' tokens carry it as their agency
--jurisdictions  ISO 3166 codes it serves, comma-separated; DE serves every DE-…
--languages      ISO 639-1 codes it helps in
--needs          ${NEED_KINDS.join(', ')}
--crisis-capable whether it takes a victim at risk at once (a crisis line)
--capacity       referrals it can hold at once
--version N replaces version N (0 registers); --update reads it first and changes only the
fields you give.`,
  options: {
    ...valueOptions('file', 'id', 'name', 'crisis-capable', 'capacity', 'accepting'),
    ...listOptions('jurisdictions', 'languages', 'needs'),
    ...VERSIONED_PUT_OPTIONS,
  },
  args: [],
  async run(context) {
    return runVersionedPut(context, {
      key: 'organisation',
      fileHolds: 'a SupportOrganisation, or {"organisation": …, "expectedVersion": N}',
      noun: 'organisation',
      flags: () => organisationFlags(context),
      stored: async (client, id) => {
        const { version, activeReferrals: _held, ...fields } = await organisation(client, id);
        return { version, fields };
      },
      route: '/v1/support-organisations',
      createdVerb: 'registered',
      details: organisationDetails,
    });
  },
};

interface ReferralNoticeJson {
  readonly case?: { readonly id?: string; readonly jurisdiction?: string; readonly language?: string };
  readonly referral?: {
    readonly id?: string;
    readonly needs?: readonly string[];
    readonly crisis?: boolean;
    readonly state?: string;
    readonly madeAt?: string;
  };
}

export const supportOrgsReferralsCommand = getCommand({
  name: 'support-orgs referrals',
  routes: ['GET /v1/support-organisations/{organisation_id}/referrals'],
  synopsis: `<organisation-id> [--state ${REFERRAL_STATES.join('|')}]`,
  summary: 'referrals made to an organisation, without personal data: its officers’ inbox',
  roles: 'victim_officer (of that organisation)',
  options: { state: { type: 'string' } },
  args: ['organisation-id'],
  request: (context) => ({
    path: `/v1/support-organisations/${encodeURIComponent(context.args[0]!)}/referrals`,
    query: {
      state: optional(context, 'state', (text) =>
        enumFlag('state', text, 'REFERRAL_STATE_', REFERRAL_STATES),
      ),
    },
  }),
  json: (response: { referrals?: ReferralNoticeJson[] }) => ({ referrals: response.referrals ?? [] }),
  text: (response) =>
    tableOf(response.referrals ?? [], 'no referrals\n', [
      ['CASE', ({ case: c }) => c?.id ?? ''],
      ['REFERRAL', ({ referral: r }) => r?.id ?? ''],
      ['STATE', ({ referral: r }) => enumName(r?.state, 'REFERRAL_STATE_')],
      ['CRISIS', ({ referral: r }) => (r?.crisis ? 'yes' : 'no')],
      ['NEEDS', ({ referral: r }) => (r?.needs ?? []).map((n) => enumName(n, 'NEED_KIND_')).join(',') || '-'],
      ['JURISDICTION', ({ case: c }) => c?.jurisdiction ?? ''],
      ['LANGUAGE', ({ case: c }) => c?.language ?? ''],
      ['MADE AT', ({ referral: r }) => r?.madeAt ?? ''],
    ]),
});
