import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
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
      scopes: [],
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
    // Refused by the profile's own look at `exp`, before any signature check.
    const checks = countVerifications();
    await expect(auth.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      cause: { message: 'expired' },
    });
    expect(checks).not.toHaveBeenCalled();
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

/** The dev issuer's private key, to sign tokens a legitimate issuer would never send. */
const signingKey = await importJWK(issuer.privateJwk, 'ES256');
const kid = issuer.privateJwk.kid!;

/** A person's token with every field Beacon requires, each overridable to craft a bad one. */
function crafted(
  options: {
    header?: Record<string, unknown>;
    payload?: JWTPayload;
    drop?: readonly string[];
    iat?: number;
    ttl?: number;
  } = {},
): Promise<string> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    sub: 'analyst-1',
    roles: ['agency_analyst'],
    agency_id: 'cert-fr',
    tlp_clearance: 'AMBER',
    iss: issuer.issuer,
    aud: issuer.audience,
    iat,
    exp: iat + (options.ttl ?? 3600),
    ...options.payload,
  };
  for (const claim of options.drop ?? []) delete payload[claim];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...options.header })
    .sign(signingKey);
}

/** Expects the token refused as invalid, for `reason`, without any signature check. */
async function refusedUnread(token: string, reason: RegExp, auth = authenticator({ cacheMs: 0 })) {
  const checks = countVerifications();
  checks.mockClear(); // the spy is shared with earlier checks in the same test
  const refusal: unknown = await auth.authenticate(`Bearer ${token}`).catch((error: unknown) => error);
  expect(refusal).toMatchObject({ name: 'AuthenticationError', message: 'the bearer token is not valid' });
  expect((refusal as Error).cause).toBeInstanceOf(Error);
  expect(((refusal as Error).cause as Error).message).toMatch(reason);
  expect(checks).not.toHaveBeenCalled();
}

