import type { Problem } from './http.js';

/** An incident in the proto3 JSON mapping; proto3 leaves out fields at their default value. */
export interface IncidentJson {
  readonly id: string;
  readonly title?: string;
  readonly status?: string;
  readonly tlp?: string;
  readonly classification?: { readonly rsitClass?: string; readonly rsitType?: string };
  readonly sectors?: readonly string[];
  readonly jurisdictions?: readonly string[];
  readonly severityInputs?: Readonly<Record<string, string>>;
  readonly severity?: {
    readonly score?: number | string;
    readonly level?: number | string;
    readonly levelName?: string;
  };
  readonly reportIds?: readonly string[];
  readonly engagedAgencyIds?: readonly string[];
  /** `reported`: the text as the reporter wrote it, when it was not canonical (e.g. defanged). */
  readonly observables?: readonly {
    readonly type: string;
    readonly value: string;
    readonly reported?: string;
  }[];
  readonly awareAt?: string;
  readonly openedAt?: string;
  readonly updatedAt?: string;
  readonly version?: number | string;
  /** Set (non-empty) when the incident was merged into another: the survivor's id. */
  readonly mergedInto?: string;
  /** Who set each severity input; absent for an input still at the baseline. */
  readonly severityOrigins?: Readonly<Record<string, SeverityOriginJson>>;
  /** Inputs other agencies' joining reports gave, kept without being applied. */
  readonly severityProposals?: readonly {
    readonly reportId?: string;
    readonly reporterAgencyId?: string;
    readonly severityInputs?: Readonly<Record<string, string>>;
  }[];
}

export interface SeverityOriginJson {
  /** `SEVERITY_INPUT_SOURCE_REPORTER`, `…_COORDINATOR` or `…_IMPACT`. */
  readonly source?: string;
  readonly agencyId?: string;
  readonly reportId?: string;
}

/** Who set an input, in words: `reporter cert-a (report rep_1)`, `coordinator`, `impact's cascade`. */
export function originText(origin: SeverityOriginJson | undefined): string {
  if (origin?.source === 'SEVERITY_INPUT_SOURCE_REPORTER') {
    return (
      `reporter ${origin.agencyId || 'coordination centre'}` +
      (origin.reportId ? ` (report ${origin.reportId})` : '')
    );
  }
  if (origin?.source === 'SEVERITY_INPUT_SOURCE_COORDINATOR') return 'coordinator';
  if (origin?.source === 'SEVERITY_INPUT_SOURCE_IMPACT') return "impact's cascade";
  return 'baseline';
}

/** `INCIDENT_STATUS_ACTIVE` as `ACTIVE`. */
export function statusName(status: string | undefined): string {
  return (status ?? 'INCIDENT_STATUS_UNSPECIFIED').replace(/^INCIDENT_STATUS_/, '');
}

/** `TLP_AMBER_STRICT` as TLP 2.0 writes it, `AMBER+STRICT`. */
export function tlpName(tlp: string | undefined): string {
  return (tlp ?? 'TLP_UNSPECIFIED').replace(/^TLP_/, '').replace('_', '+');
}

function severityText(incident: IncidentJson, withScore: boolean): string {
  const severity = incident.severity ?? {};
  const level = `${Number(severity.level ?? 0)} ${severity.levelName ?? ''}`.trim();
  return withScore ? `${level} (score ${Number(severity.score ?? 0)})` : level;
}

/** Cuts text to `width` characters, marking the cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** One column of a table: its header, and its cell for an item. */
export type Column<T> = readonly [header: string, cell: (item: T) => string];

/** `items` as a table, a column per `columns` entry; `empty` when there are none. */
export function tableOf<T>(items: readonly T[], empty: string, columns: readonly Column<T>[]): string {
  if (items.length === 0) return empty;
  return table(
    columns.map(([header]) => header),
    items.map((item) => columns.map(([, cell]) => cell(item))),
  );
}

const TITLE_WIDTH = 50;
const LIST_WIDTH = 32;

/** A list as one cell: comma-separated, cut to `width`; `-` when empty. */
const listCell = (items: readonly string[] | undefined, width = LIST_WIDTH) =>
  items && items.length > 0 ? truncate(items.join(','), width) : '-';

