import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthenticator, createDevIssuer, type AuthenticatorOptions } from './auth.js';

const issuer = await createDevIssuer({});
const config = { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } };
const claims = {
  subject: 'analyst-1',
  roles: ['agency_analyst'] as const,
  agencyId: 'cert-fr',
  clearance: 'AMBER' as const,
};

/** Counts the signature checks jose makes (it verifies through WebCrypto). */
function countVerifications() {
  return vi.spyOn(crypto.subtle, 'verify');
}

function authenticator(options: AuthenticatorOptions = {}) {
  return createAuthenticator(config, options);
}

afterEach(() => vi.restoreAllMocks());

describe('authenticator', () => {
  it('checks a token once, then accepts it again within the cache time without checking', async () => {
    let now = Date.now();
    const auth = authenticator({ now: () => now, cacheMs: 60_000 });
    const token = await issuer.mint(claims);
    const checks = countVerifications();

    const first = await auth.authenticate(`Bearer ${token}`);
    now += 59_000;
    const again = await auth.authenticate(`Bearer ${token}`);

    expect(first).toEqual({
      subject: 'analyst-1',
      roles: ['agency_analyst'],
      agencyId: 'cert-fr',
      clearance: 'AMBER',
    });
    expect(again).toEqual(first);
    expect(checks).toHaveBeenCalledTimes(1);
    // Past the cache time, the signature is checked again.
    now += 2_000;
    await auth.authenticate(`Bearer ${token}`);
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('refuses a token past its expiry even when it was accepted before', async () => {
    let now = Date.now();
    const auth = authenticator({ now: () => now, cacheMs: 600_000 });
    const token = await issuer.mint({ ...claims, ttlSeconds: 30 });
    await auth.authenticate(`Bearer ${token}`);

    now += 30_000 + 6_000; // past `exp` and the 5 s clock tolerance
    await expect(auth.authenticate(`Bearer ${token}`)).rejects.toThrow('the bearer token is not valid');
  });

  it('never takes a token differing in its signature for one it accepted', async () => {
    const auth = authenticator();
    const token = await issuer.mint(claims);
    await auth.authenticate(`Bearer ${token}`);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;

    await expect(auth.authenticate(`Bearer ${tampered}`)).rejects.toThrow('the bearer token is not valid');
    // A token from another issuer with the same claims is no more accepted.
    const stranger = await (await createDevIssuer({ issuer: issuer.issuer })).mint(claims);
    await expect(auth.authenticate(`Bearer ${stranger}`)).rejects.toThrow('the bearer token is not valid');
  });

  it('keeps at most the configured number of tokens, dropping the oldest', async () => {
    const auth = authenticator({ cacheSize: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((s) => issuer.mint({ ...claims, subject: s })));
    const checks = countVerifications();
    for (const token of tokens) await auth.authenticate(`Bearer ${token}`);
    await auth.authenticate(`Bearer ${tokens[2]}`); // kept
    await auth.authenticate(`Bearer ${tokens[0]}`); // the oldest, gone: checked again
    expect(checks).toHaveBeenCalledTimes(4);
  });

  it('checks every time when the cache is off', async () => {
    const auth = authenticator({ cacheMs: 0 });
    const token = await issuer.mint(claims);
    const checks = countVerifications();
    await auth.authenticate(`Bearer ${token}`);
    await auth.authenticate(`Bearer ${token}`);
    expect(checks).toHaveBeenCalledTimes(2);
  });
});
