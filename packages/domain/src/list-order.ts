/**
 * List orderings in the AIP-132 form (google.aip.dev/132#ordering): fields separated by
 * commas, each ascending unless followed by ` desc` (` asc` may be written), e.g.
 * `nciss_level desc, opened_at`. Errors name the 1-based position like `FilterError`.
 */
import { FilterError } from './list-filter.js';

export interface OrderKey<F extends string> {
  readonly field: F;
  readonly descending: boolean;
}

export interface OrderSchema<F extends string> {
  /** The fields a list may be ordered by. */
  readonly fields: readonly F[];
  readonly aliases?: Readonly<Record<string, F>>;
}

/** Longer than any useful ordering over a handful of fields. */
export const MAX_ORDER_BY_LENGTH = 200;

/** The keys in order of precedence; empty for an empty text. Throws `FilterError`. */
export function parseOrderBy<F extends string>(text: string, schema: OrderSchema<F>): OrderKey<F>[] {
  if (text.length > MAX_ORDER_BY_LENGTH) {
    throw new FilterError(
      MAX_ORDER_BY_LENGTH + 1,
      `an ordering of at most ${MAX_ORDER_BY_LENGTH} characters`,
      'a longer one',
    );
  }
  if (text.trim() === '') return [];
  const keys: OrderKey<F>[] = [];
  // Each item: its text and where it starts, split at commas.
  let start = 0;
  for (const part of text.split(',')) {
    keys.push(orderKey(text, part, start, schema, keys));
    start += part.length + 1;
  }
  return keys;
}

function orderKey<F extends string>(
  text: string,
  part: string,
  offset: number,
  schema: OrderSchema<F>,
  earlier: readonly OrderKey<F>[],
): OrderKey<F> {
  const words = [...part.matchAll(/\S+/g)].map((m) => ({ text: m[0], position: offset + m.index + 1 }));
  const [name, direction, extra] = words;
  if (!name) {
    // Nothing before the next comma or the end: point at that.
    const at = offset + part.length;
    throw new FilterError(at + 1, 'a field name', at < text.length ? '","' : 'the end of the ordering');
  }
  const field = schema.fields.includes(name.text as F)
    ? (name.text as F)
    : schema.aliases && Object.hasOwn(schema.aliases, name.text)
      ? schema.aliases[name.text]!
      : undefined;
  if (field === undefined) {
    throw new FilterError(
      name.position,
      `a field to order by (one of ${schema.fields.join(', ')})`,
      JSON.stringify(name.text),
    );
  }
  if (earlier.some((key) => key.field === field)) {
    throw new FilterError(name.position, 'each field once', `${JSON.stringify(name.text)} again`);
  }
  const dir = direction?.text.toLowerCase();
  if (direction && dir !== 'asc' && dir !== 'desc') {
    throw new FilterError(
      direction.position,
      '"asc", "desc", "," or the end',
      JSON.stringify(direction.text),
    );
  }
  if (extra) throw new FilterError(extra.position, '"," or the end', JSON.stringify(extra.text));
  return { field, descending: dir === 'desc' };
}
