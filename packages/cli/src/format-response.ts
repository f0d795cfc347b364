/**
 * How a response reads in a terminal: where it stands, who is engaged and at which contact,
 * which reports are due, and what happened. JSON types follow the proto3 JSON mapping.
 */
import { enumName } from './flags.js';
import { table, tableOf, tlpName, truncate } from './format.js';
import { fields } from './format-registry.js';

export interface EngagementJson {
  readonly agencyId: string;
  readonly state?: string;
  readonly reasons?: readonly string[];
  readonly contactRank?: number;
  readonly role?: string;
  readonly notifiedAgencyId?: string;
  readonly round?: number;
  readonly noticesSent?: number;
  readonly acknowledgedAt?: string;
  readonly timeToAcknowledgeSeconds?: number;
  readonly via?: string;
  readonly startedAt?: string;
}

export interface ObligationJson {
  readonly id: string;
  readonly regime?: string;
  readonly title?: string;
  readonly dueAt?: string;
  readonly state?: string;
  readonly filedAt?: string;
  readonly reference?: string;
  readonly mustFileBeforeResolving?: boolean;
  readonly escalationLevel?: number;
  readonly draftJson?: string;
}

export interface ResponseStatusJson {
  readonly incidentId?: string;
  readonly phase?: string;
  readonly title?: string;
  readonly tlp?: string;
  readonly ncissScore?: number;
  readonly ncissLevel?: number;
  readonly sectors?: readonly string[];
  readonly jurisdictions?: readonly string[];
  readonly awareAt?: string;
  readonly impact?: {
    readonly impactedAssets?: number;
    readonly populationAffected?: string | number;
    readonly sectorsReached?: readonly string[];
    readonly jurisdictionsReached?: readonly string[];
  };
  readonly engagements?: readonly EngagementJson[];
  readonly regimes?: readonly { readonly regime?: string; readonly reasons?: readonly string[] }[];
  readonly obligations?: readonly ObligationJson[];
  readonly resolveBlockers?: readonly string[];
  readonly victimCases?: readonly {
    readonly caseId?: string;
    readonly state?: string;
    readonly urgency?: string;
    readonly lastCheckInDay?: number;
  }[];
  readonly ransomPaidAt?: string;
  readonly resolvedAt?: string;
  readonly closedAt?: string;
  readonly resolutionSummary?: string;
  readonly runs?: number;
}

export interface TimelineEntryJson {
  readonly at?: string;
  readonly kind?: string;
  readonly detail?: string;
  readonly agencyId?: string;
  readonly obligation?: string;
  /** The entry's number on the incident's timeline. */
  readonly sequence?: number;
}

/** `RESPONSE_PHASE_ACTIVE` as `active`. */
export const phaseName = (phase: string | undefined) => enumName(phase, 'RESPONSE_PHASE_');
/** `ENGAGEMENT_STATE_NOTIFIED` as `notified`. */
export const engagementStateName = (state: string | undefined) => enumName(state, 'ENGAGEMENT_STATE_');
const obligationStateName = (state: string | undefined) => enumName(state, 'OBLIGATION_STATE_');

export function engagementTable(engagements: readonly EngagementJson[]): string {
  if (engagements.length === 0) return '  (no agencies engaged)\n';
  return indent(
    table(
      ['AGENCY', 'STATE', 'CONTACT', 'ROUND', 'NOTICES', 'ACKNOWLEDGED', 'VIA'],
      engagements.map((e) => [
        e.agencyId,
        engagementStateName(e.state),
        contactText(e),
        String(e.round ?? 0),
        String(e.noticesSent ?? 0),
        e.acknowledgedAt ? `${e.acknowledgedAt} (${Math.round(e.timeToAcknowledgeSeconds ?? 0)} s)` : '-',
        e.via || '-',
      ]),
    ),
  );
}

