import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTER_LIMITS,
  FilterError,
  parseFilter,
  parseTimestamp,
  type FilterExpr,
  type FilterSchema,
} from './list-filter.js';

type Fields = { name: string; level: number; tags: string; at: Date };

const schema: FilterSchema<Fields> = {
  fields: {
    name: { comparators: ['=', '!=', ':'], parse: (t) => t, expected: 'a name' },
    level: {
      comparators: ['=', '!=', '<', '<=', '>', '>=', ':'],
      parse: (t) => (/^[0-5]$/.test(t) ? Number(t) : undefined),
      expected: 'a level, 0 to 5',
    },
    tags: { comparators: [':'], parse: (t) => t.toLowerCase(), expected: 'a tag', presence: true },
    at: { comparators: ['<', '>='], parse: parseTimestamp, expected: 'an RFC 3339 timestamp' },
  },
  aliases: { 'x.level': 'level' },
};

const parse = (text: string, limits = DEFAULT_FILTER_LIMITS) => parseFilter(text, schema, limits);

/** The error a filter gets, as `position: message`. */
function failure(text: string, limits = DEFAULT_FILTER_LIMITS): { position: number; message: string } {
  try {
    parse(text, limits);
  } catch (error) {
    if (error instanceof FilterError) return { position: error.position, message: error.message };
    throw error;
  }
  throw new Error(`"${text}" parsed`);
}

const eq = (field: 'name' | 'tags', value: string, comparator: '=' | ':' = '=') =>
  ({ kind: 'compare', field, comparator, value }) as FilterExpr<Fields>;
const lvl = (comparator: '=' | '>=' | '<' | '!=' | ':', value: number) =>
  ({ kind: 'compare', field: 'level', comparator, value }) as FilterExpr<Fields>;

describe('parseFilter: valid forms', () => {
  it('reads an empty or blank filter as no filter', () => {
    expect(parse('')).toBeUndefined();
    expect(parse('  \t ')).toBeUndefined();
  });

  it('reads every comparator, with or without spaces around it', () => {
    for (const c of ['=', '!=', '<', '<=', '>', '>=', ':'] as const) {
      expect(parse(`level${c}3`)).toEqual({ kind: 'compare', field: 'level', comparator: c, value: 3 });
      expect(parse(`level ${c} 3`)).toEqual({ kind: 'compare', field: 'level', comparator: c, value: 3 });
    }
  });

  it('reads double- and single-quoted strings with escapes, and bare values', () => {
    expect(parse('name = "two words"')).toEqual(eq('name', 'two words'));
    expect(parse(`name = 'it\\'s "x"'`)).toEqual(eq('name', `it's "x"`));
    expect(parse('name = "back\\\\slash \\"q\\""')).toEqual(eq('name', 'back\\slash "q"'));
    expect(parse('name = DE-BY')).toEqual(eq('name', 'DE-BY'));
    // A bare value runs to a space or parenthesis: a timestamp's colons and offset are in it.
    expect(parse('at >= 2026-01-31T08:00:00+01:00')).toEqual({
      kind: 'compare',
      field: 'at',
      comparator: '>=',
      value: new Date('2026-01-31T07:00:00Z'),
    });
    expect(parse('name = "AND"')).toEqual(eq('name', 'AND'));
    expect(parse('name = ORACLE')).toEqual(eq('name', 'ORACLE'));
  });

  it('checks and canonicalises each value with its field', () => {
    expect(parse('tags:"Energy"')).toEqual(eq('tags', 'energy', ':'));
    expect(parse('x.level >= 2')).toEqual(lvl('>=', 2));
  });

  it('reads field:* as a presence test where the field allows it', () => {
    expect(parse('tags:*')).toEqual({ kind: 'present', field: 'tags' });
    expect(parse('NOT tags:*')).toEqual({ kind: 'not', operand: { kind: 'present', field: 'tags' } });
  });

  it('reads AND, OR, NOT, - and parentheses', () => {
    expect(parse('name=a AND level>=3')).toEqual({ kind: 'and', operands: [eq('name', 'a'), lvl('>=', 3)] });
    expect(parse('name=a OR name=b OR name=c')).toEqual({
      kind: 'or',
      operands: [eq('name', 'a'), eq('name', 'b'), eq('name', 'c')],
    });
    expect(parse('NOT name=a')).toEqual({ kind: 'not', operand: eq('name', 'a') });
    expect(parse('-name=a')).toEqual({ kind: 'not', operand: eq('name', 'a') });
    expect(parse('NOT (name=a OR level<2)')).toEqual({
      kind: 'not',
      operand: { kind: 'or', operands: [eq('name', 'a'), lvl('<', 2)] },
    });
    expect(parse('((name=a))')).toEqual(eq('name', 'a'));
  });

  it('reads juxtaposed restrictions as AND', () => {
    expect(parse('name=a level=2')).toEqual({ kind: 'and', operands: [eq('name', 'a'), lvl('=', 2)] });
    expect(parse('name=a (level=2)')).toEqual({ kind: 'and', operands: [eq('name', 'a'), lvl('=', 2)] });
  });
});

