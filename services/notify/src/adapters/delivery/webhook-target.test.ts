import { describe, expect, test } from 'vitest';
import { resolveWebhookTarget, type Resolve } from './webhook-target.js';

/** A resolver that answers from a table and counts its queries. */
function table(answers: Record<string, readonly string[] | Error>) {
  const queries: string[] = [];
  const resolve: Resolve = async (hostname) => {
    queries.push(hostname);
    const answer = answers[hostname];
    if (answer instanceof Error) throw answer;
    if (!answer) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return answer;
  };
  return { resolve, queries };
}

describe('resolveWebhookTarget', () => {
  test('a public name is pinned to the first address it resolved to', async () => {
    const dns = table({ 'hooks.example.org': ['203.0.114.7', '2001:4860::8888'] });
    const target = await resolveWebhookTarget('https://Hooks.Example.org/in?x=1', [], dns.resolve);
    expect(target).toEqual({
      ok: true,
      url: new URL('https://hooks.example.org/in?x=1'),
      address: '203.0.114.7',
      family: 4,
    });
    expect(dns.queries).toEqual(['hooks.example.org']);
  });

  test('one private address among the answers refuses the whole target', async () => {
    const dns = table({ 'mixed.example.org': ['203.0.114.7', '10.1.2.3'] });
    const target = await resolveWebhookTarget('https://mixed.example.org/', [], dns.resolve);
    expect(target).toMatchObject({ ok: false, kind: 'refused' });
    expect(target.ok || target.detail).toBe('SSRF guard (forbidden-address): 10.1.2.3 is private');
  });

  test('IP literals and malformed URLs are judged without a DNS query', async () => {
    const dns = table({});
    for (const url of [
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://169.254.169.254/latest/meta-data',
      'http://2130706433/', // 127.0.0.1 as WHATWG reads a bare number
      'ftp://files.example.org/',
      'http://user:pass@hooks.example.org/',
      'not a url',
    ]) {
      expect(await resolveWebhookTarget(url, [], dns.resolve)).toMatchObject({ ok: false, kind: 'refused' });
    }
    expect(dns.queries).toEqual([]);
  });

  test('an allowed block lets a loopback literal through, pinned to it; metadata stays refused', async () => {
    const dns = table({});
    expect(
      await resolveWebhookTarget('http://127.0.0.1:8080/hook', ['127.0.0.0/8'], dns.resolve),
    ).toMatchObject({ ok: true, address: '127.0.0.1', family: 4 });
    expect(
      await resolveWebhookTarget('http://169.254.169.254/', ['169.254.0.0/16'], dns.resolve),
    ).toMatchObject({ ok: false, kind: 'refused' });
  });

  test('localhost is refused unless every address it has is allowed', async () => {
    const dns = table({ localhost: ['127.0.0.1', '::1'] });
    expect(await resolveWebhookTarget('http://localhost/', ['127.0.0.1/32'], dns.resolve)).toMatchObject({
      ok: false,
      kind: 'refused',
    });
    expect(
      await resolveWebhookTarget('http://localhost/', ['127.0.0.1/32', '::1/128'], dns.resolve),
    ).toMatchObject({ ok: true, address: '127.0.0.1' });
  });

  test('a name that does not resolve is a failure worth retrying, not a refusal', async () => {
    const dns = table({});
    expect(await resolveWebhookTarget('https://gone.example.org/', [], dns.resolve)).toEqual({
      ok: false,
      kind: 'unresolved',
      detail: 'DNS lookup of gone.example.org failed (ENOTFOUND)',
    });
  });
});
