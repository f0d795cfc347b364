import { setTimeout as delay } from 'node:timers/promises';
import { getCommand, listOptions, pagedListCommand, valueOptions } from '../command-kinds.js';
import { integerFlag, jsonText, type Command } from '../context.js';
import { enumFlag, listFlag, optional, parseTime } from '../flags.js';
import {
  engagementStateName,
  phaseName,
  responseDetails,
  timelineTable,
  type ResponseStatusJson,
  type TimelineEntryJson,
} from '../format-response.js';
import { ApiError, type GatewayClient } from '../http.js';
import { CliError } from '../io.js';

export const responsePath = (incidentId: string) => `/v1/responses/${encodeURIComponent(incidentId)}`;

/** Reading a response: the coordination centre, and agencies engaged on the incident now. */
export const RESPONSE_READERS =
  'coordinator, auditor; agency_analyst, agency_admin (while their agency is engaged on the incident)';

export async function getResponse(client: GatewayClient, incidentId: string): Promise<ResponseStatusJson> {
  const response = await client.call<{ status?: ResponseStatusJson }>('GET', responsePath(incidentId));
  return response.status ?? {};
}

export const responsesGetCommand = getCommand({
  name: 'responses get',
  routes: ['GET /v1/responses/{incident_id}'],
  synopsis: '<incident-id>',
  summary: 'the response to an incident: engagements, regimes and reports due, what blocks resolving',
  roles: RESPONSE_READERS,
  details: `--json adds each report's draft (draftJson: what Beacon already knows, for the authority's form)
and, once resolved, Beacon's closing report.`,
  args: ['incident-id'],
  request: (context) => ({ path: responsePath(context.args[0]!) }),
  json: (response: { status?: ResponseStatusJson }) => ({ status: response.status ?? {} }),
  text: (response) => responseDetails(response.status ?? {}),
});

interface TimelinePageJson {
  readonly entries?: TimelineEntryJson[];
  readonly nextPageToken?: string;
  readonly victimSummary?: readonly { readonly kind?: string; readonly count?: number }[];
}

export const responsesTimelineCommand = pagedListCommand({
  name: 'responses timeline',
  routes: ['GET /v1/responses/{incident_id}/timeline'],
  synopsis:
    '<incident-id> [--kind KIND]… [--since TIME] [--until TIME] [--page-size N] [--page-token TOKEN] [--all]',
  summary: 'what happened in the response, oldest first: triage, notices, escalations, reports, resolution',
  roles: RESPONSE_READERS,
  details: `Every entry the response recorded, a page at a time (100 unless --page-size, at most 1000).
--kind KIND        only entries of these kinds (repeat, or separate with commas), e.g. engagement,
                   regime, notified, escalated, acknowledged, report-filed, severity, impact
--since, --until   only entries at or after / before these times (RFC 3339)
--page-token       the next page (printed after a page that has more); --all reads every page
Victim follow-up (kinds victim, victim-started, victim-check-in, victim-escalated,
victim-completed, victim-unavailable) is counted below the table and listed only when named
with --kind. --json prints the gateway's page (with nextPageToken and victimSummary).`,
  options: {
    kind: { type: 'string', multiple: true },
    since: { type: 'string' },
    until: { type: 'string' },
  },
  args: ['incident-id'],
  key: 'entries',
  maxPageSize: 1000,
  request: (context) => ({
    path: `${responsePath(context.args[0]!)}/timeline`,
    query: {
      kinds: listFlag(context, 'kind'),
      since: optional(context, 'since', (text) => parseTime('since', text)),
      until: optional(context, 'until', (text) => parseTime('until', text)),
    },
  }),
  text(entries: readonly TimelineEntryJson[], _request, last: TimelinePageJson) {
    const victims = (last.victimSummary ?? []).map((v) => `${v.kind} ${v.count ?? 0}`);
    return (
      timelineTable(entries) +
      (victims.length > 0 ? `victim follow-up (list with --kind): ${victims.join(', ')}\n` : '')
    );
  },
  allJson: (last) => ({ victimSummary: last.victimSummary ?? [] }),
});

