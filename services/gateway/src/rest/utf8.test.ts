import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, firstInvalidUtf8Offset } from './utf8.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('strict UTF-8 decoding of request bodies', () => {
  it('decodes well-formed text in any script', () => {
    expect(decodeUtf8(bytes('{"title":"München 🌧 مركز"}'))).toEqual({
      ok: true,
      text: '{"title":"München 🌧 مركز"}',
    });
  });

  it('names the offset of the first ill-formed sequence', () => {
    const cases: [Buffer, number][] = [
      [bytes('{"a":"', [0xff], '"}'), 6], // never valid
      [bytes('{"a":"', [0xc3], '"}'), 6], // lead byte without its continuation
      [bytes('{"a":"', [0xc0, 0xaf], '"}'), 6], // overlong '/'
      [bytes('{"a":"', [0xed, 0xa0, 0x80], '"}'), 6], // a UTF-16 surrogate
      [bytes('{"a":"', [0xf4, 0x90, 0x80, 0x80], '"}'), 6], // above U+10FFFF
      [bytes('ok ü then ', [0x80]), 11], // a stray continuation byte after a two-byte character
      [bytes('{"a":"', [0xe2, 0x82]), 6], // cut off at the end
    ];
    for (const [body, offset] of cases)
      expect(decodeUtf8(body), body.toString('hex')).toEqual({ ok: false, offset });
  });

  it('agrees with the platform’s strict decoder on arbitrary bytes', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        let valid = true;
        try {
          strict.decode(body);
        } catch {
          valid = false;
        }
        expect(firstInvalidUtf8Offset(body) === -1).toBe(valid);
      }),
    );
  });
});
