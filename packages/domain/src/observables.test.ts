import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseObservable, observableKey, OBSERVABLE_TYPES } from './observables.js';

const norm = (type: string, raw: string) => {
  const result = normaliseObservable(type, raw);
  if (!result.ok) throw new Error(`${type} "${raw}" rejected: ${result.reason}`);
  return result.observable.value;
};
const reason = (type: string, raw: string) => {
  const result = normaliseObservable(type, raw);
  if (result.ok) throw new Error(`${type} "${raw}" accepted as ${result.observable.value}`);
  return result.reason;
};

describe('IPv4', () => {
  it('accepts dotted quads and trims space', () => {
    expect(norm('ipv4', ' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(norm('ipv4', '0.0.0.0')).toBe('0.0.0.0');
  });
  it.each(['256.1.1.1', '1.2.3', '1.2.3.4.5', '010.0.0.1', '1.2.3.-4', '١.٢.٣.٤', '0x7f.0.0.1'])(
    'rejects %s',
    (raw) => {
      expect(reason('ipv4', raw)).toMatch(/IPv4/);
    },
  );
});

describe('IPv6 (RFC 5952 canonical text)', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longer run wins
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['[fe80::1]', 'fe80::1'],
    ['::FFFF:192.0.2.1', '::ffff:192.0.2.1'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ])('%s → %s', (raw, canonical) => {
    expect(norm('ipv6', raw)).toBe(canonical);
  });
  it.each([
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '12345::1',
    'fe80::1%eth0',
    ':1::',
    '1:2:3:4:5:6:7',
    'g::1',
    '::1.2.3',
  ])('rejects %s', (raw) => {
    expect(reason('ipv6', raw)).toBe('not an IPv6 address');
  });
  it('is idempotent and case-insensitive for any address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const once = norm('ipv6', address);
        expect(norm('ipv6', once)).toBe(once);
        expect(norm('ipv6', address.toUpperCase())).toBe(once);
      }),
    );
  });
});

describe('CIDR', () => {
  it('clears host bits so one network has one text', () => {
    expect(norm('cidr', '10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(norm('cidr', '192.0.2.77/26')).toBe('192.0.2.64/26');
    expect(norm('cidr', '2001:DB8::1/32')).toBe('2001:db8::/32');
    expect(norm('cidr', '2001:db8:abcd:12ff::/56')).toBe('2001:db8:abcd:1200::/56');
    expect(norm('cidr', '1.2.3.4/32')).toBe('1.2.3.4/32');
    expect(norm('cidr', '1.2.3.4/0')).toBe('0.0.0.0/0');
  });
  it.each(['1.2.3.4/33', '::/129', '1.2.3.4', 'x/8'])('rejects %s', (raw) => {
    expect(normaliseObservable('cidr', raw).ok).toBe(false);
  });
});

describe('domain', () => {
  it.each([
    ['Example.COM.', 'example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['münchen.de', 'xn--mnchen-3ya.de'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['例え。テスト', 'xn--r8jz45g.xn--zckzah'], // ideographic full stop separates labels
    ['ｅｘａｍｐｌｅ．ｃｏｍ', 'example.com'], // full-width forms fold
    ['straße.de', 'xn--strae-oqa.de'], // IDNA2008 keeps ß
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['_dmarc.example.org', '_dmarc.example.org'],
  ])('%s → %s', (raw, canonical) => {
    expect(norm('domain', raw)).toBe(canonical);
  });
  it.each([
    'localhost',
    '-bad.example',
    'bad-.example',
    'a..b',
    `${'a'.repeat(64)}.com`,
    '192.168.0.1',
    'exa mple.com',
  ])('rejects %s', (raw) => {
    expect(reason('domain', raw)).toBe('not a valid domain name');
  });
  it.each([
    ['example.ΕΛΛΆΣ', 'example.xn--hxarsa5b'], // a capital sigma folds to σ, wherever it stands
    ['example.ελλάς', 'example.xn--hxarsa0b'], // a typed final ς stays (non-transitional)
    ['ＭÜＮＣＨＥＮ．ＤＥ', 'xn--mnchen-3ya.de'], // full-width, upper-case non-ASCII
    ['ᏚᎢᎵᎬᎢᎬᏒ.example', 'xn--78da3ab6bxlyb.example'], // Cherokee folds to its capitals
    ['bü\u00ADcher.example', 'xn--bcher-kva.example'], // a soft hyphen is ignored
    ['exam\u00ADple.com', 'example.com'],
    ['a\uFE0F.com', 'a.com'], // so is a variation selector
    ['XN--BCHER-KVA.EXAMPLE', 'xn--bcher-kva.example'],
    ['r3---sn-abc.googlevideo.com', 'r3---sn-abc.googlevideo.com'], // "--" in 3rd and 4th place
  ])('maps %s as a browser does → %s', (raw, canonical) => {
    expect(norm('domain', raw)).toBe(canonical);
  });
  it.each([
    ['xn--a.com', 'an A-label that decodes to no Unicode'],
    ['xn--bcher-kv.example', 'broken Punycode'],
    ['\u0301a.com', 'a label that starts with a combining mark'],
    ['aא.com', 'left-to-right and right-to-left letters in one label'],
    ['a\u200Db.com', 'a zero-width joiner out of context'],
    ['a\u{E000}.com', 'a private-use code point'],
  ])('refuses %s (%s) as a browser does', (raw) => {
    expect(reason('domain', raw)).toBe('not a valid domain name');
  });
  it('is idempotent for any domain', () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        const once = norm('domain', domain);
        expect(norm('domain', once)).toBe(once);
      }),
    );
  });
});

