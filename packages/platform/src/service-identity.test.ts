import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_SCOPES } from '@beacon/domain';
import { createAuthenticator, createDevIssuer, type DevIssuer } from './auth.js';
import { ConfigError } from './config.js';
import {
  secretDigest,
  startDevIdentityProvider,
  type RunningIdentityProvider,
} from './dev-identity-provider.js';
import { serviceIdentityFrom, serviceTokens, ServiceTokenError } from './service-identity.js';

let issuer: DevIssuer;
let provider: RunningIdentityProvider;
let requests = 0;
const secret = randomBytes(32).toString('base64url');
const impactSecret = randomBytes(32).toString('base64url');
const TTL = 3600;

beforeAll(async () => {
  issuer = await createDevIssuer({});
  provider = await startDevIdentityProvider({
    issuer,
    ttlSeconds: TTL,
    clients: {
      'beacon-workflows': { process: 'workflows', secretSha256: secretDigest(secret) },
      'beacon-impact': { process: 'impact', secretSha256: secretDigest(impactSecret) },
    },
  });
  provider.server.on('request', () => requests++);
});
afterAll(() => provider.close());

const internal = () =>
  createAuthenticator(
    { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } },
    { door: 'internal', cacheMs: 0 },
  );
const publicDoor = () =>
  createAuthenticator(
    { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } },
    { door: 'public', cacheMs: 0 },
  );

const clientCredentials = (clientId: string, clientSecret: string, scopes: readonly string[]) =>
  ({
    kind: 'client-credentials',
    tokenUrl: provider.tokenUrl,
    clientId,
    clientSecret: () => clientSecret,
    scopes,
  }) as const;

describe('a process fetching and renewing its own service identity (client credentials)', () => {
  it("gets a short-lived token with its own process's scopes, accepted inside and refused at the public door", async () => {
    const token = await serviceTokens(
      clientCredentials('beacon-workflows', secret, PROCESS_SCOPES.workflows),
    )();
    const principal = await internal().authenticate(`Bearer ${token}`);
    expect(principal).toMatchObject({
      subject: 'workflows',
      roles: ['service'],
      scopes: PROCESS_SCOPES.workflows,
    });
    await expect(publicDoor().authenticate(`Bearer ${token}`)).rejects.toThrow(
      'the bearer token is not valid',
    );
    const { iat, exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      number
    >;
    expect(exp! - iat!).toBe(TTL);
  });

  it('keeps its token for three quarters of its life, then renews it behind the calls, one request at a time', async () => {
    let now = Date.now();
    const token = serviceTokens(clientCredentials('beacon-impact', impactSecret, PROCESS_SCOPES.impact), {
      now: () => now,
    });
    const before = requests;
    const first = await Promise.all([token(), token(), token()]);
    expect(new Set(first).size).toBe(1);
    expect(requests - before).toBe(1);
    now += TTL * 1000 * 0.74;
    expect(await token()).toBe(first[0]);
    expect(requests - before).toBe(1);
    // Past three quarters: the old token still serves this call while a new one is fetched.
    now += TTL * 1000 * 0.02;
    expect(await token()).toBe(first[0]);
    await expect.poll(() => token()).not.toBe(first[0]);
    const renewed = await token();
    expect(requests - before).toBe(2);
    expect((await internal().authenticate(`Bearer ${renewed}`)).scopes).toEqual(PROCESS_SCOPES.impact);
  });

  it('fails a call only once the token has run out while the provider stays down', async () => {
    let now = Date.now();
    let down = false;
    const failures: Error[] = [];
    const token = serviceTokens(clientCredentials('beacon-impact', impactSecret, PROCESS_SCOPES.impact), {
      now: () => now,
      fetch: (input, init) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : fetch(input, init)),
      onRenewalFailure: (error) => failures.push(error),
    });
    const first = await token();
    down = true;
    now += TTL * 1000 * 0.8;
    expect(await token()).toBe(first);
    await expect.poll(() => failures.length).toBe(1);
    expect(failures[0]!.message).toMatch(/the token endpoint did not answer/);
    now += TTL * 1000 * 0.2;
    await expect(token()).rejects.toThrow(ServiceTokenError);
    down = false;
    expect(await token()).not.toBe(first);
  });

  it('keeps a very short-lived token for most of its life, and names no body but the error code', async () => {
    let now = Date.now();
    let refusal: { status: number; body: string } | undefined;
    let asked = 0;
    const token = serviceTokens(clientCredentials('beacon-impact', impactSecret, PROCESS_SCOPES.impact), {
      now: () => now,
      fetch: async () => {
        asked++;
        if (refusal) return new Response(refusal.body, { status: refusal.status });
        const body = { access_token: `short-${asked}`, token_type: 'bearer', expires_in: 20 };
        return new Response(JSON.stringify(body), { status: 200 });
      },
    });
    expect(await token()).toBe('short-1');
    // Past three quarters of its 20 s, and within its last 30 s: still served while renewed.
    now += 16_000;
    expect(await token()).toBe('short-1');
    await expect.poll(() => asked).toBe(2);
    expect(await token()).toBe('short-2');
    // A refusal whose body is JSON null, or carries more than a code, says only the status.
    now += 60_000;
    refusal = { status: 401, body: 'null' };
    await expect(token()).rejects.toThrow('the token endpoint refused client beacon-impact (401)');
    refusal = {
      status: 400,
      body: JSON.stringify({ error: 'invalid_scope', error_description: 'x'.repeat(500) }),
    };
    await expect(token()).rejects.toThrow(
      /^the token endpoint refused client beacon-impact \(400: invalid_scope\)$/,
    );
  });

  it('is refused a wrong secret, an unknown client and scopes beyond its process, naming no secret', async () => {
    const wrong = serviceTokens(
      clientCredentials('beacon-workflows', impactSecret, PROCESS_SCOPES.workflows),
    );
    const refusal = await wrong().catch((error: Error) => error);
    expect(refusal).toBeInstanceOf(ServiceTokenError);
    expect((refusal as Error).message).toBe(
      'the token endpoint refused client beacon-workflows (401: invalid_client)',
    );
    expect((refusal as Error).message).not.toContain(impactSecret);
    await expect(serviceTokens(clientCredentials('beacon-root', secret, []))()).rejects.toThrow(
      '(401: invalid_client)',
    );
    // Impact asking for the response worker's scopes gets nothing.
    await expect(
      serviceTokens(clientCredentials('beacon-impact', impactSecret, PROCESS_SCOPES.workflows))(),
    ).rejects.toThrow('(400: invalid_scope)');
    // The legitimate client with the same provider is served.
    await expect(
      serviceTokens(clientCredentials('beacon-impact', impactSecret, PROCESS_SCOPES.impact))(),
    ).resolves.toMatch(/^ey/);
  });
});

