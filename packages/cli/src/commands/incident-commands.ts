/**
 * A coordinator's changes to an incident record itself: which agencies it engages and its
 * severity inputs. The incident's response hears of each and follows (its own commands,
 * `responses add-agency` and `responses change-severity`, also keep the engagement's contacts).
 */
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import { optional } from '../flags.js';
import { tlpName, type IncidentJson } from '../format.js';
import { ROLES } from '../roles.js';
import { incidentPath } from './incidents.js';
import { SEVERITY_INPUTS_HELP, severityInputsCommand } from './response-commands.js';

/** Sends one change at the version the caller saw and prints `headline`, or the JSON. */
async function change(
  context: Context,
  path: string,
  body: Record<string, unknown>,
  headline: (incident: IncidentJson) => string,
): Promise<number> {
  const expectedVersion = optional(context, 'version', (text) => integerFlag('version', text, 0)) ?? 0;
  const response = await context
    .client()
    .call<{ incident: IncidentJson }>('POST', path, { body: { ...body, expectedVersion } });
  const { incident } = response;
  context.io.stdout.write(
    context.json
      ? jsonText(response)
      : `${headline(incident)} (version ${Number(incident.version ?? 0)})\n` +
          `engaged: ${(incident.engagedAgencyIds ?? []).join(', ') || '(none)'}\n`,
  );
  return 0;
}

const VERSION_HELP =
  '--version N applies the change only to version N of the incident (0 or absent: to the latest).';

/**
 * `incidents assign` and `unassign`: one agency's engagement on the incident record, changed by
 * the route ending in `action`; `headline` says what became of the agency.
 */
function engagementCommand(
  face: Pick<Command, 'name' | 'routes' | 'summary' | 'details'>,
  action: ':assignAgency' | ':unassignAgency',
  headline: (agencyId: string, incident: IncidentJson) => string,
): Command {
  return {
    ...face,
    synopsis: '<incident-id> <agency-id> [--version N]',
    roles: ROLES.coordinators,
    options: { version: { type: 'string' } },
    args: ['incident-id', 'agency-id'],
    async run(context) {
      const [incidentId, agencyId] = context.args as [string, string];
      return change(context, `${incidentPath(incidentId)}${action}`, { agencyId }, (i) =>
        headline(agencyId, i),
      );
    },
  };
}

export const assignCommand = engagementCommand(
  {
    name: 'incidents assign',
    routes: ['POST /v1/incidents/{incident_id}:assignAgency'],
    summary: 'engage an agency on an incident: it may read it from now on, and its response engages it',
    details: `${VERSION_HELP}
An agency whose clearance is below the incident's label is engaged but reads nothing above it.`,
  },
  ':assignAgency',
  (agencyId, i) => `${agencyId} engaged on ${i.id}`,
);

export const unassignCommand = engagementCommand(
  {
    name: 'incidents unassign',
    routes: ['POST /v1/incidents/{incident_id}:unassignAgency'],
    summary: "end an agency's engagement: it no longer reads the incident above GREEN, unless it reported it",
    details: `${VERSION_HELP}
Allowed in any status, a closed incident included.`,
  },
  ':unassignAgency',
  (agencyId, i) => `${agencyId} no longer engaged on ${i.id}`,
);

export const severityCommand = severityInputsCommand(
  {
    name: 'incidents severity',
    routes: ['POST /v1/incidents/{incident_id}:updateSeverity', 'GET /v1/incidents/{incident_id}'],
    synopsis: '<incident-id> [--file inputs.json] [--set NAME=VALUE]… [--version N]',
    summary: "replace an incident's NCISS inputs as a coordinator's judgement, and recompute its score",
    details: `${SEVERITY_INPUTS_HELP}
${VERSION_HELP}
Every input that changes is recorded as the coordinator's (see \`incidents show\`).`,
    options: { version: { type: 'string' } },
  },
  (context, incidentId, severityInputs) =>
    change(
      context,
      `${incidentPath(incidentId)}:updateSeverity`,
      { severityInputs },
      (i) =>
        `${i.id} is at NCISS level ${i.severity?.level ?? 0} ${i.severity?.levelName ?? ''} (score ${i.severity?.score ?? 0}), TLP ${tlpName(i.tlp)}`,
    ),
);
