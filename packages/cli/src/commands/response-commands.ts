/**
 * The commands a response takes: an agency's acknowledgement, and the coordinator's escalation,
 * engagement, severity, reports filed, ransom payment and resolution. Each prints what it did,
 * then the response as it answered.
 */
import { NCISS_INPUTS, OBLIGATION_IDS, type NcissInput } from '@beacon/domain';
import { jsonText, type Command, type Context } from '../context.js';
import { agencyFlagOrOwn, optional, parseTime, readJsonObject, required } from '../flags.js';
import { responseDetails, type ResponseStatusJson } from '../format-response.js';
import { UsageError } from '../io.js';
import { ROLES } from '../roles.js';
import { incidentPath } from './incidents.js';
import { responsePath } from './responses.js';

/** Sends one command and prints `headline` and the response, or the JSON. */
async function command(
  context: Context,
  path: string,
  body: Record<string, unknown>,
  headline: (status: ResponseStatusJson) => string,
): Promise<number> {
  const response = await context.client().call<{ status?: ResponseStatusJson }>('POST', path, { body });
  const status = response.status ?? {};
  context.io.stdout.write(
    context.json ? jsonText({ status }) : `${headline(status)}\n${responseDetails(status)}`,
  );
  return 0;
}

export const acknowledgeCommand: Command = {
  name: 'responses acknowledge',
  routes: ['POST /v1/responses/{incident_id}/agencies/{agency_id}:acknowledge'],
  synopsis: '<incident-id> [--agency ID] [--note TEXT]',
  summary: "acknowledge an agency's engagement: the response stops escalating it",
  roles: ROLES.acknowledgers,
  details: `--agency defaults to the agency your token names, so an agency's people just run
  beacon responses acknowledge inc_… --note 'on it'
A coordinator names the agency it acknowledges for. The first acknowledgement stands.`,
  options: { agency: { type: 'string' }, note: { type: 'string' } },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const agencyId = agencyFlagOrOwn(context);
    return command(
      context,
      `${responsePath(incidentId)}/agencies/${encodeURIComponent(agencyId)}:acknowledge`,
      { note: context.string('note') ?? '' },
      () => `${agencyId} acknowledged its engagement on ${incidentId}`,
    );
  },
};

export const escalateCommand: Command = {
  name: 'responses escalate',
  routes: ['POST /v1/responses/{incident_id}:escalate'],
  synopsis: '<incident-id> [--agency ID]',
  summary: 'move an engagement (every waiting one without --agency) to its next contact now',
  roles: ROLES.coordinators,
  options: { agency: { type: 'string' } },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const agencyId = context.string('agency') ?? '';
    return command(
      context,
      `${responsePath(incidentId)}:escalate`,
      { agencyId },
      () => `escalated ${agencyId || 'every engagement waiting for an answer'} on ${incidentId}`,
    );
  },
};

/**
 * `responses add-agency` and `remove-agency`: one agency's engagement in the response, changed
 * by the route `request` names, with an optional --reason.
 */
function engagementCommand(
  face: Pick<Command, 'name' | 'routes' | 'summary'>,
  request: (
    incidentId: string,
    agencyId: string,
    reason: string,
  ) => { path: string; body: Record<string, unknown> },
  headline: (incidentId: string, agencyId: string) => string,
): Command {
  return {
    ...face,
    synopsis: '<incident-id> <agency-id> [--reason TEXT]',
    roles: ROLES.coordinators,
    options: { reason: { type: 'string' } },
    args: ['incident-id', 'agency-id'],
    async run(context) {
      const [incidentId, agencyId] = context.args as [string, string];
      const { path, body } = request(incidentId, agencyId, context.string('reason') ?? '');
      return command(context, path, body, () => headline(incidentId, agencyId));
    },
  };
}