/** The compact list view: one incident a line. */
export function incidentTable(incidents: readonly IncidentJson[]): string {
  return tableOf(incidents, 'no incidents\n', [
    ['ID', (i) => i.id],
    ['STATUS', (i) => statusName(i.status)],
    ['TLP', (i) => tlpName(i.tlp)],
    ['NCISS', (i) => severityText(i, false)],
    ['SECTORS', (i) => listCell(i.sectors)],
    ['JURISDICTIONS', (i) => listCell(i.jurisdictions, 24)],
    ['VERSION', (i) => String(Number(i.version ?? 0))],
    ['TITLE', (i) => truncate(i.title ?? '', TITLE_WIDTH)],
  ]);
}

/** The detail view: `key: value` lines, lists one item a line under their key. */
export function incidentDetails(incident: IncidentJson): string {
  const list = (items: readonly string[] | undefined) =>
    items && items.length > 0 ? items.join(', ') : '(none)';
  const classification = incident.classification ?? {};
  const fields: [string, string][] = [
    ['id', incident.id],
    ['title', incident.title ?? ''],
    ['status', statusName(incident.status)],
    ['tlp', tlpName(incident.tlp)],
    ['severity', severityText(incident, true)],
    ['classification', `${classification.rsitClass ?? '?'} / ${classification.rsitType ?? '?'}`],
    ['sectors', list(incident.sectors)],
    ['jurisdictions', list(incident.jurisdictions)],
    ['reports', list(incident.reportIds)],
    ['engaged agencies', list(incident.engagedAgencyIds)],
    ['aware at', incident.awareAt ?? ''],
    ['opened at', incident.openedAt ?? ''],
    ['updated at', incident.updatedAt ?? ''],
    ['version', String(Number(incident.version ?? 0))],
    ...(incident.mergedInto ? [['merged into', incident.mergedInto] as [string, string]] : []),
  ];
  const width = Math.max(...fields.map(([key]) => key.length)) + 2;
  const lines = fields.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}`);
  const observables = incident.observables ?? [];
  lines.push(`${'observables:'.padEnd(width)}${observables.length === 0 ? '(none)' : ''}`.trimEnd());
  for (const o of observables) {
    lines.push(`  ${o.type.padEnd(14)}${o.value}${o.reported ? `  (reported as ${o.reported})` : ''}`);
  }
  const inputs = Object.entries(incident.severityInputs ?? {});
  if (inputs.length > 0) {
    lines.push('severity inputs:');
    const valueWidth = Math.max(...inputs.map(([, value]) => value.length)) + 2;
    for (const [name, value] of inputs) {
      const from = originText(incident.severityOrigins?.[name]);
      lines.push(`  ${name.padEnd(22)}${value.padEnd(valueWidth)}${from}`);
    }
  }
  const proposals = incident.severityProposals ?? [];
  if (proposals.length > 0) lines.push('severity proposals (not applied):');
  for (const p of proposals) {
    const given = Object.entries(p.severityInputs ?? {})
      .filter(([, value]) => value !== '')
      .map(([name, value]) => `${name} ${value}`);
    lines.push(
      `  ${p.reporterAgencyId || 'coordination centre'} (report ${p.reportId ?? '?'}): ${given.join(', ')}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * A problem as lines a person reads: `error 400 Invalid Argument: detail`, then one indented
 * line per field violation. The gateway and intake end their detail with every violation
 * again (`invalid request: a: …; b: …`); that repetition is cut, as each has its own line.
 */
export function formatProblem(problem: Problem): string[] {
  const violations = problem.violations ?? [];
  const repeated = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  let detail = problem.detail;
  if (violations.length > 0 && detail?.endsWith(repeated)) {
    detail =
      detail.slice(0, -repeated.length).replace(/[\s:;,-]+$/, '') || `${violations.length} invalid field(s)`;
  }
  const head = problem.status > 0 ? `error ${problem.status} ${problem.title}` : 'error';
  return [
    detail ? `${head}: ${detail}` : head,
    ...violations.map((v) => `  ${v.field}: ${v.description}${v.reason ? ` [${v.reason}]` : ''}`),
  ];
}
