import { createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { jsonText, type Command } from '../context.js';
import type { GatewayClient } from '../http.js';
import { UsageError } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { idempotencyKey } from '../report-file.js';
import { ROLES } from '../roles.js';

/** Rows per call: the service takes at most 1,000. */
export const VICTIMS_BATCH = 500;

interface ImportResponse {
  readonly cases?: readonly { row?: number; caseId?: string; reference?: string; replayed?: boolean }[];
  readonly errors?: readonly { row?: number; field?: string; description?: string }[];
}

export interface VictimImportOutcome {
  readonly lines: number;
  readonly opened: number;
  /** Lines whose case the same line opened before (the file was sent again). */
  readonly already: number;
  readonly cases: readonly { line: number; caseId: string; reference: string }[];
  readonly failures: readonly { line: number; field: string; description: string }[];
}

/**
 * Sends a file of new victim cases, one JSON object a line (a `NewCase` in the proto3 JSON
 * mapping, or `{"clientRef": …, "case": {…}}`), in batches. A line without a `clientRef` gets
 * one from its content, so sending the same file again opens nothing twice.
 */
export async function importVictims(
  client: GatewayClient,
  lines: AsyncIterable<string>,
  options: { readonly progress?: Progress; readonly batch?: number } = {},
): Promise<VictimImportOutcome> {
  const size = options.batch ?? VICTIMS_BATCH;
  const failures: { line: number; field: string; description: string }[] = [];
  const cases: { line: number; caseId: string; reference: string }[] = [];
  let count = 0;
  let already = 0;
  let batch: { line: number; row: { clientRef: string; case: unknown } }[] = [];
  const send = async () => {
    if (batch.length === 0) return;
    const sent = batch;
    batch = [];
    const response = await client.call<ImportResponse>('POST', '/v1/victim-cases:import', {
      body: { rows: sent.map((b) => b.row), firstRow: 1 },
    });
    const refused = new Set<number>();
    for (const e of response.errors ?? []) {
      const line = sent[(e.row ?? 1) - 1]?.line ?? 0;
      refused.add(line);
      failures.push({ line, field: e.field ?? '', description: e.description ?? '' });
    }
    for (const c of response.cases ?? []) {
      const line = sent[(c.row ?? 1) - 1]?.line ?? 0;
      cases.push({ line, caseId: c.caseId ?? '', reference: c.reference ?? '' });
      if (c.replayed) already += 1;
    }
    for (const { line } of sent) options.progress?.tick(refused.has(line));
  };
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    count += 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      failures.push({ line, field: '(line)', description: `is not JSON: ${(error as Error).message}` });
      options.progress?.tick(true);
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      failures.push({ line, field: '(line)', description: 'must be one JSON object' });
      options.progress?.tick(true);
      continue;
    }
    const record = parsed as Record<string, unknown>;
    const newCase = 'case' in record ? record['case'] : record;
    const clientRef = typeof record['clientRef'] === 'string' ? record['clientRef'] : idempotencyKey(newCase);
    batch.push({ line, row: { clientRef, case: newCase } });
    if (batch.length >= size) await send();
  }
  await send();
  failures.sort((a, b) => a.line - b.line);
  cases.sort((a, b) => a.line - b.line);
  return { lines: count, opened: cases.length - already, already, cases, failures };
}

function fileLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}

export const victimsImportCommand: Command = {
  name: 'victims import',
  routes: ['POST /v1/victim-cases:import'],
  synopsis: '--file cases.jsonl [--references out.csv]',
  summary: 'open victim cases from JSON Lines in batches (idempotent); --references saves each reference',
  roles: ROLES.victimOfficers,
  details: `The file is JSON Lines: one new case a line, a NewCase in the proto3 JSON mapping (GET
/openapi.json has the schema), or {"clientRef": "…", "case": {…}} to name the row yourself, e.g.
  {"incidentIds": ["inc_…"], "jurisdiction": "DE-BY", "language": "de", "victim": {"kind": "VICTIM_KIND_PERSON", "displayName": "Jana Nováková", "email": "jana@example.org", "preferredChannel": "CONTACT_CHANNEL_EMAIL"}, "needs": [{"financialLoss": {"amountMinor": "185000", "currency": "EUR", "paymentMethod": "PAYMENT_METHOD_CARD", "paidAt": "2026-03-01T10:00:00Z"}}], "consents": [{"purpose": "CONSENT_PURPOSE_CONTACT", "granted": true, "wordingVersion": "v2026-01"}]}
Blank lines are skipped. A line without a clientRef gets one from its content, so sending the
same file again opens nothing twice. --references writes line,case_id,reference as CSV,
readable by you only (mode 0600): each reference is what its victim looks a case up with.`,
  options: { file: { type: 'string' }, references: { type: 'string' } },
  args: [],
  async run(context) {
    const file = context.string('file');
    if (!file) throw new UsageError('--file is required');
    const path = context.path(file);
    await access(path).catch((error: unknown) => {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    });
    const client = context.client();
    const { io } = context;
    let total = 0;
    for await (const text of fileLines(path)) if (text.trim() !== '') total++;
    const progress =
      total > 1
        ? createProgress({ total, out: io.stderr, tty: io.isTTY === true, label: 'cases' })
        : undefined;
    let outcome: VictimImportOutcome;
    try {
      outcome = await importVictims(client, fileLines(path), progress ? { progress } : {});
    } finally {
      progress?.finish();
    }
    const out = context.string('references');
    if (out) {
      // References let a victim look up their case: readable by the officer's account only.
      const handle = await open(context.path(out), 'w', 0o600);
      await handle.write(
        ['line,case_id,reference', ...outcome.cases.map((c) => `${c.line},${c.caseId},${c.reference}`)].join(
          '\n',
        ) + '\n',
      );
      await handle.close();
    }
    if (context.json) io.stdout.write(jsonText(outcome));
    else {
      io.stdout.write(
        `${outcome.lines} lines: ${outcome.opened} cases opened, ${outcome.already} opened before, ` +
          `${new Set(outcome.failures.map((f) => f.line)).size} refused\n`,
      );
      for (const f of outcome.failures)
        io.stdout.write(`  ${file}:${f.line}: ${f.field}: ${f.description}\n`);
    }
    return outcome.failures.length > 0 ? 1 : 0;
  },
};