const PHASES = ['triage', 'active', 'resolved', 'closed'] as const;
/** An agency has been asked (a notice went out), whatever it answered since. */
const ASKED = new Set(['notified', 'acknowledged', 'unacknowledged']);

/** What `responses wait` waits for, and whether a status has it yet. */
interface Goal {
  readonly text: string;
  met(status: ResponseStatusJson): boolean;
}

export const responsesWaitCommand: Command = {
  name: 'responses wait',
  routes: ['GET /v1/responses/{incident_id}'],
  synopsis: '<incident-id> [--notified AGENCY]… [--acknowledged AGENCY]… [--phase PHASE] [--timeout SECONDS]',
  summary:
    'wait until the response exists and has what you name, then show it (for scripts and walkthroughs)',
  roles: RESPONSE_READERS,
  details: `--notified AGENCY      the agency has been sent a notice (it may acknowledge now)
--acknowledged AGENCY  the agency has acknowledged
--phase PHASE          the response reached triage, active, resolved or closed
Without any, it waits for the response to start (its incident was just opened). Exit code 1
when --timeout (60 s by default) passes first, saying where the response stood.`,
  options: {
    ...valueOptions('phase', 'timeout'),
    ...listOptions('notified', 'acknowledged'),
  },
  args: ['incident-id'],
  async run(context) {
    const incidentId = context.args[0]!;
    const timeoutMs = integerFlag('timeout', context.string('timeout') ?? '60', 1, 86_400) * 1000;
    const stateOf = (s: ResponseStatusJson, agencyId: string) =>
      engagementStateName(s.engagements?.find((e) => e.agencyId === agencyId)?.state);
    const goals: Goal[] = [
      ...context.strings('notified').map((agencyId) => ({
        text: `${agencyId} notified`,
        met: (s: ResponseStatusJson) => ASKED.has(stateOf(s, agencyId)),
      })),
      ...context.strings('acknowledged').map((agencyId) => ({
        text: `${agencyId} acknowledged`,
        met: (s: ResponseStatusJson) => stateOf(s, agencyId) === 'acknowledged',
      })),
    ];
    const phase = optional(context, 'phase', (text) =>
      enumFlag('phase', text, 'RESPONSE_PHASE_', PHASES).replace('RESPONSE_PHASE_', '').toLowerCase(),
    );
    if (phase) {
      const target = PHASES.indexOf(phase as (typeof PHASES)[number]);
      goals.push({
        text: `phase ${phase}`,
        met: (s) => PHASES.indexOf(phaseName(s.phase) as (typeof PHASES)[number]) >= target,
      });
    }
    const client = context.client();
    const deadline = Date.now() + timeoutMs;
    let last: ResponseStatusJson | undefined;
    for (;;) {
      try {
        last = await getResponse(client, incidentId);
      } catch (error) {
        // Not there yet: the response starts once intake has announced the incident.
        if (!(error instanceof ApiError && error.problem.status === 404)) throw error;
      }
      const status = last;
      if (status && goals.every((g) => g.met(status))) {
        context.io.stdout.write(context.json ? jsonText({ status }) : responseDetails(status));
        return 0;
      }
      if (Date.now() >= deadline) break;
      await delay(Math.min(500, Math.max(0, deadline - Date.now())));
    }
    const missing = last ? goals.filter((g) => !g.met(last)).map((g) => g.text) : ['the response to start'];
    const where = last
      ? `; it is ${phaseName(last.phase)}, engagements: ${
          (last.engagements ?? []).map((e) => `${e.agencyId} ${engagementStateName(e.state)}`).join(', ') ||
          'none'
        }`
      : '';
    throw new CliError(
      `gave up after ${timeoutMs / 1000} s waiting for ${missing.join(', ')} on ${incidentId}${where}`,
    );
  },
};
