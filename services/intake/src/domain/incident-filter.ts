import {
  ALL_COMPARATORS,
  isSector,
  isWithin,
  NCISS_LEVELS,
  parseFilter,
  parseJurisdiction,
  parseOrderBy,
  parseTimestamp,
  parseTlp,
  RSIT,
  RSIT_CLASSES,
  TLP_LEVELS,
  type Comparator,
  type FilterExpr,
  type FilterField,
  type FilterSchema,
  type Jurisdiction,
  type OrderKey,
  type RsitClass,
  type Sector,
  type Tlp,
} from '@beacon/domain';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus } from './incident.js';

/**
 * What `ListIncidents` filters and orders by (AIP-160 / AIP-132), and what each restriction
 * means, as a pure predicate: the store's query must select exactly the incidents
 * `matchesIncidentFilter` accepts, inside the caller's read scope.
 *
 * - `status`, `rsit_class`, `rsit_type`: equal (`=`, `:`) or not (`!=`).
 * - `label` (also `tlp`): compared along TLP's order, CLEAR < GREEN < AMBER < AMBER+STRICT < RED.
 * - `sectors`, `jurisdictions`: `:` — the list holds the value (`:*`: is not empty). A country
 *   holds its subdivisions: `jurisdictions:"DE"` matches `DE-BY`; `DE-BY` matches only itself.
 * - `nciss_level` (0–5, or its name: `high`), `nciss_score` (0–100): every comparison.
 * - `opened_at`, `updated_at`, `aware_at`: RFC 3339 timestamps, every comparison but `:`.
 * - `title`: `:` — contains the text, ignoring case.
 */
export type IncidentFilterValues = {
  readonly status: IncidentStatus;
  readonly label: Tlp;
  readonly sectors: Sector;
  readonly jurisdictions: Jurisdiction;
  readonly rsit_class: RsitClass;
  readonly rsit_type: string;
  readonly nciss_level: number;
  readonly nciss_score: number;
  readonly opened_at: Date;
  readonly updated_at: Date;
  readonly aware_at: Date;
  readonly title: string;
};

export type IncidentFilter = FilterExpr<IncidentFilterValues>;

const EQUALITY: readonly Comparator[] = ['=', '!=', ':'];
const ORDERED: readonly Comparator[] = ALL_COMPARATORS;
const TIME: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
/** Longest title text searched for: titles are at most 200 characters. */
const MAX_TITLE_TEXT = 200;

const RSIT_TYPES: ReadonlySet<string> = new Set(Object.values(RSIT).flat());

function integer(min: number, max: number, names: readonly string[] = []) {
  return (text: string): number | undefined => {
    const named = names.indexOf(text.toLowerCase());
    if (named >= 0) return named;
    if (!/^\d{1,3}$/.test(text)) return undefined;
    const value = Number(text);
    return value >= min && value <= max ? value : undefined;
  };
}

const timestamp: FilterField<Date> = {
  comparators: TIME,
  parse: parseTimestamp,
  expected: 'an RFC 3339 timestamp such as "2026-01-31T08:00:00Z"',
};

export const INCIDENT_FILTER: FilterSchema<IncidentFilterValues> = {
  fields: {
    status: {
      comparators: EQUALITY,
      parse: (text) => {
        const bare = text.toLowerCase().replace(/^incident_status_/, '');
        return (INCIDENT_STATUSES as readonly string[]).includes(bare) ? (bare as IncidentStatus) : undefined;
      },
      expected: `a status (${INCIDENT_STATUSES.join(', ')})`,
    },
    label: {
      comparators: ORDERED,
      parse: (text) => parseTlp(text.replace(/^TLP_/i, '').replace(/_STRICT$/i, '+STRICT')),
      expected: `a TLP label (${TLP_LEVELS.join(', ')})`,
    },
    sectors: {
      comparators: [':'],
      parse: (text) => {
        const sector = text.toLowerCase();
        return isSector(sector) ? sector : undefined;
      },
      expected: 'a CISA sector identifier such as "energy"',
      presence: true,
    },
    jurisdictions: {
      comparators: [':'],
      parse: parseJurisdiction,
      expected: 'an ISO 3166 code such as "DE" or "DE-BY"',
      presence: true,
    },
    rsit_class: {
      comparators: EQUALITY,
      parse: (text) => {
        const rsitClass = text.toLowerCase();
        return (RSIT_CLASSES as readonly string[]).includes(rsitClass) ? (rsitClass as RsitClass) : undefined;
      },
      expected: `an RSIT class (${RSIT_CLASSES.join(', ')})`,
    },
    rsit_type: {
      comparators: EQUALITY,
      parse: (text) => (RSIT_TYPES.has(text.toLowerCase()) ? text.toLowerCase() : undefined),
      expected: 'an RSIT type such as "phishing" or "system-compromise"',
    },
    nciss_level: {
      comparators: ORDERED,
      parse: integer(0, 5, NCISS_LEVELS),
      expected: `an NCISS level, 0 to 5 or its name (${NCISS_LEVELS.join(', ')})`,
    },
    nciss_score: { comparators: ORDERED, parse: integer(0, 100), expected: 'an NCISS score, 0 to 100' },
    opened_at: timestamp,
    updated_at: timestamp,
    aware_at: timestamp,
    title: {
      comparators: [':'],
      parse: (text) => (text.length > 0 && text.length <= MAX_TITLE_TEXT ? text : undefined),
      expected: `text of 1 to ${MAX_TITLE_TEXT} characters`,
    },
  },
  aliases: {
    tlp: 'label',
    'classification.rsit_class': 'rsit_class',
    'classification.rsit_type': 'rsit_type',
    'severity.level': 'nciss_level',
    'severity.score': 'nciss_score',
  },
};

