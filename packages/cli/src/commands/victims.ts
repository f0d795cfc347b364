import { open } from 'node:fs/promises';
import { jsonText, type Command } from '../context.js';
import type { GatewayClient } from '../http.js';
import {
  countLines,
  fileLines,
  importFile,
  lineOf,
  RowBatches,
  writeImportOutcome,
  type ImportFailure,
  type RowErrors,
} from '../file-import.js';
import type { Progress } from '../progress.js';
import { idempotencyKey } from '../report-file.js';
import { ROLES } from '../roles.js';

/** Rows per call: the service takes at most 1,000. */
export const VICTIMS_BATCH = 500;

interface ImportResponse extends RowErrors {
  readonly cases?: readonly { row?: number; caseId?: string; reference?: string; replayed?: boolean }[];
}

export interface VictimImportOutcome {
  readonly lines: number;
  readonly opened: number;
  /** Lines whose case the same line opened before (the file was sent again). */
  readonly already: number;
  readonly cases: readonly { line: number; caseId: string; reference: string }[];
  readonly failures: readonly ImportFailure[];
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
  const cases: { line: number; caseId: string; reference: string }[] = [];
  let count = 0;
  let already = 0;
  const batches = new RowBatches<{ clientRef: string; case: unknown }, ImportResponse>(
    options.batch ?? VICTIMS_BATCH,
    (sent) => client.call('POST', '/v1/victim-cases:import', { body: { rows: sent, firstRow: 1 } }),
    (response, sent) => {
      for (const c of response.cases ?? []) {
        cases.push({ line: lineOf(sent, c.row), caseId: c.caseId ?? '', reference: c.reference ?? '' });
        if (c.replayed) already += 1;
      }
    },
    options.progress,
  );
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    count += 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      batches.refuse({ line, field: '(line)', description: `is not JSON: ${(error as Error).message}` });
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      batches.refuse({ line, field: '(line)', description: 'must be one JSON object' });
      continue;
    }
    const record = parsed as Record<string, unknown>;
    const newCase = 'case' in record ? record['case'] : record;
    const clientRef = typeof record['clientRef'] === 'string' ? record['clientRef'] : idempotencyKey(newCase);
    await batches.add(line, { clientRef, case: newCase });
  }
  await batches.flush();
  const failures = batches.sortedFailures();
  cases.sort((a, b) => a.line - b.line);
  return { lines: count, opened: cases.length - already, already, cases, failures };
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
    const { file, outcome } = await importFile(context, 'cases', countLines, (client, path, progress) =>
      importVictims(client, fileLines(path), progress ? { progress } : {}),
    );
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
    return writeImportOutcome(
      context,
      file,
      outcome,
      (refused) =>
        `${outcome.lines} lines: ${outcome.opened} cases opened, ${outcome.already} opened before, ` +
        `${refused} refused`,
    );
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
