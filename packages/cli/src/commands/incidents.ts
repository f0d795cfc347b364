import { getCommand, pagedListCommand, valueOptions } from '../command-kinds.js';
import { integerFlag, jsonText, type Command } from '../context.js';
import { optional, parseTime, parseTlpFlag, readJsonObject, required } from '../flags.js';
import { incidentDetails, incidentTable, statusName, tlpName, type IncidentJson } from '../format.js';
import { UsageError } from '../io.js';
import { ROLES } from '../roles.js';
import { idempotencyKey } from '../report-file.js';

const STATUSES = ['REPORTED', 'TRIAGE', 'ACTIVE', 'CONTAINED', 'RESOLVED', 'CLOSED'] as const;

/** `active`, `ACTIVE` or `INCIDENT_STATUS_ACTIVE` as the enum name the gateway expects. */
export function parseStatus(flag: string, text: string): string {
  const bare = text
    .trim()
    .toUpperCase()
    .replace(/^INCIDENT_STATUS_/, '');
  if (!(STATUSES as readonly string[]).includes(bare)) {
    throw new UsageError(`--${flag} must be one of ${STATUSES.join(', ')}, not "${text}"`);
  }
  return `INCIDENT_STATUS_${bare}`;
}

interface IncidentResponse {
  readonly incident: IncidentJson;
}

export const incidentPath = (id: string) => `/v1/incidents/${encodeURIComponent(id)}`;

export const listCommand = pagedListCommand({
  name: 'incidents list',
  routes: ['GET /v1/incidents'],
  synopsis:
    "[--filter 'EXPR'] [--order-by 'FIELD [desc], …'] [--status STATUS] [--page-size N] [--page-token TOKEN] [--all]",
  summary: 'incidents you may see, newest first unless --order-by (--all follows every page)',
  roles: ROLES.readers,
  details: `--filter takes an AIP-160 expression (quote it for the shell), e.g.
  --filter 'sectors:"energy" AND jurisdictions:"DE" AND nciss_level >= 3'
fields:
  status         reported, triage, active, contained, resolved, closed (= != :)
  label, tlp     CLEAR < GREEN < AMBER < AMBER+STRICT < RED (= != < <= > >=)
  sectors        holds a CISA sector: sectors:"energy"; sectors:* is not empty
  jurisdictions  holds an ISO 3166 code; a country holds its subdivisions: "DE" matches DE-BY
  rsit_class, rsit_type   an RSIT class or type (= != :)
  nciss_level    0-5 or baseline, low, medium, high, severe, emergency (= != < <= > >=)
  nciss_score    0-100
  opened_at, updated_at, aware_at   RFC 3339, quoted: opened_at >= "2026-01-31T00:00:00Z"
  title          contains the text, ignoring case: title:"ransom"
combine with AND, OR (binds tighter than AND), NOT or -, and parentheses.
--order-by takes fields with an optional desc, e.g. --order-by 'nciss_level desc, opened_at';
fields: opened_at, updated_at, aware_at, nciss_level, nciss_score, label.`,
  options: {
    filter: { type: 'string' },
    'order-by': { type: 'string' },
    status: { type: 'string' },
  },
  key: 'incidents',
  maxPageSize: 100,
  request: (context) => ({
    path: '/v1/incidents',
    query: {
      status: optional(context, 'status', (text) => parseStatus('status', text)),
      // Checked by the gateway, which names the position of anything wrong in them.
      filter: context.string('filter'),
      orderBy: context.string('order-by'),
    },
  }),
  text: incidentTable,
});

export const showCommand = getCommand({
  name: 'incidents show',
  routes: ['GET /v1/incidents/{incident_id}'],
  synopsis: '<id>',
  summary: 'one incident in full',
  roles: ROLES.readers,
  args: ['id'],
  request: (context) => ({ path: incidentPath(context.args[0]!) }),
  text: (response: IncidentResponse) => incidentDetails(response.incident),
});