/** The filter text as an expression; undefined when empty. Throws `FilterError`. */
export function parseIncidentFilter(text: string): IncidentFilter | undefined {
  return parseFilter(text, INCIDENT_FILTER);
}

export const INCIDENT_ORDER_FIELDS = [
  'opened_at',
  'updated_at',
  'aware_at',
  'nciss_level',
  'nciss_score',
  'label',
] as const;
export type IncidentOrderField = (typeof INCIDENT_ORDER_FIELDS)[number];
export type IncidentOrder = readonly OrderKey<IncidentOrderField>[];

/** Newest first: the order when none is asked for. */
export const DEFAULT_INCIDENT_ORDER: IncidentOrder = [{ field: 'opened_at', descending: true }];

/** The `order_by` text as keys; the default order when empty. Throws `FilterError`. */
export function parseIncidentOrder(text: string): IncidentOrder {
  const keys = parseOrderBy(text, {
    fields: INCIDENT_ORDER_FIELDS,
    aliases: { tlp: 'label', 'severity.level': 'nciss_level', 'severity.score': 'nciss_score' },
  });
  return keys.length > 0 ? keys : DEFAULT_INCIDENT_ORDER;
}

/** The value an incident has for an order field, as it sorts. */
export function orderValue(incident: Incident, field: IncidentOrderField): number | Date {
  switch (field) {
    case 'opened_at':
      return incident.openedAt;
    case 'updated_at':
      return incident.updatedAt;
    case 'aware_at':
      return incident.awareAt;
    case 'nciss_level':
      return incident.severity.level;
    case 'nciss_score':
      return incident.severity.score;
    case 'label':
      return TLP_LEVELS.indexOf(incident.tlp);
  }
}

type Filterable = Pick<
  Incident,
  | 'status'
  | 'tlp'
  | 'sectors'
  | 'jurisdictions'
  | 'classification'
  | 'severity'
  | 'openedAt'
  | 'updatedAt'
  | 'awareAt'
  | 'title'
>;

/** Whether the incident satisfies the filter: the meaning every store must implement. */
export function matchesIncidentFilter(incident: Filterable, filter: IncidentFilter | undefined): boolean {
  if (!filter) return true;
  switch (filter.kind) {
    case 'and':
      return filter.operands.every((f) => matchesIncidentFilter(incident, f));
    case 'or':
      return filter.operands.some((f) => matchesIncidentFilter(incident, f));
    case 'not':
      return !matchesIncidentFilter(incident, filter.operand);
    case 'present':
      return (filter.field === 'sectors' ? incident.sectors : incident.jurisdictions).length > 0;
    case 'compare':
      return matchesRestriction(incident, filter);
  }
}

function matchesRestriction(incident: Filterable, r: Extract<IncidentFilter, { kind: 'compare' }>): boolean {
  switch (r.field) {
    case 'status':
      return compare(incident.status, r.comparator, r.value);
    case 'label':
      return compare(TLP_LEVELS.indexOf(incident.tlp), r.comparator, TLP_LEVELS.indexOf(r.value));
    case 'sectors':
      return incident.sectors.includes(r.value);
    case 'jurisdictions':
      return incident.jurisdictions.some((j) => {
        const inner = parseJurisdiction(j);
        return inner !== undefined && isWithin(inner, r.value);
      });
    case 'rsit_class':
      return compare(incident.classification.rsitClass, r.comparator, r.value);
    case 'rsit_type':
      return compare(incident.classification.rsitType, r.comparator, r.value);
    case 'nciss_level':
      return compare(incident.severity.level, r.comparator, r.value);
    case 'nciss_score':
      return compare(incident.severity.score, r.comparator, r.value);
    case 'opened_at':
      return compare(incident.openedAt.getTime(), r.comparator, r.value.getTime());
    case 'updated_at':
      return compare(incident.updatedAt.getTime(), r.comparator, r.value.getTime());
    case 'aware_at':
      return compare(incident.awareAt.getTime(), r.comparator, r.value.getTime());
    case 'title':
      return incident.title.toLowerCase().includes(r.value.toLowerCase());
  }
}

function compare<T extends string | number>(actual: T, comparator: Comparator, expected: T): boolean {
  switch (comparator) {
    case '=':
    case ':':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
  }
}
