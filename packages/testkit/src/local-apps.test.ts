import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROCESS_SCOPES } from '@beacon/domain';
import {
  createAuthenticator,
  serviceIdentityFrom,
  serviceTokens,
  startDevIdentityProvider,
  type DevClient,
} from '@beacon/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_SERVICE_CLIENTS, localServiceClients, serviceIdentityEnv } from './dev-identity.js';
import { devIssuer, writeComposeSecrets } from './local-apps.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-identities-'));
  dirs.push(dir);
  return dir;
};
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };

describe("the local stack's service identities", () => {
  it('are clients whose secrets are made once, owner-only, and whose tokens each process fetches itself', async () => {
    const dir = tempDir();
    const { issuer } = await devIssuer(dir);
    const clients = localServiceClients(dir);
    // Made once: a restart keeps every secret.
    expect(localServiceClients(dir)).toEqual(clients);
    const secrets = LOCAL_SERVICE_CLIENTS.map((p) => readFileSync(clients.secretFiles[p], 'utf8'));
    expect(new Set(secrets).size).toBe(LOCAL_SERVICE_CLIENTS.length);
    for (const file of [clients.clientsFile, ...Object.values(clients.secretFiles)]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    // The registry holds digests, never a secret.
    const registry = readFileSync(clients.clientsFile, 'utf8');
    for (const secret of secrets) expect(registry).not.toContain(secret);

    const provider = await startDevIdentityProvider({
      issuer,
      clients: JSON.parse(registry) as Record<string, DevClient>,
    });
    try {
      const config = { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } };
      for (const process of LOCAL_SERVICE_CLIENTS) {
        // The settings `make up` gives the process, read as the process reads them.
        const identity = serviceIdentityFrom(
          serviceIdentityEnv(clients, process, provider.tokenUrl),
          process,
        );
        const token = await serviceTokens(identity!)();
        const inside = await createAuthenticator(config, { cacheMs: 0 }).authenticate(`Bearer ${token}`);
        expect(inside).toMatchObject({
          subject: process,
          roles: ['service'],
          scopes: PROCESS_SCOPES[process],
        });
        const { iat, exp } = claimsOf(token);
        expect(exp - iat).toBe(3600);
        await expect(
          createAuthenticator(config, { cacheMs: 0, door: 'public' }).authenticate(`Bearer ${token}`),
        ).rejects.toThrow();
      }
    } finally {
      await provider.close();
    }
  });

  it("give the compose stack each process's token with its own scopes, owner-only, for 12 hours at most", async () => {
    const dir = tempDir();
    const files = await writeComposeSecrets(dir);
    const { issuer } = await devIssuer(dir);
    const config = { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } };
    for (const process of LOCAL_SERVICE_CLIENTS) {
      const name = `${process}-service-token`;
      expect(files).toContain(name);
      const file = join(dir, name);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readFileSync(file, 'utf8');
      const { iat, exp } = claimsOf(token);
      expect(exp - iat).toBeLessThanOrEqual(12 * 3600);
      expect(await createAuthenticator(config, { cacheMs: 0 }).authenticate(`Bearer ${token}`)).toMatchObject(
        {
          subject: process,
          scopes: PROCESS_SCOPES[process],
        },
      );
    }
  });
});
