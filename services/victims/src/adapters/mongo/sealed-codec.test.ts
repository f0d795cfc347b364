import { describe, expect, it } from 'vitest';
import { packSealed, unpackSealed } from './sealed-codec.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('sealed fields as stored', () => {
  it('packs the present fields into one string and gives each back as it was', () => {
    const sealed = { reference: bytes(1, 2, 3), email: bytes(), needs: new Uint8Array(70_000).fill(7) };
    const packed = packSealed(sealed);
    expect(typeof packed).toBe('string');
    const back = unpackSealed(packed);
    // An empty value is not stored at all, like an absent one.
    expect(Object.keys(back).sort()).toEqual(['needs', 'reference']);
    expect(Buffer.from(back.reference!)).toEqual(Buffer.from([1, 2, 3]));
    expect(Buffer.from(back.needs!)).toEqual(Buffer.from(sealed.needs));
    expect(unpackSealed(packSealed({}))).toEqual({});
  });

  it('reads the earlier form, one base64 string per field', () => {
    const back = unpackSealed({ email: Buffer.from([9, 8]).toString('base64'), phone: '' });
    expect(Object.keys(back)).toEqual(['email']);
    expect(Buffer.from(back.email!)).toEqual(Buffer.from([9, 8]));
    expect(unpackSealed(undefined)).toEqual({});
  });

  it('refuses what it did not write: an unknown format, a cut value, an unknown or repeated field', () => {
    const b64 = (...values: number[]) => Buffer.from(values).toString('base64');
    expect(() => unpackSealed(b64(2))).toThrow(/unknown format/);
    expect(() => unpackSealed(b64(1, 4, 0, 0, 0, 3, 9, 9))).toThrow(/malformed at byte 1/);
    expect(() => unpackSealed(b64(1, 99, 0, 0, 0, 1, 9))).toThrow(/malformed at byte 1/);
    expect(() => unpackSealed(b64(1, 4, 0, 0, 0, 1, 9, 4, 0, 0, 0, 1, 9))).toThrow(/malformed at byte 7/);
    expect(() => unpackSealed(b64(1, 4, 0, 0))).toThrow(/malformed at byte 1/);
  });
});
