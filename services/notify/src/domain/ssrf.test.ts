import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpAddress } from '@beacon/domain';
import { checkWebhookTarget, classifyAddress, invalidCidrs, webhookUrlProblem } from './ssrf.js';

const PUBLIC = ['93.184.215.14'];
const category = (text: string) => classifyAddress(parseIpAddress(text)!).category;

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['4000::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud-metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:808:808::1', 'public'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'], // Teredo, client 127.0.0.1
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // Teredo, client 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'cloud-metadata'], // Teredo, client 169.254.169.254
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'], // Teredo, client 8.8.8.8
    ['2001:2::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['2001:3::1', 'public'],
  ])('%s is %s', (address, expected) => {
    expect(category(address)).toBe(expected);
  });

  it('gives an IPv4-mapped address the category of the IPv4 address inside', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(category(`::ffff:${v4}`)).toBe(category(v4));
      }),
    );
  });
});

describe('checkWebhookTarget', () => {
  it('accepts a public https target and returns the normalised URL and the addresses to pin', () => {
    expect(
      checkWebhookTarget('https://Hooks.Example.org/beacon?x=1', [...PUBLIC, '2606:4700::1111']),
    ).toEqual({
      ok: true,
      url: 'https://hooks.example.org/beacon?x=1',
      addresses: ['93.184.215.14', '2606:4700::1111'],
    });
  });

  it.each([
    ['ftp://example.org/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://example.org:70/', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['not a url', 'invalid-url'],
    ['http://[fe80::1%25eth0]/', 'invalid-url'],
    ['https://user:pass@example.org/', 'credentials'],
    ['https://user@example.org/', 'credentials'],
    ['http://127.0.0.1:80@example.org/', 'credentials'],
  ])('refuses %s (%s) before looking at addresses', (url, reason) => {
    expect(checkWebhookTarget(url, PUBLIC)).toMatchObject({ ok: false, reason });
  });

  it.each([
    // WHATWG URL turns every one of these into 127.0.0.1 before anyone resolves anything.
    'http://0x7f000001/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0x7f.1/',
    'http://%31%32%37.0.0.1/',
    'http://①②⑦.0.0.1/',
  ])('judges the address the URL parser makes of %s: the loopback', (url) => {
    expect(checkWebhookTarget(url, [])).toMatchObject({
      ok: false,
      reason: 'forbidden-address',
      address: '127.0.0.1',
      category: 'loopback',
    });
  });

  it.each([
    ['http://[::ffff:127.0.0.1]/', '::ffff:127.0.0.1', 'loopback'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '::ffff:127.0.0.1', 'loopback'],
    ['http://[::ffff:a9fe:a9fe]/latest/meta-data/', '::ffff:169.254.169.254', 'cloud-metadata'],
    ['http://[::1]:4222/', '::1', 'loopback'],
    ['http://[::]/', '::', 'unspecified'],
    ['http://0/', '0.0.0.0', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'cloud-metadata'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'cloud-metadata'],
    ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', '2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
  ])('refuses the IP literal in %s', (url, address, expected) => {
    expect(checkWebhookTarget(url, [])).toMatchObject({
      ok: false,
      reason: 'forbidden-address',
      address,
      category: expected,
    });
  });

  it('judges an IP literal even when the adapter passes other addresses', () => {
    expect(checkWebhookTarget('http://10.0.0.1/', PUBLIC)).toMatchObject({ ok: false, category: 'private' });
  });

  it.each([
    ['10.1.2.3', 'private'],
    ['172.20.0.5', 'private'],
    ['192.168.0.10', 'private'],
    ['100.64.12.1', 'carrier-grade-nat'],
    ['fd00::5', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['169.254.0.7', 'link-local'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:10.0.0.1', 'private'],
  ])('refuses a name that resolved to %s (%s)', (address, expected) => {
    expect(checkWebhookTarget('https://hooks.example.org/', [address])).toMatchObject({
      ok: false,
      reason: 'forbidden-address',
      category: expected,
    });
  });

  it('refuses the whole target when any one of its addresses is bad (the client may pick any)', () => {
    expect(checkWebhookTarget('https://rebind.example/', [...PUBLIC, '127.0.0.1'])).toMatchObject({
      ok: false,
      address: '127.0.0.1',
    });
    expect(checkWebhookTarget('http://127.0.0.1.nip.io/', ['127.0.0.1'])).toMatchObject({
      ok: false,
      category: 'loopback',
    });
  });

  it('refuses a name that resolved to nothing, and addresses it cannot read (zone ids, junk)', () => {
    expect(checkWebhookTarget('https://hooks.example.org/', [])).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
    expect(checkWebhookTarget('https://hooks.example.org/', ['fe80::1%eth0'])).toMatchObject({
      ok: false,
      reason: 'invalid-address',
    });
    expect(checkWebhookTarget('https://hooks.example.org/', ['127.1'])).toMatchObject({
      ok: false,
      reason: 'invalid-address',
    });
  });

  it('refuses localhost names whatever they resolved to, unless every address is allowed', () => {
    for (const url of [
      'http://localhost/',
      'http://localhost./',
      'http://LOCALHOST:8080/',
      'http://api.localhost/',
    ]) {
      expect(checkWebhookTarget(url, ['127.0.0.1']), url).toMatchObject({
        ok: false,
        reason: 'localhost-name',
      });
      expect(checkWebhookTarget(url, PUBLIC), url).toMatchObject({ ok: false, reason: 'localhost-name' });
    }
    expect(
      checkWebhookTarget('http://localhost:9000/', ['127.0.0.1', '::1'], { allow: ['127.0.0.0/8', '::1'] }),
    ).toEqual({
      ok: true,
      url: 'http://localhost:9000/',
      addresses: ['127.0.0.1', '::1'],
    });
    // A host that is not localhost but only contains the word is judged by its addresses.
    expect(checkWebhookTarget('https://localhost.example.org/', PUBLIC)).toMatchObject({ ok: true });
  });

  it('lets through what an allowed block covers, including IPv6 forms of an allowed IPv4 address', () => {
    const allow = { allow: ['127.0.0.1/32', '10.20.0.0/16'] };
    expect(checkWebhookTarget('http://127.0.0.1:8088/hook', [], allow)).toMatchObject({ ok: true });
    expect(checkWebhookTarget('http://[::ffff:127.0.0.1]:8088/hook', [], allow)).toMatchObject({ ok: true });
    expect(checkWebhookTarget('https://receiver.internal/', ['10.20.3.4'], allow)).toMatchObject({
      ok: true,
    });
    expect(checkWebhookTarget('https://receiver.internal/', ['10.21.3.4'], allow)).toMatchObject({
      ok: false,
    });
    expect(checkWebhookTarget('http://127.0.0.2/', [], allow)).toMatchObject({
      ok: false,
      category: 'loopback',
    });
  });

  it('never lets cloud metadata through, not even inside an allowed block', () => {
    expect(checkWebhookTarget('http://169.254.169.254/', [], { allow: ['169.254.0.0/16'] })).toMatchObject({
      ok: false,
      reason: 'forbidden-address',
      category: 'cloud-metadata',
    });
    expect(checkWebhookTarget('http://169.254.10.10/', [], { allow: ['169.254.0.0/16'] })).toMatchObject({
      ok: true,
    });
  });

  it('throws on an allowed block it cannot read, and lists such blocks for configuration checks', () => {
    expect(() => checkWebhookTarget('https://example.org/', PUBLIC, { allow: ['10.0.0.0/40'] })).toThrow(
      RangeError,
    );
    expect(invalidCidrs(['10.0.0.0/8', '10.0.0.0/40', 'fd00::/8', 'ten'])).toEqual(['10.0.0.0/40', 'ten']);
  });

  it('has a resolution-free check for saving a URL', () => {
    expect(webhookUrlProblem('https://hooks.example.org/beacon')).toBeUndefined();
    expect(webhookUrlProblem('ftp://example.org/')).toMatch(/scheme/);
    expect(webhookUrlProblem('https://a:b@example.org/')).toMatch(/password/);
    // IP literals are judged as at delivery, in whatever spelling WHATWG parsing accepts.
    expect(webhookUrlProblem('http://2130706433/')).toBe('127.0.0.1 is loopback');
    expect(webhookUrlProblem('http://0x7f.1/')).toBe('127.0.0.1 is loopback');
    expect(webhookUrlProblem('http://[::ffff:a9fe:a9fe]/')).toMatch(/cloud metadata/);
    expect(webhookUrlProblem('http://2130706433/', { allow: ['127.0.0.0/8'] })).toBeUndefined();
  });

  it('never accepts a target any of whose addresses is not public, unless allowed', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 4 }), (addresses) => {
        const verdict = checkWebhookTarget('https://hooks.example.org/', addresses);
        const allPublic = addresses.every((a) => category(a) === 'public');
        expect(verdict.ok).toBe(allPublic);
      }),
    );
  });

  it('accepts every address when everything is allowed, except cloud metadata', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
        const verdict = checkWebhookTarget('https://hooks.example.org/', [address], {
          allow: ['0.0.0.0/0', '::/0'],
        });
        expect(verdict.ok).toBe(category(address) !== 'cloud-metadata');
      }),
    );
  });
});