export const addAgencyCommand = engagementCommand(
  {
    name: 'responses add-agency',
    routes: ['POST /v1/responses/{incident_id}/agencies'],
    summary: 'engage another agency in the response: it is notified and may read the incident',
  },
  (incidentId, agencyId, reason) => ({
    path: `${responsePath(incidentId)}/agencies`,
    body: { agencyId, reason },
  }),
  (incidentId, agencyId) => `${agencyId} engaged on ${incidentId}`,
);

export const removeAgencyCommand = engagementCommand(
  {
    name: 'responses remove-agency',
    routes: ['POST /v1/responses/{incident_id}/agencies/{agency_id}:remove'],
    summary: "end an agency's engagement: it stops reading the incident above GREEN (unless it reported it)",
  },
  (incidentId, agencyId, reason) => ({
    path: `${responsePath(incidentId)}/agencies/${encodeURIComponent(agencyId)}:remove`,
    body: { reason },
  }),
  (incidentId, agencyId) => `${agencyId} removed from the response to ${incidentId}`,
);

const INPUT_NAMES = Object.keys(NCISS_INPUTS) as NcissInput[];

/** How NCISS inputs are given, for the `--help` of the commands that change them. */
export const SEVERITY_INPUTS_HELP = `Starts from the incident's inputs now (or --file's) and changes those you --set, e.g.
  --set functionalImpact=significant-critical --set potentialImpact=high
The file holds one JSON object, the inputs or {"severityInputs": {…}}, e.g.
  {"functionalImpact": "denial-critical", "observedActivity": "effect", "location": "critical-systems",
   "actor": "organised-crime", "informationImpact": "destruction-critical", "recoverability": "not-recoverable",
   "crossSectorDependency": "high", "potentialImpact": "very-high"}
NCISS inputs and their categories:
${INPUT_NAMES.map((name) => `  ${name.padEnd(22)}${NCISS_INPUTS[name].join(', ')}`).join('\n')}`;
const camel = (name: string) => name.trim().replace(/[_-]([a-z])/g, (_, c: string) => c.toUpperCase());

/** `NAME=VALUE` with an NCISS input's name (camelCase or snake_case) and one of its categories. */
function parseInput(text: string): [NcissInput, string] {
  const at = text.indexOf('=');
  const name = camel(at > 0 ? text.slice(0, at) : text) as NcissInput;
  if (at <= 0 || !INPUT_NAMES.includes(name)) {
    throw new UsageError(
      `--set must be NAME=VALUE with NAME one of ${INPUT_NAMES.join(', ')}, not "${text}"`,
    );
  }
  const value = text.slice(at + 1).trim();
  const allowed: readonly string[] = NCISS_INPUTS[name];
  if (!allowed.includes(value)) {
    throw new UsageError(`--set ${name} must be one of ${allowed.join(', ')}, not "${value}"`);
  }
  return [name, value];
}

/**
 * The NCISS inputs `--file` and `--set NAME=VALUE` give: the file's, or the incident's now,
 * with each --set applied.
 */
export async function severityInputsFrom(
  context: Context,
  incidentId: string,
): Promise<Record<string, unknown>> {
  const changes = context.strings('set').map(parseInput);
  const file = context.string('file');
  if (!file && changes.length === 0) throw new UsageError('give --file, --set NAME=VALUE, or both');
  const client = context.client();
  let inputs: Record<string, unknown>;
  if (file) {
    const value = await readJsonObject(context, file, 'NCISS inputs, or {"severityInputs": {…}}');
    const nested = value['severityInputs'];
    inputs = typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : value;
  } else {
    const { incident } = await client.call<{ incident: { severityInputs?: Record<string, unknown> } }>(
      'GET',
      incidentPath(incidentId),
    );
    inputs = incident.severityInputs ?? {};
  }
  return { ...inputs, ...Object.fromEntries(changes) };
}

/**
 * A coordinator's command that replaces an incident's NCISS inputs, read from --file and
 * --set (`severityInputsFrom`); `send` posts them to its own route and prints what came of it.
 */