describe('URL', () => {
  it.each([
    ['HTTP://Example.COM:80/a/./b/../c?q=1#frag', 'http://example.com/a/c?q=1'],
    ['https://example.com', 'https://example.com/'],
    ['https://example.com:8443/x', 'https://example.com:8443/x'],
    ['https://bücher.example/pfad', 'https://xn--bcher-kva.example/pfad'],
    ['http://example.com/%7euser/%2f%41', 'http://example.com/~user/%2FA'],
    ['http://example.com/a b', 'http://example.com/a%20b'],
    ['http://[2001:DB8::0:1]:8080/', 'http://[2001:db8::1]:8080/'],
    ['http://user:pw@192.0.2.1/login', 'http://user:pw@192.0.2.1/login'],
    ['http://example.com/../../etc', 'http://example.com/etc'],
    ['http://example.com/100%', 'http://example.com/100%25'],
    ['https://exam\u00ADple.com/x', 'https://example.com/x'],
    ['https://ＭÜＮＣＨＥＮ．ＤＥ/', 'https://xn--mnchen-3ya.de/'],
  ])('%s → %s', (raw, canonical) => {
    expect(norm('url', raw)).toBe(canonical);
  });
  it('refuses a host UTS #46 refuses, saying so', () => {
    expect(reason('url', 'https://aא.com/')).toBe('"aא.com" is not a valid host');
  });
  it.each([
    'example.com/path',
    'http://',
    'http://exa mple.com/',
    'http://example.com:99999/',
    'javascript:alert(1)',
  ])('rejects %s', (raw) => {
    expect(normaliseObservable('url', raw).ok).toBe(false);
  });
  it('is idempotent for any web URL', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const once = norm('url', url);
        expect(norm('url', once)).toBe(once);
      }),
    );
  });
});

describe('email', () => {
  it('lower-cases and converts an IDN domain', () => {
    expect(norm('email', 'Alice.Smith+x@Bücher.Example')).toBe('alice.smith+x@xn--bcher-kva.example');
    expect(norm('email', 'Ops@ＭÜＮＣＨＥＮ．ＤＥ')).toBe('ops@xn--mnchen-3ya.de');
  });
  it('refuses a domain part UTS #46 refuses, saying so', () => {
    expect(reason('email', 'a@\u0301a.org')).toBe('the domain part is not a valid domain name');
  });
  it.each([
    '@example.com',
    'a@b',
    'a..b@example.com',
    '.a@example.com',
    `${'a'.repeat(65)}@example.com`,
    'a b@example.com',
  ])('rejects %s', (raw) => {
    expect(normaliseObservable('email', raw).ok).toBe(false);
  });
});

describe('file hashes', () => {
  it('lower-cases digests of the right length', () => {
    expect(norm('md5', 'D41D8CD98F00B204E9800998ECF8427E')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(norm('sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709')).toHaveLength(40);
    expect(norm('sha256', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
  it('rejects a digest of the wrong kind or with non-hex digits', () => {
    expect(reason('sha256', 'd41d8cd98f00b204e9800998ecf8427e')).toMatch(/SHA-256/);
    expect(reason('md5', 'z41d8cd98f00b204e9800998ecf8427e')).toMatch(/MD5/);
  });
});

describe('crypto wallets', () => {
  it.each([
    ['0x52908400098527886E0F7030069857D2E4169EE7', 'ethereum:0x52908400098527886e0f7030069857d2e4169ee7'],
    ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'],
    [
      'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297',
      'bitcoin:bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297',
    ],
    ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'bitcoin:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
  ])('%s → %s', (raw, canonical) => {
    expect(norm('crypto-wallet', raw)).toBe(canonical);
  });
  it('rejects a bech32 address with a broken checksum or mixed case', () => {
    expect(reason('crypto-wallet', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5')).toMatch(/checksum/);
    expect(reason('crypto-wallet', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7KV8F3T4')).toMatch(/mix/);
  });
});

describe('phone (E.164)', () => {
  it.each([
    ['+49 (30) 1234-5678', '+493012345678'],
    ['0044 20 7946 0958', '+442079460958'],
    ['+1.202.555.0143', '+12025550143'],
  ])('%s → %s', (raw, canonical) => {
    expect(norm('phone', raw)).toBe(canonical);
  });
  it('asks for the country code', () => {
    expect(reason('phone', '030 1234 5678')).toMatch(/country code/);
    expect(reason('phone', '+0123456789')).toMatch(/E\.164/);
  });
});

describe('any observable', () => {
  it('has a type-prefixed key and refuses unknown types, empty and oversized input', () => {
    expect(observableKey({ type: 'ipv4', value: '192.0.2.1' })).toBe('ipv4:192.0.2.1');
    expect(reason('ssn', '1')).toMatch(/unknown observable type/);
    expect(reason('domain', '   ')).toBe('empty');
    expect(reason('url', `http://example.com/${'a'.repeat(3000)}`)).toMatch(/longer than/);
  });
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OBSERVABLE_TYPES),
        fc.string({ unit: 'binary', maxLength: 300 }),
        (type, raw) => {
          const result = normaliseObservable(type, raw);
          if (result.ok) expect(normaliseObservable(type, result.observable.value)).toEqual(result);
        },
      ),
    );
  });
});
