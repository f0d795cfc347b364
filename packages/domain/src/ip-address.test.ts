import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyIpAddress, formatIpAddress, inCidr, parseCidr, parseIpAddress } from './ip-address.js';

describe('IP addresses', () => {
  it('parses dotted quads and IPv6 into bytes', () => {
    expect(parseIpAddress('192.0.2.1')).toEqual({ version: 4, bytes: [192, 0, 2, 1] });
    expect(parseIpAddress('::1')?.bytes).toEqual([...Array<number>(15).fill(0), 1]);
    expect(parseIpAddress('[2001:db8::ff:1]')?.bytes).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 1,
    ]);
    expect(parseIpAddress('::ffff:127.0.0.1')?.bytes).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1,
    ]);
    expect(parseIpAddress('1::')?.bytes).toEqual([0, 1, ...Array<number>(14).fill(0)]);
  });

  it('refuses what the observable rules refuse: leading zeros, short forms, zone ids, names', () => {
    for (const text of [
      '010.0.0.1',
      '::ffff:010.0.0.1',
      '::ffff:0x7f.0.0.1',
      '::ffff:127.1',
      '127.1',
      '0x7f000001',
      '2130706433',
      'fe80::1%eth0',
      'localhost',
      '',
      '1.2.3.4.5',
    ]) {
      expect(parseIpAddress(text), text).toBeUndefined();
    }
  });

  it('reads ::a.b.c.d as the IPv4-compatible address it spells, not as IPv4-mapped', () => {
    const address = parseIpAddress('::127.0.0.1')!;
    expect(address.bytes).toEqual([...Array<number>(12).fill(0), 127, 0, 0, 1]);
    expect(formatIpAddress(address)).toBe('::7f00:1');
  });

  it('formats canonically', () => {
    expect(formatIpAddress(parseIpAddress('2001:0DB8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
    expect(formatIpAddress(parseIpAddress('0:0:0:0:0:ffff:7f00:1')!)).toBe('::ffff:127.0.0.1');
  });

  it('reads CIDR blocks, bare addresses as single-address blocks', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ base: { version: 4, bytes: [10, 0, 0, 0] }, prefix: 8 });
    expect(parseCidr('127.0.0.1')?.prefix).toBe(32);
    expect(parseCidr('::1')?.prefix).toBe(128);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('nonsense/8')).toBeUndefined();
  });

  it('tests membership bit by bit, never across versions', () => {
    const block = parseCidr('100.64.0.0/10')!;
    expect(inCidr(parseIpAddress('100.64.0.0')!, block)).toBe(true);
    expect(inCidr(parseIpAddress('100.127.255.255')!, block)).toBe(true);
    expect(inCidr(parseIpAddress('100.128.0.0')!, block)).toBe(false);
    expect(inCidr(parseIpAddress('100.63.255.255')!, block)).toBe(false);
    expect(inCidr(parseIpAddress('::ffff:100.64.0.1')!, block)).toBe(false);
    expect(inCidr(parseIpAddress('8.8.8.8')!, parseCidr('0.0.0.0/0')!)).toBe(true);
  });

  it('round-trips every IPv4 and IPv6 address through text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const address = parseIpAddress(text)!;
        expect(address).toBeDefined();
        expect(parseIpAddress(formatIpAddress(address))).toEqual(address);
      }),
    );
  });

  it('puts an address in a block exactly when their first prefix bits agree', () => {
    const bits = (bytes: readonly number[]) => bytes.flatMap((b) => [...b.toString(2).padStart(8, '0')]);
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (a, b, prefix) => {
        const address = parseIpAddress(a)!;
        const base = parseIpAddress(b)!;
        const expected =
          bits(address.bytes).slice(0, prefix).join('') === bits(base.bytes).slice(0, prefix).join('');
        expect(inCidr(address, { base, prefix })).toBe(expected);
      }),
    );
  });
});

describe('classifyIpAddress', () => {
  const classify = (text: string) => {
    const { range, embedded } = classifyIpAddress(parseIpAddress(text)!);
    return embedded ? `${range} via ${formatIpAddress(embedded)}` : range;
  };

  it.each([
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'], // documentation (RFC 9637)
    ['2001:2::1', 'reserved'], // benchmarking (RFC 5180)
    ['2001:1::1', 'reserved'], // IETF protocol assignments
    ['5f00::1', 'reserved'],
    ['2001:3::1', 'public'], // AMT, globally reachable
    ['2620:4f:8000::1', 'public'], // AS112
    ['192.175.48.1', 'public'], // AS112
    ['64:ff9b:1::1', 'private'],
  ])('%s is %s', (address, expected) => {
    expect(classify(address)).toBe(expected);
  });

  it.each([
    ['::ffff:10.0.0.1', 'private via 10.0.0.1'],
    ['64:ff9b::7f00:1', 'loopback via 127.0.0.1'],
    ['2002:a9fe:a9fe::1', 'link-local via 169.254.169.254'],
    // Teredo stores the client's address with every bit inverted.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback via 127.0.0.1'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public via 8.8.8.8'],
    ['::10.0.0.1', 'private via 10.0.0.1'],
    ['::8.8.8.8', 'reserved via 8.8.8.8'],
  ])('gives %s the range of the IPv4 address it carries: %s', (address, expected) => {
    expect(classify(address)).toBe(expected);
  });
});
