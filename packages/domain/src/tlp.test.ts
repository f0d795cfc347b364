import { describe, expect, it } from 'vitest';
import {
  compareTlp,
  formatTlp,
  mayReceive,
  mayShareWith,
  mostRestrictive,
  parseTlp,
  TLP_AUDIENCES,
  TLP_LEVELS,
  type Tlp,
} from './tlp.js';

describe('TLP 2.0', () => {
  it('orders labels from CLEAR to RED', () => {
    const shuffled: Tlp[] = ['RED', 'CLEAR', 'AMBER+STRICT', 'GREEN', 'AMBER'];
    expect([...shuffled].sort(compareTlp)).toEqual([...TLP_LEVELS]);
    expect(mostRestrictive('GREEN', 'AMBER', 'CLEAR')).toBe('AMBER');
    expect(mostRestrictive('AMBER+STRICT', 'AMBER')).toBe('AMBER+STRICT');
  });

  it('lets each label reach exactly its own audience and the narrower ones', () => {
    const allowed = Object.fromEntries(
      TLP_LEVELS.map((tlp) => [tlp, TLP_AUDIENCES.filter((audience) => mayShareWith(tlp, audience))]),
    );
    expect(allowed).toEqual({
      CLEAR: ['public', 'community', 'organisation-and-clients', 'organisation', 'named-recipients'],
      GREEN: ['community', 'organisation-and-clients', 'organisation', 'named-recipients'],
      AMBER: ['organisation-and-clients', 'organisation', 'named-recipients'],
      'AMBER+STRICT': ['organisation', 'named-recipients'],
      RED: ['named-recipients'],
    });
  });

  it('delivers only up to the clearance, and RED only to named recipients', () => {
    const matrix = TLP_LEVELS.flatMap((tlp) =>
      TLP_LEVELS.flatMap((clearance) =>
        [true, false].map((named) => [tlp, clearance, named, mayReceive(tlp, { clearance, named })] as const),
      ),
    );
    for (const [tlp, clearance, named, allowed] of matrix) {
      const expected = compareTlp(tlp, clearance) <= 0 && (tlp !== 'RED' || named);
      expect({ tlp, clearance, named, allowed }).toEqual({ tlp, clearance, named, allowed: expected });
    }
    expect(mayReceive('RED', { clearance: 'RED', named: false })).toBe(false);
    expect(mayReceive('AMBER', { clearance: 'GREEN', named: true })).toBe(false);
  });

  it('parses the ways people write labels, including TLP 1.0 WHITE', () => {
    expect(parseTlp('TLP:AMBER+STRICT')).toBe('AMBER+STRICT');
    expect(parseTlp(' tlp: amber + strict ')).toBe('AMBER+STRICT');
    expect(parseTlp('white')).toBe('CLEAR');
    expect(parseTlp('AMBER STRICT')).toBeUndefined();
    expect(parseTlp('PURPLE')).toBeUndefined();
    expect(formatTlp('RED')).toBe('TLP:RED');
  });
});
