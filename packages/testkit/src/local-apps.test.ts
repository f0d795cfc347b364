import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator } from '@beacon/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { devIssuer, renewServiceTokens, SERVICE_TOKEN_SUBJECTS } from './local-apps.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    iat: number;
    exp: number;
  };

describe("the local stack's service tokens", () => {
  it('are renewed in place: owner-only, short-lived, accepted inside and refused at the public door', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-tokens-'));
    dirs.push(dir);
    const { issuer } = await devIssuer(dir);
    const first = await renewServiceTokens(dir);
    expect(first.map((f) => f.slice(dir.length + 1))).toEqual(
      SERVICE_TOKEN_SUBJECTS.map((s) => `${s}-service-token`),
    );
    const before = first.map((f) => readFileSync(f, 'utf8'));
    // A second renewal writes new tokens over the same files (ECDSA signatures differ each time).
    const again = await renewServiceTokens(dir);
    expect(again).toEqual(first);
    const config = { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } };
    for (const [i, file] of again.entries()) {
      const token = readFileSync(file, 'utf8');
      expect(token).not.toBe(before[i]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const { iat, exp } = claimsOf(token);
      expect(exp - iat).toBeLessThanOrEqual(12 * 3600);
      const inside = await createAuthenticator(config, { cacheMs: 0 }).authenticate(`Bearer ${token}`);
      expect(inside.roles).toEqual(['service']);
      await expect(
        createAuthenticator(config, { cacheMs: 0, door: 'public' }).authenticate(`Bearer ${token}`),
      ).rejects.toThrow();
    }
  });
});