describe('parseFilter: precedence (AIP-160: OR binds tighter than AND)', () => {
  const [a, b, c] = [eq('name', 'a'), eq('name', 'b'), eq('name', 'c')];

  it('groups OR before AND on either side', () => {
    expect(parse('name=a OR name=b AND name=c')).toEqual({
      kind: 'and',
      operands: [{ kind: 'or', operands: [a, b] }, c],
    });
    expect(parse('name=a AND name=b OR name=c')).toEqual({
      kind: 'and',
      operands: [a, { kind: 'or', operands: [b, c] }],
    });
  });

  it('groups OR before juxtaposition, and NOT before OR', () => {
    expect(parse('name=a name=b OR name=c')).toEqual({
      kind: 'and',
      operands: [a, { kind: 'or', operands: [b, c] }],
    });
    expect(parse('NOT name=a OR name=b')).toEqual({
      kind: 'or',
      operands: [{ kind: 'not', operand: a }, b],
    });
  });

  it('lets parentheses override', () => {
    expect(parse('(name=a AND name=b) OR name=c')).toEqual({
      kind: 'or',
      operands: [{ kind: 'and', operands: [a, b] }, c],
    });
  });
});

describe('parseFilter: errors name the position and what was expected', () => {
  it.each([
    ['level >= ', 10, 'expected a level, 0 to 5 after ">=", found the end of the filter'],
    ['level >= 9', 10, 'expected a level, 0 to 5, found "9"'],
    [
      'level',
      6,
      'expected a comparator after level (one of "=", "!=", "<", "<=", ">", ">=", ":"), found the end',
    ],
    ['level 3', 7, 'expected a comparator after level'],
    ['level > = 3', 9, 'after ">", found "="'],
    ['tags = "x"', 6, 'expected a comparator that tags takes (":"), found "="'],
    ['at : "2026-01-01T00:00:00Z"', 4, 'expected a comparator that at takes ("<", ">="), found ":"'],
    ['level:*', 7, 'expected a level, 0 to 5, found "*"'],
    ['levl = 3', 1, 'expected a field (one of name, level, tags, at), found "levl"'],
    ['name=a and level=1', 8, 'found "and" (operators are written AND)'],
    ['name=a AND', 11, 'expected a field name, "(" or NOT, found the end of the filter'],
    ['name=a AND OR name=b', 12, 'expected a field name, "(" or NOT, found "OR"'],
    ['OR name=a', 1, 'expected a field name, "(" or NOT, found "OR"'],
    ['NOT', 4, 'expected a field name, "(" or NOT, found the end of the filter'],
    ['()', 2, 'expected a field name, "(" or NOT, found ")"'],
    ['(name=a', 8, 'expected ")" to close the "(" at position 1, found the end of the filter'],
    ['(name=a OR (level=1)', 21, 'expected ")" to close the "(" at position 1'],
    ['name=a)', 7, 'expected AND, OR, another restriction or the end of the filter, found ")"'],
    ['name="abc', 10, 'expected a closing " for the string at position 6, found the end of the filter'],
    ["name='abc", 10, "expected a closing ' for the string at position 6"],
    ['name="a\\x"', 9, 'expected \\\\, \\" or \\\' after a backslash, found "x"'],
    ['name="a\u0007"', 8, 'found character U+0007'],
    ['name=\u0007', 6, 'expected a name after "=", found character U+0007'],
    ['name=a, name=b', 7, 'found ","'],
    ['"bare"', 1, 'expected a field name, "(" or NOT, found "\\""'],
    ['at >= "2026-02-30T00:00:00Z"', 7, 'expected an RFC 3339 timestamp, found "2026-02-30T00:00:00Z"'],
    ['name="é😀" levl=1', 11, 'found "levl"'],
  ])('%j fails at %i', (text, position, message) => {
    const error = failure(text);
    expect(error.position).toBe(position);
    expect(error.message).toContain(`position ${position}: `);
    expect(error.message).toContain(message);
  });

  it('is a FilterError with the parts apart', () => {
    const error = (() => {
      try {
        parse('level >= x');
      } catch (e) {
        return e as FilterError;
      }
      throw new Error('parsed');
    })();
    expect(error).toBeInstanceOf(FilterError);
    expect(error.name).toBe('FilterError');
    expect([error.position, error.expected, error.found]).toEqual([10, 'a level, 0 to 5', '"x"']);
  });
});