/** The contact last notified: its rank and role, and its agency when another's (a national SPOC). */
function contactText(e: EngagementJson): string {
  if (!e.role && !e.noticesSent) return '-';
  const other = e.notifiedAgencyId && e.notifiedAgencyId !== e.agencyId ? ` at ${e.notifiedAgencyId}` : '';
  return `${e.contactRank ?? 0} ${e.role ?? '?'}${other}`;
}

export function obligationTable(obligations: readonly ObligationJson[]): string {
  if (obligations.length === 0) return '  (no reports due)\n';
  return indent(
    table(
      ['OBLIGATION', 'DUE', 'STATE', 'FILED', 'REFERENCE', 'TITLE'],
      obligations.map((o) => [
        `${o.id}${o.mustFileBeforeResolving ? ' *' : ''}`,
        o.dueAt ?? '(not yet known)',
        `${obligationStateName(o.state)}${o.escalationLevel ? ` (escalated ${o.escalationLevel})` : ''}`,
        o.filedAt ?? '-',
        o.reference || '-',
        o.title ?? '',
      ]),
    ),
  );
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');

/** The whole response, without the report drafts (`--json` has them). */
export function responseDetails(s: ResponseStatusJson): string {
  const list = (items: readonly string[] | undefined) => (items?.length ? items.join(', ') : '(none)');
  const impact = s.impact;
  const rows: [string, string][] = [
    ['incident', `${s.incidentId ?? ''}  ${s.title ?? ''}`.trim()],
    ['phase', phaseName(s.phase)],
    ['tlp', tlpName(s.tlp)],
    ['nciss', `level ${s.ncissLevel ?? 0} (score ${s.ncissScore ?? 0})`],
    ['sectors', list(s.sectors)],
    ['jurisdictions', list(s.jurisdictions)],
    ['aware at', s.awareAt ?? ''],
  ];
  if (impact) {
    rows.push([
      'impact',
      `${impact.impactedAssets ?? 0} assets, ${impact.populationAffected ?? 0} people; reached ` +
        `${list(impact.sectorsReached)} in ${list(impact.jurisdictionsReached)}`,
    ]);
  }
  if (s.ransomPaidAt) rows.push(['ransom paid at', s.ransomPaidAt]);
  if (s.resolvedAt) rows.push(['resolved at', s.resolvedAt]);
  if (s.resolutionSummary) rows.push(['resolution', s.resolutionSummary]);
  if (s.closedAt) rows.push(['closed at', s.closedAt]);
  const lines = [...fields(rows), 'engagements:', engagementTable(s.engagements ?? []).trimEnd()];
  const regimes = s.regimes ?? [];
  lines.push(`regimes:${regimes.length === 0 ? ' (none)' : ''}`);
  for (const r of regimes) lines.push(`  ${(r.regime ?? '').padEnd(8)}${(r.reasons ?? []).join('; ')}`);
  const obligations = s.obligations ?? [];
  lines.push('reports (* must be filed before resolving):', obligationTable(obligations).trimEnd());
  const blockers = s.resolveBlockers ?? [];
  if (phaseName(s.phase) === 'triage' || phaseName(s.phase) === 'active') {
    lines.push(blockers.length === 0 ? 'may be resolved now' : 'may not be resolved yet:');
    for (const b of blockers) lines.push(`  ${b}`);
  }
  const cases = s.victimCases ?? [];
  if (cases.length > 0) {
    const urgent = cases.filter((c) => c.urgency === 'urgent').length;
    lines.push(`victim cases followed up: ${cases.length} (${urgent} urgent)`);
  }
  return `${lines.join('\n')}\n`;
}

export function timelineTable(entries: readonly TimelineEntryJson[]): string {
  return tableOf(entries, 'nothing on the timeline yet\n', [
    ['#', (e) => String(e.sequence ?? '')],
    ['AT', (e) => e.at ?? ''],
    ['KIND', (e) => e.kind ?? ''],
    ['AGENCY', (e) => e.agencyId || e.obligation || '-'],
    ['DETAIL', (e) => truncate(e.detail ?? '', 100)],
  ]);
}