export const openCommand: Command = {
  name: 'incidents open',
  routes: ['POST /v1/incidents'],
  synopsis: '--file incident.json',
  summary: 'open an incident from a JSON file (idempotent: the same file opens it once)',
  roles: ROLES.coordinators,
  details: `The file holds one JSON object, an OpenIncident request in the proto3 JSON mapping
(GET /openapi.json has the schema), e.g.
  {"title": "Ransomware at a hospital", "tlp": "TLP_AMBER",
   "classification": {"rsitClass": "malicious-code", "rsitType": "infected-system"},
   "sectors": ["healthcare-and-public-health"], "jurisdictions": ["NL-LI"],
   "awareAt": "2026-01-31T06:00:00Z",
   "severityInputs": {"functionalImpact": "significant-non-critical", "observedActivity": "effect",
     "location": "business-network-management", "actor": "organised-crime", "informationImpact": "suspected",
     "recoverability": "supplemented", "crossSectorDependency": "none", "potentialImpact": "medium"},
   "observables": [{"type": "domain", "value": "evil.example"}]}
awareAt is when the affected entity became aware (regulatory clocks run from it); severityInputs
names a category for each of the eight NCISS inputs (\`beacon responses change-severity --help\`
lists them).`,
  options: { file: { type: 'string' } },
  args: [],
  async run(context) {
    const body = await readJsonObject(context, required(context, 'file'), 'an OpenIncident request');
    const response = await context.client().call<IncidentResponse>('POST', '/v1/incidents', {
      body,
      idempotencyKey: idempotencyKey(body),
    });
    context.io.stdout.write(context.json ? jsonText(response) : incidentDetails(response.incident));
    return 0;
  },
};

export const transitionCommand: Command = {
  name: 'incidents transition',
  routes: ['POST /v1/incidents/{incident_id}:transition'],
  synopsis: '<id> --to STATUS --version N [--expect-status STATUS] [--reason TEXT]',
  summary: 'move an incident along its lifecycle (--version: the one you saw; 0: latest)',
  roles: ROLES.coordinators,
  details: `--expect-status STATUS moves it only while its status is still STATUS, whatever else changed
(with --version 0; with a version too, both must hold): a move decided from a status you saw
never undoes a colleague's move made meanwhile.`,
  options: {
    ...valueOptions('to', 'version', 'expect-status', 'reason'),
  },
  args: ['id'],
  async run(context) {
    const toStatus = parseStatus('to', required(context, 'to'));
    const expectedVersion = integerFlag('version', required(context, 'version'), 0);
    const expectedStatus = optional(context, 'expect-status', (text) => parseStatus('expect-status', text));
    const reason = context.string('reason');
    const response = await context
      .client()
      .call<IncidentResponse>('POST', `${incidentPath(context.args[0]!)}:transition`, {
        body: {
          toStatus,
          expectedVersion,
          ...(expectedStatus ? { expectedStatus } : {}),
          ...(reason ? { reason } : {}),
        },
      });
    const { incident } = response;
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${incident.id} is now ${statusName(incident.status)} (version ${Number(incident.version ?? 0)})\n`,
    );
    return 0;
  },
};

export const mergeCommand: Command = {
  name: 'incidents merge',
  routes: ['POST /v1/incidents/{survivor_id}:merge'],
  synopsis: '<survivor-id> --merged ID --aware-at TIME [--survivor-version N] [--merged-version N]',
  summary:
    "merge another incident into this one, keeping the awareness time --aware-at (one of the two incidents'); idempotent",
  roles: 'coordinator (cleared for both incidents)',
  options: {
    ...valueOptions('merged', 'aware-at', 'survivor-version', 'merged-version'),
  },
  args: ['survivor-id'],
  async run(context) {
    const survivorId = context.args[0]!;
    const mergedId = required(context, 'merged');
    const awareAt = parseTime('aware-at', required(context, 'aware-at'));
    const version = (flag: string) => optional(context, flag, (text) => integerFlag(flag, text, 0)) ?? 0;
    const body = {
      mergedId,
      awareAt,
      survivorExpectedVersion: version('survivor-version'),
      mergedExpectedVersion: version('merged-version'),
    };
    // The same merge repeated is one merge: the key is the request's, survivor included.
    const response = await context
      .client()
      .call<{ survivor: IncidentJson }>('POST', `${incidentPath(survivorId)}:merge`, {
        body,
        idempotencyKey: idempotencyKey({ survivorId, ...body }),
      });
    const { survivor } = response;
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${mergedId} merged into ${survivor.id} (TLP ${tlpName(survivor.tlp)}, ${survivor.reportIds?.length ?? 0} reports, version ${Number(survivor.version ?? 0)})\n`,
    );
    return 0;
  },
};

