import { describe, expect, it } from 'vitest';
import { isSensitiveKey, redactDeep } from './redact.js';

describe('redactDeep', () => {
  it('knows secrets and personal data by key, in any case or separator, and by suffix', () => {
    for (const key of [
      'token',
      'accessToken',
      'refresh_token',
      'jwt',
      'creds',
      'userCreds',
      'seed',
      'signingSeed',
      'signing-seed',
      'reference',
      'caseReference',
      'secret',
      'webhookSecret',
      'password',
      'PASSWORD',
      'email',
      'contactEmail',
      'phone',
      'authorization',
      'Authorization',
      'x-api-key',
    ])
      expect(isSensitiveKey(key), key).toBe(true);
    for (const key of ['incidentId', 'agencyId', 'tokenCount', 'secretId', 'remoteAddress', 'status'])
      expect(isSensitiveKey(key), key).toBe(false);
  });

  it('returns the very object when nothing is censored, and copies only what it changes', () => {
    const clean = { a: { b: [1, 'two', { c: true }] }, at: new Date(0) };
    expect(redactDeep(clean)).toBe(clean);
    const mixed = { keep: { x: 1 }, change: { y: { token: 't' } } };
    const out = redactDeep(mixed) as typeof mixed;
    expect(out.keep).toBe(mixed.keep);
    expect(out.change).toEqual({ y: { token: '[redacted]' } });
    expect(mixed.change.y.token).toBe('t');
  });

  it('censors at depth five and beyond, inside arrays and class instances', () => {
    class Holder {
      constructor(readonly inner: unknown) {}
    }
    const value = { l1: { l2: [{ l3: { l4: new Holder({ l5: { l6: { password: 'pw', ok: 1 } } }) } }] } };
    expect(JSON.stringify(redactDeep(value))).toBe(
      JSON.stringify({
        l1: { l2: [{ l3: { l4: { inner: { l5: { l6: { password: '[redacted]', ok: 1 } } } } } }] },
      }),
    );
  });
});
