import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { getCommand, listOptions, valueOptions, VERSIONED_PUT_OPTIONS } from '../command-kinds.js';
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import {
  agencyFlagOrOwn,
  copyFlags,
  enumFlag,
  listFlag,
  optional,
  parseTlpFlag,
  readJsonObject,
  required,
} from '../flags.js';
import { tableOf, truncate } from '../format.js';
import { agencyDetails, agencyTable, type AgencyJson } from '../format-registry.js';
import type { GatewayClient } from '../http.js';
import { CliError, UsageError } from '../io.js';
import { ROLES } from '../roles.js';

export const AGENCY_KINDS = ['csirt', 'law-enforcement', 'regulator', 'operator', 'victim-support'] as const;
export const CONTACT_ROLES = ['duty-officer', 'deputy', 'head', 'national-spoc'] as const;

export const agencyPath = (id: string) => `/v1/agencies/${encodeURIComponent(id)}`;

/** Every page of the registry: it is small, and a list cut at a page would mislead. */
async function allAgencies(client: GatewayClient): Promise<AgencyJson[]> {
  const agencies: AgencyJson[] = [];
  let pageToken = '';
  do {
    const page = await client.call<{ agencies?: AgencyJson[]; nextPageToken?: string }>(
      'GET',
      '/v1/agencies',
      { query: { pageSize: 100, pageToken } },
    );
    agencies.push(...(page.agencies ?? []));
    if (page.nextPageToken === pageToken) break;
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return agencies;
}

export const agenciesListCommand: Command = {
  name: 'agencies list',
  routes: ['GET /v1/agencies'],
  synopsis: '',
  summary: 'every registered agency: kind, clearance, remit, contacts',
  roles: 'coordinator',
  options: {},
  args: [],
  async run(context) {
    const agencies = await allAgencies(context.client());
    context.io.stdout.write(context.json ? jsonText({ agencies }) : agencyTable(agencies));
    return 0;
  },
};

export const agenciesGetCommand = getCommand({
  name: 'agencies get',
  routes: ['GET /v1/agencies/{agency_id}'],
  synopsis: '<agency-id>',
  summary: 'one agency in full: remit, clearance, escalation chain, channels (never secrets)',
  roles: ROLES.agencyReaders,
  args: ['agency-id'],
  request: (context) => ({ path: agencyPath(context.args[0]!) }),
  text: (response: { agency: AgencyJson }) => agencyDetails(response.agency),
});

/** `ROLE:NAME[:EMAIL[:PHONE]]`, e.g. `duty-officer:Duty officer:duty@cert.example:+4930123456`. */
export function parseContact(text: string): Record<string, string> {
  const [role = '', name = '', email = '', phone = '', ...rest] = text.split(':').map((p) => p.trim());
  if (!role || !name || rest.length > 0) {
    throw new UsageError(`--contact must be ROLE:NAME[:EMAIL[:PHONE]], not "${text}"`);
  }
  if (!(CONTACT_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--contact role must be one of ${CONTACT_ROLES.join(', ')}, not "${role}"`);
  }
  return { role, name, ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
}

/** The agency and expected version a `--file` holds: an Agency, or a whole PutAgency request. */
async function agencyFromFile(context: Context, file: string) {
  const value = await readJsonObject(context, file, 'an Agency, or {"agency": …, "expectedVersion": N}');
  if (typeof value['agency'] === 'object' && value['agency'] !== null) {
    return {
      agency: value['agency'] as Record<string, unknown>,
      version: Number(value['expectedVersion'] ?? 0),
    };
  }
  return { agency: value, version: 0 };
}

export const agenciesPutCommand: Command = {
  name: 'agencies put',
  routes: ['POST /v1/agencies', 'GET /v1/agencies/{agency_id}'],
  synopsis:
    '[--file agency.json] [--id ID] [--name NAME] [--kind KIND] [--jurisdictions CODES] ' +
    '[--sectors SECTORS] [--clearance TLP] [--contact ROLE:NAME[:EMAIL[:PHONE]]]… [--email-to ADDRESS]… ' +
    '[--webhook URL --webhook-secret ID:SECRET…] [--version N | --update]',
  summary: 'register an agency, or replace it at its version (--update: change only what you give)',
  roles:
    'coordinator (registers, and changes anything); agency_admin (its own agency’s contacts and ' +
    'channels only: its remit and clearance are the coordination centre’s vetting)',
  details: `Flags build the agency; with --file they replace what the file says. The file holds one JSON
object, an Agency in the proto3 JSON mapping or a whole request, e.g.
  {"agency": {"id": "cert-bayern", "name": "CERT Bayern", "kind": "AGENCY_KIND_CSIRT",
   "jurisdictions": ["DE-BY"], "sectors": ["energy", "water-and-wastewater"], "clearance": "TLP_RED",
   "contacts": [{"role": "duty-officer", "name": "Duty officer", "email": "duty@cert-bayern.example"}],
   "channels": {"email": {"to": ["soc@cert-bayern.example"]}}}, "expectedVersion": 0}
--kind           ${AGENCY_KINDS.join(', ')}
--jurisdictions  ISO 3166 codes, comma-separated; DE covers DE-BY
--sectors        CISA sectors, comma-separated (energy, water-and-wastewater, healthcare-and-public-health, …)
--contact        the escalation chain in order, one flag each; roles ${CONTACT_ROLES.join(', ')},
                 never stepping down; e.g. --contact 'duty-officer:Duty officer:duty@cert.example:+4930123456'
--webhook-secret ID:SECRET, at least 32 characters; write-only, never shown again
--version N replaces version N (0 registers); --update reads the agency first and changes only
the fields you give (webhook secrets, which are never returned, must then be given again).`,
  options: {
    ...valueOptions('file', 'id', 'name', 'kind', 'clearance', 'webhook'),
    ...listOptions('jurisdictions', 'sectors', 'contact', 'email-to', 'webhook-secret'),
    ...VERSIONED_PUT_OPTIONS,
  },
  args: [],
  async run(context) {
    const file = context.string('file');
    const fromFile = file ? await agencyFromFile(context, file) : { agency: {}, version: 0 };
    const flags = agencyFlags(context);
    const id = (flags['id'] ?? fromFile.agency['id']) as string | undefined;
    if (!id) throw new UsageError('name the agency: --id, or "id" in --file');
    const versionFlag = optional(context, 'version', (text) => integerFlag('version', text, 0));
    if (versionFlag !== undefined && context.flag('update')) {
      throw new UsageError('give --version or --update, not both');
    }
    const client = context.client();
    let base = fromFile.agency;
    let expectedVersion = versionFlag ?? fromFile.version;
    if (context.flag('update')) {
      const { agency } = await client.call<{ agency: AgencyJson }>('GET', agencyPath(id));
      const { version, ...stored } = agency;
      const secrets = stored.channels?.webhook?.secrets ?? [];
      const channels = flags['channels'] as { webhook?: unknown } | undefined;
      if (secrets.length > 0 && channels?.webhook === undefined) {
        throw new UsageError(
          `${id} has webhook secrets, which are never returned: give them again with --webhook ` +
            'and --webhook-secret, or write the whole agency with --file',
        );
      }
      base = { ...(stored as Record<string, unknown>), ...fromFile.agency };
      expectedVersion = version ?? 0;
    }
    // Channels merge one level down: --email-to alone keeps a webhook the agency has.
    const channels = {
      ...(base['channels'] as object | undefined),
      ...(flags['channels'] as object | undefined),
    };
    const agency = { ...base, ...flags, id, ...(Object.keys(channels).length > 0 ? { channels } : {}) };
    const response = await client.call<{ agency: AgencyJson }>('POST', '/v1/agencies', {
      body: { agency, expectedVersion },
    });
    if (context.json) {
      context.io.stdout.write(jsonText(response));
      return 0;
    }
    const verb = expectedVersion === 0 ? 'registered' : 'updated';
    context.io.stdout.write(
      `${verb} ${response.agency.id} (version ${response.agency.version ?? 0})\n${agencyDetails(response.agency)}`,
    );
    return 0;
  },
};

/** The agency fields the flags give; a field not given is left out, so a file's stays. */
function agencyFlags(context: Context): Record<string, unknown> {
  const agency: Record<string, unknown> = {};
  const id = context.string('id');
  if (id) agency['id'] = id;
  copyFlags(context, agency, [['name', 'name']]);
  const kind = context.string('kind');
  if (kind !== undefined) agency['kind'] = enumFlag('kind', kind, 'AGENCY_KIND_', AGENCY_KINDS);
  for (const field of ['jurisdictions', 'sectors'] as const) {
    if (context.strings(field).length > 0) agency[field] = listFlag(context, field);
  }
  const clearance = context.string('clearance');
  if (clearance !== undefined) agency['clearance'] = parseTlpFlag('clearance', clearance);
  if (context.strings('contact').length > 0)
    agency['contacts'] = context.strings('contact').map(parseContact);
  const channels: Record<string, unknown> = {};
  const emailTo = listFlag(context, 'email-to');
  if (emailTo.length > 0) channels['email'] = { to: emailTo };
  const webhook = context.string('webhook');
  const secrets = context.strings('webhook-secret').map((text) => {
    const at = text.indexOf(':');
    if (at <= 0) throw new UsageError('--webhook-secret must be ID:SECRET');
    return { id: text.slice(0, at), secret: text.slice(at + 1) };
  });
  if (secrets.length > 0 && !webhook) throw new UsageError('--webhook-secret needs --webhook URL');
  if (webhook) channels['webhook'] = { url: webhook, secrets };
  if (Object.keys(channels).length > 0) agency['channels'] = channels;
  return agency;
}

interface CredentialsResponse {
  readonly creds?: string;
  readonly inboxPrefix?: string;
  readonly stream?: string;
  readonly filterSubject?: string;
  readonly expiresAt?: string;
}

/**
 * Writes a secret file readable by its owner only, whatever was there: a new file (mode 0600)
 * renamed over the old one, so a file once readable by others is replaced, not rewritten.
 */
async function writeSecret(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export const agenciesCredentialsCommand: Command = {
  name: 'agencies credentials',
  routes: ['POST /v1/agencies/{agency_id}:issueFeedCredentials'],
  synopsis: '<agency-id> --out agency.creds [--ttl-hours N]',
  summary: "issue NATS credentials that read only the agency's feed, into a file only you may read",
  roles: ROLES.agencyManagers,
  details: `Writes a NATS .creds file (user JWT and nkey seed) with mode 0600, replacing the file if it
exists; the secret is never printed. They last --ttl-hours (the deployment's default, 8 unless
configured, when not given; at most its maximum, 24 unless configured): issue them again before
they expire. Connect with the inbox prefix and read the stream filtered to the subject printed,
e.g. with the nats CLI:
  nats context save cert-bayern --creds "$PWD/agency.creds" --inbox-prefix _INBOX.cert-bayern`,
  options: { out: { type: 'string' }, 'ttl-hours': { type: 'string' } },
  args: ['agency-id'],
  async run(context) {
    const out = required(context, 'out');
    const ttlHours = optional(context, 'ttl-hours', (text) => integerFlag('ttl-hours', text, 1, 24 * 365));
    const agencyId = context.args[0]!;
    const response = await context
      .client()
      .call<CredentialsResponse>('POST', `${agencyPath(agencyId)}:issueFeedCredentials`, {
        body: ttlHours === undefined ? {} : { ttlHours },
      });
    const { creds, ...rest } = response;
    if (!creds) throw new CliError('the gateway answered without credentials');
    try {
      await writeSecret(context.path(out), creds);
    } catch (error) {
      throw new CliError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    context.io.stdout.write(
      context.json
        ? jsonText({ ...rest, credsFile: context.path(out) })
        : `wrote ${out} (mode 0600), valid until ${rest.expiresAt ?? '?'}\n` +
            `inbox prefix ${rest.inboxPrefix ?? '?'}; stream ${rest.stream ?? '?'} filtered to ${rest.filterSubject ?? '?'}\n`,
    );
    return 0;
  },
};

interface DeliveryJson {
  readonly eventId?: string;
  readonly channel?: string;
  readonly attempt?: number;
  readonly outcome?: string;
  readonly latencyMs?: number;
  readonly detail?: string;
  readonly at?: string;
}

export const agenciesDeliveriesCommand = getCommand({
  name: 'agencies deliveries',
  routes: ['GET /v1/agencies/{agency_id}/incidents/{incident_id}/deliveries'],
  synopsis: '<agency-id> <incident-id>',
  summary: 'every delivery attempt to the agency about the incident: channel, outcome, latency',
  roles: ROLES.agencyReaders,
  args: ['agency-id', 'incident-id'],
  request(context) {
    const [agencyId, incidentId] = context.args as [string, string];
    return { path: `${agencyPath(agencyId)}/incidents/${encodeURIComponent(incidentId)}/deliveries` };
  },
  json: (response: { deliveries?: DeliveryJson[] }) => ({ deliveries: response.deliveries ?? [] }),
  text: (response) =>
    tableOf(response.deliveries ?? [], 'no deliveries you may see\n', [
      ['AT', (d) => d.at ?? ''],
      ['CHANNEL', (d) => d.channel ?? ''],
      ['ATTEMPT', (d) => String(d.attempt ?? 0)],
      ['OUTCOME', (d) => d.outcome ?? ''],
      ['LATENCY', (d) => `${d.latencyMs ?? 0} ms`],
      ['EVENT', (d) => d.eventId ?? ''],
      ['DETAIL', (d) => truncate(d.detail ?? '', 60)],
    ]),
});

export const agenciesAcknowledgeCommand: Command = {
  name: 'agencies acknowledge',
  routes: ['POST /v1/agencies/{agency_id}/incidents/{incident_id}:acknowledge'],
  synopsis: '<incident-id> [--agency ID] [--note TEXT]',
  summary: "acknowledge the agency's engagement through notify, as its feed and e-mail links do",
  roles: 'agency_analyst, agency_admin (their own agency only)',
  details: `--agency defaults to the agency your token names. The first acknowledgement stands; notify
publishes it and the response stops escalating the engagement. \`responses acknowledge\` does
the same through the response itself, and lets a coordinator acknowledge for an agency.
An incident the agency is not engaged on, may not read, or that does not exist is the same
"not found".`,
  options: { agency: { type: 'string' }, note: { type: 'string' } },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const agencyId = agencyFlagOrOwn(context);
    const response = await context
      .client()
      .call<{ acknowledgedAt?: string; first?: boolean }>(
        'POST',
        `${agencyPath(agencyId)}/incidents/${encodeURIComponent(incidentId)}:acknowledge`,
        { body: { note: context.string('note') ?? '' } },
      );
    context.io.stdout.write(
      context.json
        ? jsonText({ agencyId, incidentId, ...response })
        : response.first
          ? `${agencyId} acknowledged its engagement on ${incidentId} at ${response.acknowledgedAt ?? '?'}\n`
          : `${agencyId} had acknowledged its engagement on ${incidentId} already, at ${response.acknowledgedAt ?? '?'}\n`,
    );
    return 0;
  },
};
