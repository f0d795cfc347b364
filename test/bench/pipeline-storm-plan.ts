/**
 * The storm's plan (issue 22), pure: how many incidents, reports, agencies and victim reports
 * a scale makes, which agencies there are and where, the order of the burst's reports, which
 * agencies each incident should engage, and when each incident was done with them.
 */
import { EU_MEMBER_STATES } from '@beacon/domain';

/** The storm at full size: issue 22's burst. */
export const FULL_STORM = { incidents: 1_000, reports: 10_000, agencies: 200, victims: 50_000 } as const;

export type StormCounts = { readonly [K in keyof typeof FULL_STORM]: number };

/**
 * The agencies of one jurisdiction, in order. A TLP:GREEN phishing report engages the first
 * three (the CSIRT, the police and victim support of the jurisdiction it names: criminal, and
 * harming the public); the regulator only from NCISS level 2 on.
 */
export const GROUP_KINDS = [
  'AGENCY_KIND_CSIRT',
  'AGENCY_KIND_LAW_ENFORCEMENT',
  'AGENCY_KIND_VICTIM_SUPPORT',
  'AGENCY_KIND_REGULATOR',
] as const;
const ENGAGING_KINDS = 3;
const SHORT: Record<(typeof GROUP_KINDS)[number], string> = {
  AGENCY_KIND_CSIRT: 'csirt',
  AGENCY_KIND_LAW_ENFORCEMENT: 'police',
  AGENCY_KIND_VICTIM_SUPPORT: 'support',
  AGENCY_KIND_REGULATOR: 'regulator',
};

/**
 * Every count of the full storm times `scale`, rounded, with the least that keeps the storm
 * whole: one incident, a report per incident, the three agencies a phishing incident engages
 * (see {@link GROUP_KINDS}) and one victim.
 */
export function stormCounts(scale: number): StormCounts {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`storm scale must be > 0, not ${scale}`);
  const of = (n: number, least: number) => Math.max(least, Math.round(n * scale));
  const incidents = of(FULL_STORM.incidents, 1);
  return {
    incidents,
    reports: of(FULL_STORM.reports, incidents),
    agencies: of(FULL_STORM.agencies, ENGAGING_KINDS),
    victims: of(FULL_STORM.victims, 1),
  };
}

export interface StormAgency {
  readonly id: string;
  readonly kind: (typeof GROUP_KINDS)[number];
  readonly jurisdiction: string;
  readonly group: number;
}

const COUNTRIES = [...EU_MEMBER_STATES].sort();

/** The jurisdiction of a group: a region of an EU member state (`AT-1`, `BE-1`, …, `AT-2`). */
export function jurisdictionOf(group: number): string {
  return `${COUNTRIES[group % COUNTRIES.length]}-${1 + Math.floor(group / COUNTRIES.length)}`;
}

/** `count` agencies in groups of {@link GROUP_KINDS}, one jurisdiction per group. */
export function stormAgencies(count: number): StormAgency[] {
  return Array.from({ length: count }, (_, i) => {
    const group = Math.floor(i / GROUP_KINDS.length);
    const kind = GROUP_KINDS[i % GROUP_KINDS.length]!;
    const jurisdiction = jurisdictionOf(group);
    return { id: `storm-${SHORT[kind]}-${jurisdiction.toLowerCase()}`, kind, jurisdiction, group };
  });
}

/** How many groups `count` agencies make (the last one may be partial). */
export function groupCount(agencies: number): number {
  return Math.ceil(agencies / GROUP_KINDS.length);
}

/** The group (hence jurisdiction) whose agencies incident `incident` concerns. */
export function groupOf(incident: number, agencies: number): number {
  return incident % groupCount(agencies);
}

/** The agencies the engagement rules must engage for incident `incident`: its group's first three. */
export function expectedEngagements(incident: number, agencies: readonly StormAgency[]): string[] {
  const group = groupOf(incident, agencies.length);
  return agencies
    .filter((a) => a.group === group && GROUP_KINDS.indexOf(a.kind) < ENGAGING_KINDS)
    .map((a) => a.id);
}

/** One report of the burst: it opens `incident` or joins it, sent by an analyst of `reporter`. */
export interface StormReport {
  readonly kind: 'open' | 'join';
  readonly incident: number;
  /** Index of the reporting agency (in {@link stormAgencies}), of the incident's group. */
  readonly reporter: number;
}

/**
 * The burst's reports in the order they are sent: the opening reports evenly spread, each
 * incident's joins (`reports - incidents` in all, shared round-robin) after the opening
 * reports of the next `lag` incidents, so `lag` × (reports ÷ incidents) calls lie between an
 * incident's opening report and its first join. Reporters take turns within the group.
 */
export function stormReports(counts: StormCounts, lag: number): StormReport[] {
  const { incidents, reports, agencies } = counts;
  const joins = reports - incidents;
  const groupSize = (group: number) => Math.min(GROUP_KINDS.length, agencies - group * GROUP_KINDS.length);
  const reporter = (incident: number, turn: number) => {
    const group = groupOf(incident, agencies);
    return group * GROUP_KINDS.length + (turn % groupSize(group));
  };
  const keyed: { key: number; report: StormReport }[] = [];
  for (let k = 0; k < incidents; k += 1) {
    keyed.push({ key: k, report: { kind: 'open', incident: k, reporter: reporter(k, 0) } });
    const mine = Math.floor(joins / incidents) + (k < joins % incidents ? 1 : 0);
    for (let m = 0; m < mine; m += 1) {
      keyed.push({
        key: k + lag + (m + 1) / (mine + 1),
        report: { kind: 'join', incident: k, reporter: reporter(k, m + 1) },
      });
    }
  }
  // Stable: equal keys keep the order they were made in.
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.report);
}

/**
 * When each incident had every agency it expects: the latest of their first sightings in
 * `seen` (agency assigned, or engagement request in its feed). Incidents with any agency
 * missing are left out.
 */
export function completedAt(
  expected: ReadonlyMap<string, readonly string[]>,
  seen: ReadonlyMap<string, ReadonlyMap<string, number>>,
): Map<string, number> {
  const done = new Map<string, number>();
  for (const [incident, agencies] of expected) {
    const times = agencies.map((a) => seen.get(incident)?.get(a));
    if (times.length > 0 && times.every((t) => t !== undefined)) done.set(incident, Math.max(...times));
  }
  return done;
}

/** Agencies seen for incidents beyond those expected (e.g. a regulator from level 2 on). */
export function unexpected(
  expected: ReadonlyMap<string, readonly string[]>,
  seen: ReadonlyMap<string, ReadonlyMap<string, number>>,
): number {
  let extra = 0;
  for (const [incident, agencies] of expected) {
    for (const agency of seen.get(incident)?.keys() ?? []) if (!agencies.includes(agency)) extra += 1;
  }
  return extra;
}