export const reviseCommand: Command = {
  name: 'incidents revise',
  routes: ['POST /v1/incidents/{incident_id}:updateFacts'],
  synopsis: '<id> [--tlp LABEL] [--aware-at TIME] --reason TEXT [--version N]',
  summary: "change an incident's label or awareness time (coordinators; audited, announced)",
  roles: ROLES.coordinators,
  options: {
    ...valueOptions('tlp', 'aware-at', 'reason', 'version'),
  },
  args: ['id'],
  async run(context) {
    const tlpText = context.string('tlp');
    const tlp = tlpText === undefined ? undefined : parseTlpFlag('tlp', tlpText);
    const awareAt = optional(context, 'aware-at', (text) => parseTime('aware-at', text));
    if (tlp === undefined && awareAt === undefined) {
      throw new UsageError('give --tlp, --aware-at or both: there is nothing else to revise');
    }
    const reason = required(context, 'reason');
    const expectedVersion = optional(context, 'version', (text) => integerFlag('version', text, 0)) ?? 0;
    const response = await context
      .client()
      .call<IncidentResponse>('POST', `${incidentPath(context.args[0]!)}:updateFacts`, {
        body: { reason, expectedVersion, ...(tlp ? { tlp } : {}), ...(awareAt ? { awareAt } : {}) },
      });
    const { incident } = response;
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${incident.id} is TLP ${tlpName(incident.tlp)}, aware at ${String(incident.awareAt)} (version ${Number(incident.version ?? 0)})\n`,
    );
    return 0;
  },
};

interface RelationJson {
  readonly id?: string;
  readonly incidentId?: string;
  readonly relatedIncidentId?: string;
  readonly tlp?: string;
  readonly sharedObservables?: readonly { readonly type?: string; readonly value?: string }[];
  readonly foundAt?: string;
}

export const relationsCommand: Command = {
  name: 'incidents relations',
  routes: ['GET /v1/incidents/{incident_id}/relations'],
  synopsis: '<id>',
  summary: 'incidents possibly related to this one (coordinators cleared for both see them)',
  roles: 'coordinator (cleared for both incidents)',
  options: {},
  args: ['id'],
  async run(context) {
    const response = await context
      .client()
      .call<{ relations?: readonly RelationJson[] }>('GET', `${incidentPath(context.args[0]!)}/relations`);
    const relations = response.relations ?? [];
    if (context.json) {
      context.io.stdout.write(jsonText({ relations }));
      return 0;
    }
    const lines = relations.map((r) => {
      const other = r.incidentId === context.args[0] ? r.relatedIncidentId : r.incidentId;
      const shared = (r.sharedObservables ?? []).map((o) => `${o.type ?? '?'}:${o.value ?? ''}`).join(', ');
      return `${other ?? '?'}  TLP ${tlpName(r.tlp)}  found ${r.foundAt ?? '?'}  shares ${shared}`;
    });
    context.io.stdout.write(
      lines.length > 0 ? `${lines.join('\n')}\n` : 'no possible relations you may see\n',
    );
    return 0;
  },
};
