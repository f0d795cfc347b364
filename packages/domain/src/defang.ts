/**
 * Defanged and obfuscated indicators, as threat reports write them so that nobody clicks them
 * by accident (`hxxps://evil[.]example[.]com`, `user[at]example[dot]com`, `192[.]0[.]2[.]1`),
 * turned back into the text they stand for. Refanging only undoes these conventions: what comes
 * out is validated like any other indicator, so garbage stays garbage.
 */
import { findControlCharacter } from './text.js';
import { normaliseObservable, MAX_OBSERVABLE_LENGTH, type NormaliseResult } from './observables.js';

/** The types whose text is defanged in the wild; digests, wallets and phone numbers are not. */
const DEFANGABLE = new Set(['ipv4', 'ipv6', 'cidr', 'domain', 'url', 'email']);

// Square, curly and angle brackets cannot stand bare in a canonical URL (they are escaped) or
// in a host, so a bracketed dot, colon, slash or at-sign means a defanged one anywhere.
// Parentheses can stand in a URL's path and userinfo, so in a URL only its host is read for them.
const BRACKETS = [String.raw`\[`, String.raw`\]`, '\\{', '\\}', '<', '>'];
const PARENS = [String.raw`\(`, String.raw`\)`];

function bracketed(inner: string, pairs: readonly string[], spaceAround = false): RegExp {
  const alternatives: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    alternatives.push(`${pairs[i]}\\s*(?:${inner})\\s*${pairs[i + 1]}`);
  }
  const body = `(?:${alternatives.join('|')})`;
  // One space either side at most: `\s*` there would be tried from every space of a long run,
  // in time quadratic in its length. Hosts and addresses have their runs collapsed first.
  return new RegExp(spaceAround ? ` ?${body} ?` : body, 'gi');
}

type Rule = readonly [RegExp, string];

/** Bracketed separators and escapes, each read as the character it hides. */
function separatorRules(pairs: readonly string[]): Rule[] {
  return [
    [bracketed(':\\/\\/', pairs), '://'],
    [bracketed('\\/\\/', pairs), '//'],
    [bracketed(':', pairs), ':'],
    [bracketed('\\/', pairs), '/'],
    [bracketed('\\.|dot', pairs, true), '.'],
    [bracketed('@', pairs, true), '@'],
  ];
}

const BRACKET_RULES: Rule[] = [...separatorRules(BRACKETS), [/\\\./g, '.']];
const PAREN_RULES: Rule[] = separatorRules(PARENS);
/** A host or address written with spaces: `evil . example . com`, `evil dot example dot com`. */
const SPACED_RULES: Rule[] = [
  [/ dot /gi, '.'],
  [/ ?\. ?/g, '.'],
];
const EMAIL_RULES: Rule[] = [
  [bracketed('at', [...BRACKETS, ...PARENS], true), '@'],
  [/^mailto:/i, ''],
  [/ at /gi, '@'],
  [/ ?@ ?/g, '@'],
];

// hxxp, hXXp, h**p, h__p, h[tt]p, ht[t]p, h[xx]p and fxp, ftp's defanged form; each with its s.
const DEFANGED_SCHEME = /^(?:h(?:[x*_]{2}|\[(?:tt|xx)\]|t\[t\]|\[t\]t)p|f(?:[x*_]|\[t\])p)(s?)(?=:)/i;
const URL_PREFIX = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)(.*)$/is;

const collapseSpaces = (text: string) => text.replace(/\s+/g, ' ');

const apply = (text: string, rules: readonly Rule[]) =>
  rules.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);

/**
 * The text a defanged indicator of `type` stands for; other text comes back as it was. It does
 * not validate: {@link normaliseIndicator} does that after it.
 */
export function refang(type: string, text: string): string {
  if (!DEFANGABLE.has(type)) return text;
  if (type !== 'url') {
    // No space is part of a host, an address or a mailbox: a run of them is one gap.
    const plain = apply(collapseSpaces(text), [...BRACKET_RULES, ...PAREN_RULES, ...SPACED_RULES]);
    return type === 'email' ? apply(plain, EMAIL_RULES) : plain;
  }
  const separated = apply(text, BRACKET_RULES);
  const fanged = separated
    .replace(/\\\//g, '/') // JSON's escaped slashes, pasted from a feed
    .replace(
      DEFANGED_SCHEME,
      (scheme: string, s: string) => `${scheme[0]!.toLowerCase() === 'h' ? 'http' : 'ftp'}${s}`,
    );
  const [, scheme = '', authority = '', rest = ''] = URL_PREFIX.exec(fanged) ?? [];
  const at = authority.lastIndexOf('@');
  const host = apply(collapseSpaces(authority.slice(at + 1)), [...PAREN_RULES, ...SPACED_RULES]).trim();
  return `${scheme}${authority.slice(0, at + 1).trimStart()}${host}${rest}`;
}

// A URL with no scheme, as people type one into a browser: host (or [IPv6]), port, then a path.
const SCHEMELESS_URL = /^(?:\[[0-9a-f:.]+\]|[^\s/?#@:[\]]+)(?::\d{1,5})?(?:[/?#]|$)/i;

/**
 * Validates and canonicalises an indicator as a report carries it: defanged text is refanged
 * first, a URL without a scheme is read as `http://` (as a browser reads it), and the text as
 * written is kept as `reported` when it differs from the canonical value, so an analyst sees
 * what the reporter wrote. Control characters are refused, so `reported` is safe to display.
 * Stricter callers (contact addresses, allow-lists) use {@link normaliseObservable}.
 */
export function normaliseIndicator(type: string, raw: string): NormaliseResult {
  if (raw.length > MAX_OBSERVABLE_LENGTH) return normaliseObservable(type, raw);
  const reported = raw.trim();
  const control = findControlCharacter(reported);
  if (control) {
    return {
      ok: false,
      reason: `contains a control character (${control.codePoint} at position ${control.index})`,
    };
  }
  let text = refang(type, reported);
  // Defanging applied twice over (`{{.}}`) is not a convention anyone uses: refusing it keeps
  // every canonical value a fixed point, so the same indicator never gets two keys.
  if (refang(type, text) !== text) return { ok: false, reason: 'defanged more than once over' };
  if (type === 'url' && SCHEMELESS_URL.test(text)) {
    text = `http://${text}`;
  }
  const result = normaliseObservable(type, text);
  if (!result.ok || result.observable.value === reported) return result;
  return { ok: true, observable: { ...result.observable, reported } };
}
