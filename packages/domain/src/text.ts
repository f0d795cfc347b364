/**
 * Rules for free text that people type and others read: titles, names, descriptions. A control
 * character in a title or a name breaks log lines, CSV exports and e-mail subjects (CR/LF are
 * header injection in the last), and can make a name display as something it is not.
 */

// One-line text: every C0 control (TAB, LF and CR included), DEL, every C1 control, the
// Unicode line and paragraph separators, and the bidirectional embeddings, overrides and
// isolates that reorder what is displayed ("Trojan Source"). Right-to-left names need none of
// these: the Unicode bidirectional algorithm orders them by itself.
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const ONE_LINE_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
// Multi-line text (descriptions, notes) keeps TAB, LF and CR, and the line separators.
const MULTI_LINE_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Where the first forbidden character of `text` is, and which it is; undefined when none. */
export function findControlCharacter(
  text: string,
  options: { readonly multiline?: boolean } = {},
): { readonly index: number; readonly codePoint: string } | undefined {
  const match = (options.multiline ? MULTI_LINE_FORBIDDEN : ONE_LINE_FORBIDDEN).exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0)!;
  return { index: match.index, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}` };
}

/**
 * Why `text` may not be stored as a title or name (or, with `multiline`, a description), for
 * a field violation; undefined when it may.
 */
export function controlCharacterProblem(
  text: string,
  options: { readonly multiline?: boolean } = {},
): string | undefined {
  const found = findControlCharacter(text, options);
  return found && `contains a control character (${found.codePoint} at position ${found.index})`;
}