describe('the token profile (RFC 9068, RFC 8725)', () => {
  it('accepts a legitimate at+jwt access token, and one typed application/at+jwt', async () => {
    const auth = authenticator({ cacheMs: 0 });
    const expected = {
      subject: 'analyst-1',
      roles: ['agency_analyst'],
      agencyId: 'cert-fr',
      clearance: 'AMBER',
      scopes: [],
    };
    expect(await auth.authenticate(`Bearer ${await crafted()}`)).toEqual(expected);
    const long = await crafted({ header: { typ: 'application/AT+JWT' } });
    expect(await auth.authenticate(`Bearer ${long}`)).toEqual(expected);
    // The dev issuer mints the same profile.
    expect(await auth.authenticate(`Bearer ${await issuer.mint(claims)}`)).toEqual(expected);
  });

  it('refuses a token without exp, which would never expire', async () => {
    await refusedUnread(await crafted({ drop: ['exp'] }), /^no exp$/);
  });

  it('refuses a token without iat, or issued in the future beyond the clock skew', async () => {
    await refusedUnread(await crafted({ drop: ['iat'] }), /^no iat$/);
    const yearAhead = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
    await refusedUnread(await crafted({ iat: yearAhead }), /iat in the future/);
    // A few seconds ahead is a clock's difference, not an attack: served.
    const auth = authenticator({ cacheMs: 0 });
    await expect(
      auth.authenticate(`Bearer ${await crafted({ iat: Math.floor(Date.now() / 1000) + 3 })}`),
    ).resolves.toMatchObject({ subject: 'analyst-1' });
  });

  it('refuses a token not yet valid (nbf)', async () => {
    const soon = Math.floor(Date.now() / 1000) + 600;
    await refusedUnread(await crafted({ payload: { nbf: soon } }), /nbf/);
  });

  it('refuses other types, unless configured (an issuer that sends JWT)', async () => {
    await refusedUnread(await crafted({ header: { typ: 'JWT' } }), /^typ JWT$/);
    await refusedUnread(await crafted({ drop: [], header: { typ: undefined } }), /^typ undefined$/);
    const lenient = createAuthenticator({ ...config, tokenTypes: ['at+jwt', 'JWT'] }, { cacheMs: 0 });
    await expect(
      lenient.authenticate(`Bearer ${await crafted({ header: { typ: 'JWT' } })}`),
    ).resolves.toMatchObject({ subject: 'analyst-1' });
    await refusedUnread(await crafted({ header: { typ: 'dpop+jwt' } }), /typ/, lenient);
  });

  it('refuses alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid }));
    const [, payload] = (await crafted()).split('.');
    await refusedUnread(`${header}.${payload}.`, /not a signed JWT|alg none/);
    await refusedUnread(`${header}.${payload}.c2ln`, /alg none/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const { d: _d, ...publicJwk } = issuer.privateJwk;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const payload = JSON.parse(
      new TextDecoder().decode(base64url.decode((await crafted()).split('.')[1]!)),
    ) as JWTPayload;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
      .sign(secret);
    await refusedUnread(token, /alg HS256/);
  });

  it('refuses a token that embeds its own key (jwk header), signed by that key', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(pair.publicKey);
    const payload = JSON.parse(
      new TextDecoder().decode(base64url.decode((await crafted()).split('.')[1]!)),
    ) as JWTPayload;
    for (const header of [{ jwk }, { jku: 'https://attacker.example/jwks' }, { x5c: ['MIIB'] }]) {
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header })
        .sign(pair.privateKey);
      await refusedUnread(token, /embedded key header/);
    }
  });

  it('refuses an unknown kid and a malformed token before any signature check', async () => {
    await refusedUnread(await crafted({ header: { kid: 'someone-elses-key' } }), /unknown kid/);
    await refusedUnread(await crafted({ header: { kid: undefined } }), /no kid/);
    await refusedUnread('eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln', /not a signed JWT/);
    await refusedUnread('a'.repeat(9_000), /longer than 8 KiB/);
  });

  it('refuses an expired token', async () => {
    await refusedUnread(await crafted({ iat: Math.floor(Date.now() / 1000) - 7200 }), /^expired$/);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    await refusedUnread(await crafted({ payload: { aud: 'someone-else' } }), /^aud$/);
    await refusedUnread(await crafted({ payload: { iss: 'https://attacker.example' } }), /^iss$/);
  });

  it('refuses a lifetime over the maximum (12 h by default, configurable)', async () => {
    await refusedUnread(await crafted({ ttl: 12 * 3600 + 1 }), /^lifetime$/);
    await refusedUnread(await crafted({ ttl: 30 * 24 * 3600 }), /^lifetime$/);
    const auth = authenticator({ cacheMs: 0 });
    await expect(auth.authenticate(`Bearer ${await crafted({ ttl: 12 * 3600 })}`)).resolves.toMatchObject({
      subject: 'analyst-1',
    });
    const strict = createAuthenticator({ ...config, maxLifetimeSeconds: 3600 }, { cacheMs: 0 });
    await refusedUnread(await crafted({ ttl: 3601 }), /^lifetime$/, strict);
  });

  it('checks the signature last: a tampered token with a valid profile is refused', async () => {
    const [header, payload] = (await crafted()).split('.');
    const other = (await crafted({ payload: { sub: 'someone-else' } })).split('.')[2];
    const auth = authenticator({ cacheMs: 0 });
    await expect(auth.authenticate(`Bearer ${header}.${payload}.${other}`)).rejects.toMatchObject({
      message: 'the bearer token is not valid',
      cause: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
    });
  });
});