describe('parseFilter: limits', () => {
  const limits = { maxLength: 40, maxTerms: 3, maxDepth: 2 };

  it('refuses a filter longer than the limit, pointing just past it', () => {
    expect(parse(`name="${'x'.repeat(33)}"`, limits)).toEqual(eq('name', 'x'.repeat(33)));
    expect(failure(`name="${'x'.repeat(34)}"`, limits)).toEqual({
      position: 41,
      message: 'position 41: expected a filter of at most 40 characters, found a longer one',
    });
    // Counted in characters, not UTF-16 units.
    expect(parse(`name="${'😀'.repeat(33)}"`, limits)).toEqual(eq('name', '😀'.repeat(33)));
  });

  it('refuses more restrictions than the limit at the first one too many', () => {
    expect(parse('level=1 level=2 level=3', limits)).toBeDefined();
    expect(failure('level=1 level=2 level=3 OR level=4', limits)).toEqual({
      position: 28,
      message: 'position 28: expected at most 3 restrictions, found one more',
    });
  });

  it('refuses deeper nesting than the limit at the first parenthesis too deep', () => {
    expect(parse('((level=1))', limits)).toEqual(lvl('=', 1));
    expect(failure('((NOT (level=1)))', limits)).toEqual({
      position: 7,
      message: 'position 7: expected at most 2 parentheses nested in one another, found one more',
    });
  });

  it('has defaults that bound a hostile filter cheaply', () => {
    expect(DEFAULT_FILTER_LIMITS).toEqual({ maxLength: 2_000, maxTerms: 32, maxDepth: 8 });
    const started = Date.now();
    expect(failure('('.repeat(5_000_000)).position).toBe(2_001);
    expect(failure('('.repeat(1_000)).position).toBe(9);
    expect(failure(Array.from({ length: 40 }, (_, i) => `level=${i % 6}`).join(' OR ')).position).toBe(
      32 * 'level=0 OR '.length + 1,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('parseTimestamp', () => {
  it('reads RFC 3339 with a zone, fractions and lower-case t/z', () => {
    expect(parseTimestamp('2026-01-31T08:00:00Z')).toEqual(new Date('2026-01-31T08:00:00Z'));
    expect(parseTimestamp('2026-01-31t08:00:00.25z')).toEqual(new Date('2026-01-31T08:00:00.250Z'));
    expect(parseTimestamp('2026-01-31T08:00:00.123456789-02:30')).toEqual(
      new Date('2026-01-31T10:30:00.123Z'),
    );
    expect(parseTimestamp('2024-02-29T23:59:59Z')).toEqual(new Date('2024-02-29T23:59:59Z'));
  });

  it.each([
    '2026-01-31',
    '2026-01-31T08:00:00',
    '2026-01-31 08:00:00Z',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-31T24:00:00Z',
    '2026-01-31T08:60:00Z',
    '2026-01-31T08:00:00+24:00',
    'yesterday',
  ])('refuses %j', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});
