import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseIndicator, refang } from './defang.js';
import { normaliseObservable, OBSERVABLE_TYPES } from './observables.js';

/**
 * Indicators as threat reports, vendor advisories, CERT bulletins and feeds write them, each
 * with the canonical value it must correlate under. Every row is defanged or obfuscated in a
 * way seen in published reports; a few plain rows show that what was never defanged keeps its
 * meaning.
 */
const CORPUS: readonly (readonly [type: string, reported: string, canonical: string])[] = [
  // URLs: schemes
  ['url', 'hxxps://evil[.]example[.]com/login', 'https://evil.example.com/login'],
  ['url', 'hxxp://evil[.]example[.]com', 'http://evil.example.com/'],
  ['url', 'hXXps://evil[.]example[.]com/login', 'https://evil.example.com/login'],
  ['url', 'HXXPS://EVIL[.]EXAMPLE[.]COM/Login', 'https://evil.example.com/Login'],
  ['url', 'h**p://evil.example.com/a', 'http://evil.example.com/a'],
  ['url', 'h**ps://evil.example.com/a', 'https://evil.example.com/a'],
  ['url', 'h__ps://evil.example.com/', 'https://evil.example.com/'],
  ['url', 'h[tt]ps://evil.example.com/login', 'https://evil.example.com/login'],
  ['url', 'ht[t]p://evil.example.com/login', 'http://evil.example.com/login'],
  ['url', 'h[xx]p://evil.example.com/login', 'http://evil.example.com/login'],
  ['url', 'fxp://files[.]example[.]org/pub/x.zip', 'ftp://files.example.org/pub/x.zip'],
  ['url', 'FXP://files.example.org:21/x', 'ftp://files.example.org/x'],
  // URLs: separators
  ['url', 'hxxps[:]//evil[.]example[.]com/login', 'https://evil.example.com/login'],
  ['url', 'hxxps[://]evil[.]example[.]com/login', 'https://evil.example.com/login'],
  ['url', 'https[:]//evil.example.com/login', 'https://evil.example.com/login'],
  ['url', 'http[://]evil.example.com', 'http://evil.example.com/'],
  ['url', 'hxxp:[//]evil.example.com/x', 'http://evil.example.com/x'],
  ['url', 'hxxp[:][/][/]evil.example.com/x', 'http://evil.example.com/x'],
  ['url', 'hxxp://evil(.)example(.)com/login', 'http://evil.example.com/login'],
  ['url', 'hxxp://evil{.}example{.}com/login', 'http://evil.example.com/login'],
  ['url', 'hxxp://evil[dot]example[dot]com/login', 'http://evil.example.com/login'],
  ['url', 'hxxp://evil(dot)example(dot)com/', 'http://evil.example.com/'],
  ['url', 'hxxp://evil[DOT]example[DOT]com/', 'http://evil.example.com/'],
  ['url', 'hxxp://evil . example . com/login', 'http://evil.example.com/login'],
  ['url', 'hxxps://evil\\.example\\.com/login', 'https://evil.example.com/login'],
  ['url', 'https:\\/\\/evil.example.com\\/login', 'https://evil.example.com/login'],
  ['url', 'hxxps://paypal[.]com[@]evil[.]example/', 'https://paypal.com@evil.example/'],
  // URLs: ports, addresses, paths, no scheme
  ['url', 'hxxps://evil[.]example[.]com[:]8443/gate[.]php', 'https://evil.example.com:8443/gate.php'],
  ['url', 'hxxps://evil[.]example[.]com:443/login', 'https://evil.example.com/login'],
  ['url', 'hxxp://192[.]0[.]2[.]1:8080/bins/x86', 'http://192.0.2.1:8080/bins/x86'],
  ['url', 'hxxp://[2001:db8[:][:]1]/', 'http://[2001:db8::1]/'],
  ['url', 'hxxps://bücher[.]example/pfad', 'https://xn--bcher-kva.example/pfad'],
  ['url', 'hxxps://evil[.]example[.]com/a(.)b', 'https://evil.example.com/a(.)b'], // a path's own
  ['url', 'hxxps://evil[.]example[.]com/login?next=/a#top', 'https://evil.example.com/login?next=/a'],
  ['url', 'evil[.]example[.]com/login', 'http://evil.example.com/login'],
  ['url', 'evil[.]example[.]com[:]8080/path?q=1', 'http://evil.example.com:8080/path?q=1'],
  ['url', '192[.]0[.]2[.]1/shell.sh', 'http://192.0.2.1/shell.sh'],
  ['url', 'HTTPS://Evil.Example.COM/login', 'https://evil.example.com/login'],
  // Domains
  ['domain', 'evil[.]example[.]com', 'evil.example.com'],
  ['domain', 'evil(.)example(.)com', 'evil.example.com'],
  ['domain', 'evil{.}example{.}com', 'evil.example.com'],
  ['domain', 'evil<.>example<.>com', 'evil.example.com'],
  ['domain', 'evil[dot]example[dot]com', 'evil.example.com'],
  ['domain', 'evil(dot)example(dot)com', 'evil.example.com'],
  ['domain', 'evil{DOT}example{DOT}com', 'evil.example.com'],
  ['domain', 'evil . example . com', 'evil.example.com'],
  ['domain', 'evil dot example dot com', 'evil.example.com'],
  ['domain', 'evil [.] example [.] com', 'evil.example.com'],
  ['domain', 'evil[ . ]example[ . ]com', 'evil.example.com'],
  ['domain', 'EVIL[.]Example[.]COM', 'evil.example.com'],
  ['domain', 'evil.example[.]com', 'evil.example.com'],
  ['domain', 'evil[.]example[.]com[.]', 'evil.example.com'],
  ['domain', 'evil\\.example\\.com', 'evil.example.com'],
  ['domain', 'bücher[.]example', 'xn--bcher-kva.example'],
  ['domain', '_dmarc[.]example[.]org', '_dmarc.example.org'],
  // IPv4
  ['ipv4', '192[.]0[.]2[.]1', '192.0.2.1'],
  ['ipv4', '1.2.3[.]4', '1.2.3.4'],
  ['ipv4', '198(.)51(.)100(.)7', '198.51.100.7'],
  ['ipv4', '203[dot]0[dot]113[dot]9', '203.0.113.9'],
  ['ipv4', '192 . 0 . 2 . 1', '192.0.2.1'],
  ['ipv4', '192{.}0{.}2{.}1', '192.0.2.1'],
  ['ipv4', '10[.]0[.]0[.]1', '10.0.0.1'],
  // IPv6
  ['ipv6', '2001[:]db8[:][:]1', '2001:db8::1'],
  ['ipv6', '2001:DB8[:]:1', '2001:db8::1'],
  ['ipv6', '[2001:db8[:][:]1]', '2001:db8::1'],
  ['ipv6', '::ffff:192[.]0[.]2[.]1', '::ffff:192.0.2.1'],
  // CIDR
  ['cidr', '198[.]51[.]100[.]0/24', '198.51.100.0/24'],
  ['cidr', '198.51.100.77[/]24', '198.51.100.0/24'],
  ['cidr', '2001[:]db8[:][:]/32', '2001:db8::/32'],
  // E-mail
  ['email', 'user[@]example[.]com', 'user@example.com'],
  ['email', 'user[at]example[dot]com', 'user@example.com'],
  ['email', 'user(at)example(dot)com', 'user@example.com'],
  ['email', 'User{at}Example{.}com', 'user@example.com'],
  ['email', 'user AT example DOT com', 'user@example.com'],
  ['email', 'user at example dot com', 'user@example.com'],
  ['email', 'first[.]last[@]evil[.]example', 'first.last@evil.example'],
  ['email', 'user @ example . com', 'user@example.com'],
  ['email', 'mailto:user[@]example[.]com', 'user@example.com'],
  ['email', 'user[ at ]example[ dot ]com', 'user@example.com'],
  ['email', 'user(@)example(.)com', 'user@example.com'],
  ['email', 'billing[at]bücher[.]example', 'billing@xn--bcher-kva.example'],
];

