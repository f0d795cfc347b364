import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReference, referenceFromBytes } from './case-reference.js';

describe('case references', () => {
  it('have the VC-XXXX-XXXX-XXXX-XXXX form in Crockford base 32 and parse back to themselves', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 15, maxLength: 15 }), (bytes) => {
        const reference = referenceFromBytes(bytes);
        expect(reference).toMatch(/^VC(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
        expect(parseReference(reference)).toEqual({ ok: true, reference });
      }),
    );
  });

  it('read as people type them: any case, without dashes or prefix, O for 0, I and L for 1', () => {
    const reference = referenceFromBytes(Uint8Array.from({ length: 15 }, (_, i) => i * 17 + 1));
    const body = reference.slice(3).replaceAll('-', '');
    expect(parseReference(` ${body.toLowerCase()} `)).toEqual({ ok: true, reference });
    expect(parseReference(`vc ${body.slice(0, 8)} ${body.slice(8)}`)).toEqual({ ok: true, reference });
    const typed = body.replaceAll('0', 'o').replaceAll('1', 'l');
    expect(parseReference(typed)).toEqual({ ok: true, reference });
  });

  it('catch every single mistyped symbol and adjacent swaps by their check symbol', () => {
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 15, maxLength: 15 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 1, max: 31 }),
        (bytes, position, shift) => {
          const body = referenceFromBytes(bytes).slice(3).replaceAll('-', '');
          const wrong = alphabet[(alphabet.indexOf(body[position]!) + shift) % 32]!;
          const typo = body.slice(0, position) + wrong + body.slice(position + 1);
          expect(parseReference(typo).ok).toBe(false);
        },
      ),
    );
    const body = referenceFromBytes(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]))
      .slice(3)
      .replaceAll('-', '');
    const swapped = body[1]! + body[0]! + body.slice(2);
    expect(parseReference(swapped)).toEqual({
      ok: false,
      reason: 'has a typing mistake (its check symbol does not match)',
    });
  });

  it('refuses what cannot be a reference', () => {
    expect(parseReference('VC-1234')).toMatchObject({ ok: false });
    expect(parseReference('U'.repeat(16))).toEqual({
      ok: false,
      reason: '"U" does not occur in case references',
    });
    expect(parseReference('x'.repeat(100))).toMatchObject({
      ok: false,
      reason: 'is too long to be a case reference',
    });
    expect(() => referenceFromBytes(new Uint8Array(14))).toThrow(RangeError);
  });
});
