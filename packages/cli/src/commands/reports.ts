import { integerFlag, jsonText, type Command } from '../context.js';
import { formatProblem } from '../format.js';
import { ApiError, type GatewayClient, type Problem } from '../http.js';
import { UsageError } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { ROLES } from '../roles.js';
import { correlationGroups, idempotencyKey, parseReports, type ReportItem } from '../report-file.js';

/** What became of one report in the file. */
export interface SubmitOutcome {
  readonly where: string;
  readonly position: number;
  readonly idempotencyKey?: string;
  /** `opened`: it opened a new incident; `attached`: it joined an existing one. */
  readonly outcome: 'opened' | 'attached' | 'failed';
  readonly reportId?: string;
  readonly incidentId?: string;
  readonly problem?: Problem;
}

interface SubmitResponse {
  readonly report?: { readonly id?: string; readonly incidentId?: string };
  readonly incident?: { readonly id?: string };
  readonly attached?: boolean;
}

/**
 * Files every report, at most `concurrency` at a time, each under the Idempotency-Key its
 * content gives it. Reports sharing an observable go one after another in file order (see
 * `correlationGroups`). Never rejects for one report's failure: each outcome says what happened.
 */
export async function submitReports(
  client: GatewayClient,
  items: readonly ReportItem[],
  options: { readonly concurrency: number; readonly progress?: Progress },
): Promise<SubmitOutcome[]> {
  const groups = correlationGroups(items);
  const outcomes: SubmitOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      for (const index of groups[next++]!) {
        const outcome = await submitOne(client, items[index]!);
        outcomes[index] = outcome;
        options.progress?.tick(outcome.outcome === 'failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, groups.length) }, worker));
  return outcomes;
}

async function submitOne(client: GatewayClient, item: ReportItem): Promise<SubmitOutcome> {
  const base = { where: item.where, position: item.position };
  if (!item.body) {
    return { ...base, outcome: 'failed', problem: { title: 'Invalid Input', status: 0, detail: item.error } };
  }
  const key = idempotencyKey(item.body);
  try {
    const response = await client.call<SubmitResponse>('POST', '/v1/reports', {
      body: item.body,
      idempotencyKey: key,
    });
    const incidentId = response.report?.incidentId ?? response.incident?.id;
    return {
      ...base,
      idempotencyKey: key,
      outcome: response.attached === true ? 'attached' : 'opened',
      ...(response.report?.id ? { reportId: response.report.id } : {}),
      ...(incidentId ? { incidentId } : {}),
    };
  } catch (error) {
    // One report's trouble (even an unexpected one) must not lose the outcomes of the others.
    const problem: Problem =
      error instanceof ApiError ? error.problem : { title: 'Error', status: 0, detail: String(error) };
    return { ...base, idempotencyKey: key, outcome: 'failed', problem };
  }
}

/** Counts by outcome, and the human summary: one line, then each failure with its problem. */
export function summarise(outcomes: readonly SubmitOutcome[]): {
  opened: number;
  attached: number;
  failed: number;
  text: string;
} {
  const count = (o: SubmitOutcome['outcome']) => outcomes.filter((x) => x.outcome === o).length;
  const [opened, attached, failed] = [count('opened'), count('attached'), count('failed')];
  const noun = outcomes.length === 1 ? 'report' : 'reports';
  const lines = [
    `${outcomes.length} ${noun}: ${opened} opened an incident, ` +
      `${attached} attached to an existing incident, ${failed} failed`,
  ];
  const failures = outcomes.filter((o) => o.outcome === 'failed');
  if (failures.length > 0) lines.push('failed:');
  for (const failure of failures) {
    const [head, ...violations] = formatProblem(failure.problem ?? { title: 'Error', status: 0 });
    lines.push(`  ${failure.where}: ${head}`, ...violations.map((v) => `  ${v}`));
  }
  return { opened, attached, failed, text: lines.join('\n') + '\n' };
}

export const submitCommand: Command = {
  name: 'reports submit',
  routes: ['POST /v1/reports'],
  synopsis: '--file reports.json|reports.jsonl [--concurrency N]',
  summary: 'file reports from JSON or JSON Lines (idempotent: re-running files nothing twice)',
  roles: ROLES.reporters,
  details: `The file holds one report (a JSON object), a JSON array of them, or JSON Lines: one report
a line (chosen by a .jsonl or .ndjson name). A report is a SubmitReport request in the proto3
JSON mapping (GET /openapi.json has the schema), e.g. the line
  {"title": "Phishing wave against a bank", "tlp": "TLP_GREEN", "classification": {"rsitClass": "fraud", "rsitType": "phishing"}, "sectors": ["financial-services"], "jurisdictions": ["FR"], "observables": [{"type": "url", "value": "hxxps://bank-login[.]example/secure"}], "awareAt": "2026-01-31T08:00:00Z"}
A report may carry the reporter's NCISS judgement, "severityInputs", with the categories it
knows (e.g. {"functionalImpact": "denial-critical"}; \`beacon responses change-severity --help\`
lists them). Each report goes under an Idempotency-Key made from its content, so a re-run files
nothing twice; reports sharing an indicator go one after another, in file order.`,
  options: { file: { type: 'string' }, concurrency: { type: 'string' } },
  args: [],
  async run(context) {
    const file = context.string('file');
    if (!file) throw new UsageError('--file is required');
    const concurrency = integerFlag('concurrency', context.string('concurrency') ?? '4', 1, 64);
    const items = parseReports(await context.readText(file), file);
    const client = context.client();
    const { io } = context;
    const progress =
      items.length > 1
        ? createProgress({ total: items.length, out: io.stderr, tty: io.isTTY === true })
        : undefined;
    const outcomes = await submitReports(client, items, {
      concurrency,
      ...(progress ? { progress } : {}),
    });
    progress?.finish();
    const summary = summarise(outcomes);
    io.stdout.write(
      context.json
        ? jsonText({
            total: outcomes.length,
            opened: summary.opened,
            attached: summary.attached,
            failed: summary.failed,
            results: outcomes,
          })
        : summary.text,
    );
    return summary.failed > 0 ? 1 : 0;
  },
};