describe('the defang corpus', () => {
  it('has at least 50 variants, each a different text', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CORPUS.map(([type, raw]) => `${type}:${raw}`)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS)('%s %s → %s, keeping what was reported', (type, raw, canonical) => {
    const result = normaliseIndicator(type, `  ${raw} `);
    expect(result).toEqual({ ok: true, observable: { type, value: canonical, reported: raw } });
  });

  it('correlates every spelling of one indicator under one key', () => {
    const spellings = CORPUS.filter(([type, , value]) => type === 'domain' && value === 'evil.example.com');
    const values = new Set(spellings.map(([type, raw]) => normaliseIndicator(type, raw)).map(valueOf));
    expect(values).toEqual(new Set(['evil.example.com']));
  });
});

const valueOf = (result: ReturnType<typeof normaliseIndicator>) =>
  result.ok ? result.observable.value : `refused: ${result.reason}`;

describe('what stays refused', () => {
  it.each([
    ['url', 'hxxp://'],
    ['url', 'hxxps://evil[.]'],
    ['url', 'hxxp://exa mple[.]com/'],
    ['url', 'javascript[:]alert(1)'],
    ['url', 'mailto[:]user[@]example[.]com'],
    ['url', 'hxxp://evil[.]example[.]com:99999/'],
    ['url', 'localhost[:]8080/admin'],
    ['url', '[.]'],
    ['url', 'not an indicator'],
    ['url', 'hxxp://evil[.]example[.]com/\u0000x'],
    ['url', 'hxxp://evil[.]example[.]com/\u202egnp.exe'],
    ['domain', 'evil[.]example[.]com/path'],
    ['domain', '[dot]com'],
    ['domain', 'evil[.][.]com'],
    ['domain', 'evil[..]com'],
    ['domain', 'evil[at]example[.]com'],
    ['domain', 'evil{{.}}example{{.}}com'],
    ['domain', '192[.]168[.]0[.]1'],
    ['domain', 'localhost'],
    ['ipv4', '192[.]0[.]2'],
    ['ipv4', '999[.]1[.]1[.]1'],
    ['ipv4', '010[.]0[.]0[.]1'],
    ['ipv4', '1[.]2[.]3[.]4[.]5'],
    ['ipv4', 'evil[.]example[.]com'],
    ['ipv4', '192[.]0[.]2[.]1[:]443'],
    ['ipv6', '2001[:]db8[:][:][:]1'],
    ['ipv6', 'fe80[:][:]1%eth0'],
    ['cidr', '198[.]51[.]100[.]0[/]33'],
    ['email', 'user[at]'],
    ['email', '[at]example[.]com'],
    ['email', 'user[at]example'],
    ['email', 'a b at example dot com'],
    ['md5', 'd41d8cd98f00b204e9800998ecf8427e[.]'],
    ['sha256', 'e3b0c442[.]98fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['phone', '+49[.]30[.]1234[.]5678'],
    ['ssn', '123[.]45[.]6789'],
  ])('%s %s', (type, raw) => {
    expect(normaliseIndicator(type, raw).ok).toBe(false);
  });

  it('says why, as the strict rules do', () => {
    expect(normaliseIndicator('ipv4', '999[.]1[.]1[.]1')).toEqual(normaliseObservable('ipv4', '999.1.1.1'));
    expect(normaliseIndicator('url', 'x\ny')).toEqual({
      ok: false,
      reason: 'contains a control character (U+000A at position 1)',
    });
    expect(normaliseIndicator('domain', 'a{{.}}b.com')).toEqual({
      ok: false,
      reason: 'defanged more than once over',
    });
    expect(normaliseIndicator('url', `hxxp://e[.]com/${'a'.repeat(3000)}`)).toMatchObject({ ok: false });
  });
});

describe('what was never defanged', () => {
  it('keeps no reported form when the text is already canonical', () => {
    expect(normaliseIndicator('url', 'https://evil.example.com/login')).toEqual({
      ok: true,
      observable: { type: 'url', value: 'https://evil.example.com/login' },
    });
  });

  it('leaves digests, wallets and phone numbers to their own rules', () => {
    expect(refang('md5', 'a[.]b')).toBe('a[.]b');
    expect(valueOf(normaliseIndicator('phone', '+49 (30) 1234-5678'))).toBe('+493012345678');
  });

  it('reads a URL path’s parentheses and a strict caller’s input as they are', () => {
    expect(refang('url', 'http://a(.)b@example.com/(at)(dot)')).toBe('http://a(.)b@example.com/(at)(dot)');
    expect(normaliseObservable('url', 'hxxp://evil.example.com/')).toMatchObject({ ok: true });
    expect(normaliseObservable('domain', 'evil[.]example[.]com').ok).toBe(false);
  });

  it('gives any canonical domain, address or web URL the same value as the strict rules', () => {
    const same = (type: string) => (text: string) => {
      const strict = normaliseObservable(type, text);
      expect(valueOf(normaliseIndicator(type, text))).toBe(
        strict.ok ? strict.observable.value : valueOf(strict),
      );
    };
    fc.assert(fc.property(fc.domain(), same('domain')));
    fc.assert(fc.property(fc.ipV4(), same('ipv4')));
    fc.assert(fc.property(fc.ipV6(), same('ipv6')));
    fc.assert(fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), same('url')));
  });
});