describe('the service identity settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-identity-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 's3cret\n', { mode: 0o600 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("asks for the process's own scopes, reading the secret from its file", () => {
    const config = serviceIdentityFrom(
      {
        SERVICE_TOKEN_URL: 'https://id.example/token',
        SERVICE_CLIENT_ID: 'beacon-impact',
        SERVICE_CLIENT_SECRET_FILE: secretFile,
      },
      'impact',
    );
    expect(config).toMatchObject({
      kind: 'client-credentials',
      clientId: 'beacon-impact',
      scopes: PROCESS_SCOPES.impact,
    });
    expect(config?.kind === 'client-credentials' && config.clientSecret()).toBe('s3cret');
    expect(serviceIdentityFrom({ SERVICE_TOKEN_FILE: '/run/token' }, 'workflows')).toEqual({
      kind: 'file',
      file: '/run/token',
    });
    expect(serviceIdentityFrom({}, 'workflows')).toBeUndefined();
  });

  it('refuses a token endpoint over plain HTTP beyond loopback, a missing client, and both ways at once', () => {
    const refused = (raw: Record<string, string>) => {
      try {
        serviceIdentityFrom(raw, 'impact');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('accepted');
    };
    expect(
      refused({
        SERVICE_TOKEN_URL: 'http://id.example/token',
        SERVICE_CLIENT_ID: 'c',
        SERVICE_CLIENT_SECRET_FILE: secretFile,
      }),
    ).toMatch(/SERVICE_TOKEN_URL: must be https/);
    expect(refused({ SERVICE_TOKEN_URL: 'https://id.example/token', SERVICE_CLIENT_ID: 'c' })).toMatch(
      /SERVICE_TOKEN_URL needs the client id and its secret/,
    );
    expect(
      refused({ SERVICE_TOKEN_URL: 'https://id.example/token', SERVICE_TOKEN_FILE: '/run/token' }),
    ).toMatch(/set at most one/);
    expect(
      serviceIdentityFrom(
        {
          SERVICE_TOKEN_URL: 'http://127.0.0.1:9/token',
          SERVICE_CLIENT_ID: 'c',
          SERVICE_CLIENT_SECRET_FILE: secretFile,
        },
        'impact',
      ),
    ).toMatchObject({ kind: 'client-credentials' });
  });
});
