import { describe, expect, it } from 'vitest';
import { FilterError } from './list-filter.js';
import { MAX_ORDER_BY_LENGTH, parseOrderBy } from './list-order.js';

const schema = { fields: ['opened_at', 'level'] as const, aliases: { 'severity.level': 'level' as const } };
const parse = (text: string) => parseOrderBy<'opened_at' | 'level'>(text, schema);

function failure(text: string): string {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof FilterError) return error.message;
    throw error;
  }
  throw new Error(`"${text}" parsed`);
}

describe('parseOrderBy (AIP-132)', () => {
  it('reads fields in precedence, ascending unless desc, ignoring extra spaces and case', () => {
    expect(parse('')).toEqual([]);
    expect(parse('  ')).toEqual([]);
    expect(parse('level desc, opened_at')).toEqual([
      { field: 'level', descending: true },
      { field: 'opened_at', descending: false },
    ]);
    expect(parse('  opened_at   ASC ,severity.level  DESC ')).toEqual([
      { field: 'opened_at', descending: false },
      { field: 'level', descending: true },
    ]);
  });

  it.each([
    ['title', 'position 1: expected a field to order by (one of opened_at, level), found "title"'],
    ['level up', 'position 7: expected "asc", "desc", "," or the end, found "up"'],
    ['level desc opened_at', 'position 12: expected "," or the end, found "opened_at"'],
    ['level,,opened_at', 'position 7: expected a field name, found ","'],
    ['level,', 'position 7: expected a field name, found the end of the ordering'],
    [',level', 'position 1: expected a field name, found ","'],
    ['level, severity.level', 'position 8: expected each field once, found "severity.level" again'],
  ])('%j: %s', (text, message) => {
    expect(failure(text)).toBe(message);
  });

  it('refuses an ordering longer than the limit', () => {
    expect(failure(`level${' '.repeat(MAX_ORDER_BY_LENGTH)}`)).toBe(
      `position ${MAX_ORDER_BY_LENGTH + 1}: expected an ordering of at most ${MAX_ORDER_BY_LENGTH} characters, found a longer one`,
    );
  });
});