export function severityInputsCommand(
  face: Pick<Command, 'name' | 'routes' | 'synopsis' | 'summary' | 'details'> & {
    readonly options?: Command['options'];
  },
  send: (context: Context, incidentId: string, severityInputs: Record<string, unknown>) => Promise<number>,
): Command {
  const { options, ...rest } = face;
  return {
    ...rest,
    roles: ROLES.coordinators,
    options: { file: { type: 'string' }, set: { type: 'string', multiple: true }, ...options },
    args: ['incident-id'],
    async run(context) {
      const incidentId = context.args[0]!;
      return send(context, incidentId, await severityInputsFrom(context, incidentId));
    },
  };
}

export const changeSeverityCommand = severityInputsCommand(
  {
    name: 'responses change-severity',
    routes: ['POST /v1/responses/{incident_id}:changeSeverity', 'GET /v1/incidents/{incident_id}'],
    synopsis: '<incident-id> [--file inputs.json] [--set NAME=VALUE]…',
    summary: "replace the incident's NCISS inputs: engagements and regimes follow the new level",
    details: SEVERITY_INPUTS_HELP,
  },
  (context, incidentId, severityInputs) =>
    command(
      context,
      `${responsePath(incidentId)}:changeSeverity`,
      { severityInputs },
      (s) => `${incidentId} is now at NCISS level ${s.ncissLevel ?? 0} (score ${s.ncissScore ?? 0})`,
    ),
);

export const fileReportCommand: Command = {
  name: 'responses file-report',
  routes: ['POST /v1/responses/{incident_id}/reports'],
  synopsis: '<incident-id> --obligation ID --reference REF [--filed-at TIME]',
  summary: 'record that a regulatory report was filed with the authority (its clock stops)',
  roles: ROLES.coordinators,
  details: `--obligation   one of the reports \`beacon responses get\` lists: ${OBLIGATION_IDS.join(', ')}
--reference    the authority's reference for the report, 1 to 200 characters
--filed-at     when it was filed (now when not given; not in the future)`,
  options: {
    obligation: { type: 'string' },
    reference: { type: 'string' },
    'filed-at': { type: 'string' },
  },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const obligation = required(context, 'obligation');
    const reference = required(context, 'reference');
    const filedAt = optional(context, 'filed-at', (text) => parseTime('filed-at', text));
    return command(
      context,
      `${responsePath(incidentId)}/reports`,
      { obligation, reference, ...(filedAt ? { filedAt } : {}) },
      () => `${obligation} recorded as filed on ${incidentId} (reference ${reference})`,
    );
  },
};

export const ransomPaymentCommand: Command = {
  name: 'responses ransom-payment',
  routes: ['POST /v1/responses/{incident_id}:recordRansomPayment'],
  synopsis: '<incident-id> --paid-at TIME',
  summary: "record a ransom payment: for US entities it starts CIRCIA's 24-hour report clock",
  roles: ROLES.coordinators,
  options: { 'paid-at': { type: 'string' } },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const paidAt = parseTime('paid-at', required(context, 'paid-at'));
    return command(
      context,
      `${responsePath(incidentId)}:recordRansomPayment`,
      { paidAt },
      () => `ransom payment at ${paidAt} recorded on ${incidentId}`,
    );
  },
};

export const resolveCommand: Command = {
  name: 'responses resolve',
  routes: ['POST /v1/responses/{incident_id}:resolve'],
  synopsis: "<incident-id> --summary 'WHAT WAS DONE'",
  summary: 'resolve the incident; refused, with the reasons, while reports that must come first are unfiled',
  roles: ROLES.coordinators,
  details: `--summary goes into the final reports (1 to 5,000 characters). After resolving, the response
waits for the regimes' final reports (\`beacon responses file-report\`) before it closes.`,
  options: { summary: { type: 'string' } },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const summary = required(context, 'summary');
    return command(
      context,
      `${responsePath(incidentId)}:resolve`,
      { summary },
      () => `${incidentId} resolved`,
    );
  },
};