describe('two audiences: people at every door, Beacon services on the internal network only', () => {
  const service = {
    subject: 'workflows',
    roles: ['service'] as const,
    clearance: 'RED' as const,
    scopes: ['incidents:read', 'victims:follow-up'] as const,
  };

  it('accepts a service identity internally and refuses it at the public door, as any invalid token', async () => {
    const token = await issuer.mint(service);
    const internal = authenticator({ door: 'internal', cacheMs: 0 });
    expect(await internal.authenticate(`Bearer ${token}`)).toEqual({
      subject: 'workflows',
      roles: ['service'],
      agencyId: undefined,
      clearance: 'RED',
      scopes: ['incidents:read', 'victims:follow-up'],
    });
    await refusedUnread(token, /^aud$/, authenticator({ door: 'public', cacheMs: 0 }));
    // A person's token is served at both.
    const person = await issuer.mint(claims);
    for (const door of ['public', 'internal'] as const) {
      await expect(authenticator({ door }).authenticate(`Bearer ${person}`)).resolves.toMatchObject({
        subject: 'analyst-1',
      });
    }
  });

  it("takes a service identity's scopes from its `scope` claim, and never a person's", async () => {
    const auth = authenticator({ door: 'internal', cacheMs: 0 });
    // Scopes Beacon does not know grant nothing (an identity provider may add its own).
    const withForeign = await crafted({
      payload: {
        aud: issuer.serviceAudience,
        roles: ['service'],
        sub: 'impact',
        scope: 'incidents:read profile incidents:severity admin',
      },
      drop: ['agency_id'],
    });
    expect((await auth.authenticate(`Bearer ${withForeign}`)).scopes).toEqual([
      'incidents:read',
      'incidents:severity',
    ]);
    // A person's token with a scope claim (OpenID Connect adds one) carries no service scopes.
    const person = await crafted({ payload: { scope: 'openid incidents:read agencies:read' } });
    expect(await auth.authenticate(`Bearer ${person}`)).toMatchObject({ subject: 'analyst-1', scopes: [] });
    // A service identity without the claim is accepted and may do nothing.
    const bare = await issuer.mint({ subject: 'workflows', roles: ['service'], clearance: 'RED' });
    expect((await auth.authenticate(`Bearer ${bare}`)).scopes).toEqual([]);
  });
  it("refuses role service under the people's audience, everywhere", async () => {
    const token = await issuer.mint({ ...service, audience: issuer.audience });
    for (const door of ['public', 'internal'] as const) {
      await expect(authenticator({ door }).authenticate(`Bearer ${token}`)).rejects.toMatchObject({
        message: 'the bearer token is not valid',
        cause: { message: 'role service for a person' },
      });
    }
    // A person's roles alongside service are no better.
    const mixed = await issuer.mint({
      ...claims,
      roles: ['agency_analyst', 'service'],
      audience: issuer.audience,
    });
    await expect(authenticator().authenticate(`Bearer ${mixed}`)).rejects.toThrow(
      'the bearer token is not valid',
    );
  });

  it('refuses a person under the service audience, and a token for both audiences', async () => {
    const person = await issuer.mint({ ...claims, audience: issuer.serviceAudience });
    await expect(authenticator().authenticate(`Bearer ${person}`)).rejects.toMatchObject({
      cause: { message: 'a service identity with other roles' },
    });
    const both = await crafted({
      payload: { aud: [issuer.audience, issuer.serviceAudience], roles: ['service'] },
    });
    await refusedUnread(both, /^aud$/, authenticator({ door: 'internal', cacheMs: 0 }));
  });

  it('caps service identities to their own maximum lifetime', async () => {
    const internal = createAuthenticator({ ...config, maxServiceLifetimeSeconds: 3600 }, { cacheMs: 0 });
    await expect(
      internal.authenticate(`Bearer ${await issuer.mint({ ...service, ttlSeconds: 3600 })}`),
    ).resolves.toMatchObject({ subject: 'workflows' });
    await refusedUnread(await issuer.mint({ ...service, ttlSeconds: 3601 }), /^lifetime$/, internal);
  });

  it('refuses one audience for both kinds', () => {
    expect(() => createAuthenticator({ ...config, serviceAudience: config.audience })).toThrow(/must differ/);
  });
});