interface Count {
  readonly key?: string;
  readonly cases?: number;
  /** Too small to show without singling people out. */
  readonly suppressed?: boolean;
}

interface StatsResponse {
  readonly cases?: number;
  readonly casesSuppressed?: boolean;
  readonly urgent?: number;
  readonly urgentSuppressed?: boolean;
  readonly erased?: number;
  readonly erasedSuppressed?: boolean;
  readonly suppressionThreshold?: number;
  readonly byStatus?: readonly Count[];
  readonly byNeed?: readonly Count[];
  readonly byJurisdiction?: readonly Count[];
  readonly byLanguage?: readonly Count[];
  readonly referrals?: readonly Count[];
  readonly losses?: readonly { currency?: string; band?: string; cases?: number; suppressed?: boolean }[];
}

export const victimsStatsCommand: Command = {
  name: 'victims stats',
  routes: ['GET /v1/victim-stats'],
  synopsis: '[--incident ID] [--jurisdiction CODE]',
  summary: 'counts and needs of victim cases (never identities)',
  roles: "coordinator, auditor (every case); victim_officer (their organisation's)",
  options: { incident: { type: 'string' }, jurisdiction: { type: 'string' } },
  args: [],
  async run(context) {
    const stats = await context.client().call<StatsResponse>('GET', '/v1/victim-stats', {
      query: { incidentId: context.string('incident'), jurisdiction: context.string('jurisdiction') },
    });
    if (context.json) {
      context.io.stdout.write(jsonText(stats));
      return 0;
    }
    // A suppressed count is shown as under the threshold it was suppressed under, never as 0.
    const below = `<${stats.suppressionThreshold || 5}`;
    const n = (cases: number | undefined, suppressed: boolean | undefined) =>
      suppressed ? below : String(cases ?? 0);
    const list = (title: string, counts: readonly Count[] | undefined) =>
      counts && counts.length > 0
        ? `  ${title}: ${counts.map((c) => `${c.key} ${n(c.cases, c.suppressed)}`).join(', ')}\n`
        : '';
    context.io.stdout.write(
      `${n(stats.cases, stats.casesSuppressed)} cases, ${n(stats.urgent, stats.urgentSuppressed)} urgent, ` +
        `${n(stats.erased, stats.erasedSuppressed)} erased\n` +
        list('status', stats.byStatus) +
        list('needs', stats.byNeed) +
        list('jurisdictions', stats.byJurisdiction) +
        list('languages', stats.byLanguage) +
        list('referrals', stats.referrals) +
        list(
          'losses',
          stats.losses?.map((l) => ({
            key: `${l.currency} ${(l.band ?? '').replace(/^LOSS_BAND_/, '').toLowerCase()}`,
            cases: l.cases ?? 0,
            ...(l.suppressed ? { suppressed: true } : {}),
          })),
        ) +
        (stats.suppressionThreshold
          ? `  (counts under ${stats.suppressionThreshold} are suppressed: ${below})\n`
          : ''),
    );
    return 0;
  },
};

export const victimsStatusCommand: Command = {
  name: 'victims status',
  routes: ['POST /v1/victim-cases:lookupStatus'],
  synopsis: '<reference>',
  summary: 'the status of a case by the victim’s reference, and nothing else',
  roles: ROLES.anyone,
  options: {},
  args: ['reference'],
  async run(context) {
    const response = await context
      .client()
      .call<{ status?: string }>('POST', '/v1/victim-cases:lookupStatus', {
        body: { reference: context.args[0] },
      });
    const status = (response.status ?? 'CASE_STATUS_UNSPECIFIED').replace(/^CASE_STATUS_/, '').toLowerCase();
    context.io.stdout.write(context.json ? jsonText(response) : `${status}\n`);
    return 0;
  },
};
