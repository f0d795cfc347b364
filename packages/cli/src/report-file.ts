import { createHash } from 'node:crypto';
import { normaliseIndicator, observableKey } from '@beacon/domain';
import { UsageError } from './io.js';

/** One report read from a file: its body, or why it cannot be sent. */
export interface ReportItem {
  /** Where it is in the file, for messages: `line 7` (JSON Lines), `index 2` (array), `report`. */
  readonly where: string;
  /** 1-based line (JSON Lines) or 0-based index (array); 0 for a file holding one object. */
  readonly position: number;
  readonly body?: Readonly<Record<string, unknown>>;
  /** Set instead of `body` when this item is not a JSON object. */
  readonly error?: string;
}

/**
 * Reads reports from a file's text: one JSON object, a JSON array of objects, or JSON Lines
 * (one object a line; chosen by a `.jsonl`/`.ndjson` name, or when the text is not one JSON
 * value but its first line is). A bad line or element fails alone, so the rest can still go;
 * a file that is none of these throws a UsageError.
 */
export function parseReports(text: string, fileName = ''): ReportItem[] {
  const source = text.replace(/^\uFEFF/, '');
  let items: ReportItem[];
  if (/\.(jsonl|ndjson)$/i.test(fileName)) {
    items = parseJsonLines(source);
  } else {
    let value: unknown;
    let failure: Error | undefined;
    try {
      value = JSON.parse(source);
    } catch (error) {
      failure = error as Error;
    }
    if (failure === undefined) {
      items = Array.isArray(value)
        ? value.map((v: unknown, i) => item(`index ${i}`, i, v))
        : [item('report', 0, value)];
    } else if (firstLineIsObject(source)) {
      items = parseJsonLines(source);
    } else {
      throw new UsageError(`${fileName || 'the file'} is not JSON: ${failure.message}`);
    }
  }
  if (items.length === 0) throw new UsageError(`${fileName || 'the file'} holds no reports`);
  return items;
}

function firstLineIsObject(source: string): boolean {
  const first = source.split('\n').find((line) => line.trim() !== '');
  try {
    return first !== undefined && isObject(JSON.parse(first));
  } catch {
    return false;
  }
}

function parseJsonLines(source: string): ReportItem[] {
  const items: ReportItem[] = [];
  for (const [i, line] of source.split('\n').entries()) {
    if (line.trim() === '') continue;
    const where = `line ${i + 1}`;
    try {
      items.push(item(where, i + 1, JSON.parse(line)));
    } catch (error) {
      items.push({ where, position: i + 1, error: `not JSON: ${(error as Error).message}` });
    }
  }
  return items;
}

function item(where: string, position: number, value: unknown): ReportItem {
  return isObject(value) ? { where, position, body: value } : { where, position, error: 'not a JSON object' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every depth, so equal content has equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/**
 * The Idempotency-Key for a request body: derived from its content alone, so sending the same
 * file again (even reordered or reformatted) replays the first results instead of filing twice,
 * while an edited report gets a new key. 128 bits of SHA-256 keep collisions out of reach.
 */
export function idempotencyKey(body: unknown): string {
  return `cli-${createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32)}`;
}

/**
 * Item indices grouped so that reports sharing an observable (as the server normalises it) are
 * in one group, each group in file order. Intake correlates a report only with incidents already
 * stored, so two related reports sent at once could each open an incident; sending each group
 * in order, and only different groups in parallel, files them as one at a time would.
 */
export function correlationGroups(items: readonly ReportItem[]): number[][] {
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const firstWith = new Map<string, number>();
  for (const [i, { body }] of items.entries()) {
    for (const key of observableKeys(body)) {
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, i);
      else parent[Math.max(root(i), root(first))] = Math.min(root(i), root(first));
    }
  }
  const groups = new Map<number, number[]>();
  for (const i of items.keys()) {
    const group = groups.get(root(i));
    if (group) group.push(i);
    else groups.set(root(i), [i]);
  }
  return [...groups.values()];
}

function observableKeys(body: Readonly<Record<string, unknown>> | undefined): string[] {
  const observables = body?.['observables'];
  if (!Array.isArray(observables)) return [];
  return observables.flatMap((o: unknown) => {
    if (!isObject(o) || typeof o['type'] !== 'string' || typeof o['value'] !== 'string') return [];
    const normalised = normaliseIndicator(o['type'], o['value']);
    // An invalid observable fails its report anyway; grouping it by its raw text is harmless.
    return [normalised.ok ? observableKey(normalised.observable) : `${o['type']}:${o['value'].trim()}`];
  });
}
