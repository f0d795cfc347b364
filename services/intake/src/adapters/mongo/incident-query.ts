import { createHash } from 'node:crypto';
import type { Filter, Sort } from 'mongodb';
import { countryOf, type Comparator } from '@beacon/domain';
import {
  DEFAULT_INCIDENT_ORDER,
  type IncidentFilter,
  type IncidentOrder,
  type IncidentOrderField,
} from '../../domain/incident-filter.js';
import type { IncidentStatus } from '../../domain/incident.js';
import { tlpRank, type IncidentDoc } from './documents.js';

/**
 * `ListIncidents`' filter and order as a query: only operators both MongoDB and FerretDB 1.24
 * serve (`$and`/`$or`/`$nor`, comparisons, `$in`, `$regex` on strings and arrays, `$exists`),
 * and keyset paging over the sort keys, so a page never repeats or skips an incident whatever
 * the order. The query is always ANDed with the caller's read scope by the store: it narrows,
 * it never widens.
 */

const FIELD_PATHS = {
  status: 'status',
  label: 'tlpRank',
  rsit_class: 'classification.rsitClass',
  rsit_type: 'classification.rsitType',
  nciss_level: 'severity.level',
  nciss_score: 'severity.score',
  opened_at: 'openedAt',
  updated_at: 'updatedAt',
  aware_at: 'awareAt',
} as const;

const ORDER_PATHS: Readonly<Record<IncidentOrderField, string>> = {
  opened_at: 'openedAt',
  updated_at: 'updatedAt',
  aware_at: 'awareAt',
  nciss_level: 'severity.level',
  nciss_score: 'severity.score',
  label: 'tlpRank',
};

const OPERATORS: Readonly<Record<Exclude<Comparator, '=' | ':'>, string>> = {
  '!=': '$ne',
  '<': '$lt',
  '<=': '$lte',
  '>': '$gt',
  '>=': '$gte',
};

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** The filter as a Mongo query over incident documents. */
export function filterQuery(filter: IncidentFilter): Filter<IncidentDoc> {
  switch (filter.kind) {
    case 'and':
      return { $and: filter.operands.map(filterQuery) };
    case 'or':
      return { $or: filter.operands.map(filterQuery) };
    case 'not':
      return { $nor: [filterQuery(filter.operand)] };
    case 'present':
      return { [`${filter.field}.0`]: { $exists: true } };
    case 'compare':
      switch (filter.field) {
        case 'sectors':
          return { sectors: filter.value };
        case 'jurisdictions': {
          const code = filter.value;
          // A country holds its subdivisions (`DE` → `DE-BY`); a subdivision only itself.
          return countryOf(code) === code
            ? { jurisdictions: { $in: [code, new RegExp(`^${escapeRegex(code)}-`)] } }
            : { jurisdictions: code };
        }
        case 'title':
          return { title: { $regex: escapeRegex(filter.value), $options: 'i' } };
        case 'label':
          return comparison(FIELD_PATHS.label, filter.comparator, tlpRank(filter.value));
        case 'status':
        case 'rsit_class':
        case 'rsit_type':
        case 'nciss_level':
        case 'nciss_score':
        case 'opened_at':
        case 'updated_at':
        case 'aware_at':
          return comparison(FIELD_PATHS[filter.field], filter.comparator, filter.value);
      }
  }
}

function comparison(path: string, comparator: Comparator, value: unknown): Filter<IncidentDoc> {
  return comparator === '=' || comparator === ':'
    ? { [path]: value }
    : { [path]: { [OPERATORS[comparator]]: value } };
}

/** What one list asks for: a page token is good only for the same question. */
export interface ListQuery {
  readonly status?: IncidentStatus | undefined;
  readonly filter?: IncidentFilter | undefined;
  readonly order?: IncidentOrder | undefined;
}

interface SortKey {
  readonly path: string;
  readonly descending: boolean;
  readonly kind: 'date' | 'number' | 'id';
}

/** The order's keys, then `_id` to break ties (in the last key's direction). */
export function sortKeys(order: IncidentOrder = DEFAULT_INCIDENT_ORDER): SortKey[] {
  const keys: SortKey[] = order.map(({ field, descending }) => ({
    path: ORDER_PATHS[field],
    descending,
    kind: field.endsWith('_at') ? 'date' : 'number',
  }));
  return [...keys, { path: '_id', descending: keys.at(-1)?.descending ?? true, kind: 'id' }];
}

export const sortSpec = (keys: readonly SortKey[]): Sort =>
  Object.fromEntries(keys.map((k) => [k.path, k.descending ? -1 : 1]));

/** A page token: where the last page ended, and a digest of the question it answered. */
interface Cursor {
  /** The last incident's value for each sort key (dates as ISO strings), `_id` last. */
  readonly after: readonly (string | number)[];
  readonly query: string;
}

/** A digest of the list's question (page size aside), so a token cannot be reused for another. */
export function queryDigest(query: ListQuery): string {
  const order = query.order ?? DEFAULT_INCIDENT_ORDER;
  const canonical = JSON.stringify([query.status ?? null, query.filter ?? null, order]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** Thrown for a page token that is not one this service issued for this question. */
export class BadCursorError extends Error {
  override readonly name = 'BadCursorError';
}

export function encodeCursor(doc: IncidentDoc, keys: readonly SortKey[], query: ListQuery): string {
  const after = keys.map((key) => {
    const value = valueAt(doc, key.path);
    return value instanceof Date ? value.toISOString() : (value as string | number);
  });
  const cursor: Cursor = { after, query: queryDigest(query) };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The condition "after the token's position" in the keys' order. */
export function afterCursor(token: string, keys: readonly SortKey[], query: ListQuery): Filter<IncidentDoc> {
  const values = decodeCursor(token, keys, query);
  const clauses = keys.map((key, i) => {
    const equal = Object.fromEntries(keys.slice(0, i).map((k, j) => [k.path, values[j]]));
    return { ...equal, [key.path]: { [key.descending ? '$lt' : '$gt']: values[i] } };
  });
  return { $or: clauses };
}

function decodeCursor(token: string, keys: readonly SortKey[], query: ListQuery): (Date | number | string)[] {
  let cursor: Partial<Cursor> & { openedAt?: unknown; id?: unknown };
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof cursor;
  } catch {
    throw new BadCursorError('the page token is not valid');
  }
  // Tokens issued before filters existed: newest first, by status only.
  if (typeof cursor.openedAt === 'string' && typeof cursor.id === 'string' && !cursor.query) {
    cursor = { after: [cursor.openedAt, cursor.id], query: queryDigest({ status: query.status }) };
  }
  if (typeof cursor !== 'object' || !Array.isArray(cursor.after) || cursor.after.length !== keys.length) {
    throw new BadCursorError('the page token is not valid');
  }
  if (cursor.query !== queryDigest(query)) {
    throw new BadCursorError('the page token was issued for another filter, order_by or status');
  }
  return keys.map((key, i) => {
    const value: unknown = cursor.after![i];
    if (key.kind === 'date' && typeof value === 'string' && !Number.isNaN(Date.parse(value))) {
      return new Date(value);
    }
    if (key.kind === 'number' && typeof value === 'number' && Number.isFinite(value)) return value;
    if (key.kind === 'id' && typeof value === 'string') return value;
    throw new BadCursorError('the page token is not valid');
  });
}

function valueAt(doc: IncidentDoc, path: string): unknown {
  return path.split('.').reduce<unknown>((value, part) => (value as Record<string, unknown>)[part], doc);
}