describe('hostile input', () => {
  it('costs time linear in its length: a full request of long space runs is refused in well under a second', () => {
    // Each of these took a third of a second when spaces around a token were matched by `\s*`
    // from every position; a request carries up to 500 of them.
    const hostile = [
      `a${' '.repeat(2046)}b`,
      `(${' '.repeat(2046)}.`,
      `x@${' '.repeat(2045)}@`,
      `a${'[ '.repeat(1023)}`,
      `hxxp://e${' '.repeat(2030)}x`,
    ];
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      for (const type of ['url', 'domain', 'email', 'ipv4', 'ipv6', 'cidr']) {
        for (const raw of hostile) expect(normaliseIndicator(type, raw).ok).toBe(false);
      }
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('any indicator', () => {
  const defangedText = fc.stringMatching(
    /^(h[xX*_]{2}ps?(\[:\]|:|\[:\/\/\])\/{0,2})?[a-z0-9 @:/.-]{0,12}((\[|\(|\{)(\.|dot|at|@|:)(\]|\)|\}))?[a-z0-9 .:@/-]{0,12}$/,
  );
  it('never throws, and its canonical value is its own canonical value, with no reported form', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OBSERVABLE_TYPES),
        fc.oneof(defangedText, fc.string({ unit: 'binary', maxLength: 80 })),
        (type, raw) => {
          const result = normaliseIndicator(type, raw);
          if (!result.ok) return;
          const { value } = result.observable;
          expect(normaliseIndicator(type, value)).toEqual({ ok: true, observable: { type, value } });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
