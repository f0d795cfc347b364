import { describe, expect, it } from 'vitest';
import { controlCharacterProblem, findControlCharacter } from './text.js';

describe('control characters in titles, names and descriptions', () => {
  it('refuses every C0 and C1 control, DEL, the line separators and bidi overrides in a one-line text', () => {
    for (const c of [
      '\r',
      '\n',
      '\t',
      '\u0000',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u009f',
      '\u2028',
      '\u2029',
      '\u202e',
      '\u2066',
    ])
      expect(findControlCharacter(`Outage${c}at plant`), JSON.stringify(c)).toEqual({
        index: 6,
        codePoint: `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
      });
    expect(controlCharacterProblem('Outage\r\nBcc: x@example.org')).toBe(
      'contains a control character (U+000D at position 6)',
    );
  });

  it('accepts ordinary text in any script, including right-to-left names and emoji', () => {
    for (const text of [
      'Ransomware at Stadtwerke München',
      'مركز الاستجابة',
      'Ливень 🌧 — «DDoS»',
      'a\u00a0b',
    ])
      expect(controlCharacterProblem(text), text).toBeUndefined();
  });

  it('lets a multi-line text keep its tabs and line breaks, and nothing else', () => {
    expect(controlCharacterProblem('line one\r\n\tline two\u2028three', { multiline: true })).toBeUndefined();
    expect(controlCharacterProblem('line one\u0000', { multiline: true })).toMatch(/U\+0000/);
    expect(controlCharacterProblem('evil\u202egnp.exe', { multiline: true })).toMatch(/U\+202E/);
  });
});
