import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEMPORAL_NAMESPACE, TEMPORAL_SEARCH_ATTRIBUTES } from './components.js';
import { IMAGES } from './containers.js';
import { COMPOSE_NATS_CONFIG, writeComposeSecrets } from './local-apps.js';
import { NATS_SERVICE_USERS } from './local-nats-auth.js';
import { repoRoot } from './paths.js';

// The compose file is for Docker users and never runs here, so keep it in step by reading it.
const compose = readFileSync(join(repoRoot, 'infra/compose/compose.yaml'), 'utf8');

interface Service {
  command?: string[];
  configs?: { source: string; target: string }[];
  environment?: Record<string, string>;
  secrets?: string[];
}
const parsed = parse(compose, { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  configs: Record<string, { file: string }>;
};

describe('infra/compose/compose.yaml', () => {
  it('uses the images the container test path uses', () => {
    for (const image of Object.values(IMAGES)) expect(compose).toContain(`image: ${image}\n`);
  });

  it('registers the Beacon namespace and every search attribute the local stack registers', () => {
    expect(compose).toContain(`--namespace=${TEMPORAL_NAMESPACE}\n`);
    const registered = [...compose.matchAll(/--search-attribute=(\w+)=(\w+)/g)].map(([, k, t]) => [k, t]);
    expect(Object.fromEntries(registered)).toEqual(TEMPORAL_SEARCH_ATTRIBUTES);
  });
});

describe('infra/compose/compose.yaml with `pnpm infra compose-secrets`', () => {
  let dir: string;
  let written: string[];
  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'beacon-compose-secrets-')), 'secrets');
    written = await writeComposeSecrets(dir);
  });
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const relative = (file: string) => {
    expect(file).toMatch(/^secrets\//);
    return file.slice('secrets/'.length);
  };
  const mode = (file: string) => statSync(join(dir, file)).mode & 0o777;

  it('mounts only files compose-secrets writes; credentials, keys and tokens owner-only', () => {
    const mounted = [...Object.values(parsed.secrets), ...Object.values(parsed.configs)].map((s) =>
      relative(s.file),
    );
    for (const file of mounted) expect(written, file).toContain(file);
    expect(mode('.')).toBe(0o700);
    const secret = written.filter((f) => /\.creds$|signer|token|operator\.json$/.test(f));
    expect(secret.length).toBeGreaterThanOrEqual(NATS_SERVICE_USERS.length + 3);
    for (const file of secret) expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
    expect(mode('nats-auth')).toBe(0o700);
    // The operator and the accounts' seeds stay on this machine: no container gets them.
    expect(mounted).not.toContain('nats-auth/operator.json');
    expect(mounted).not.toContain('nats-auth/system.creds');
  });

  it('runs NATS with the operator-mode config, which admits no anonymous client', () => {
    const nats = parsed.services['nats']!;
    const config = nats.configs?.find(
      (c) => parsed.configs[c.source]?.file === `secrets/nats-auth/${COMPOSE_NATS_CONFIG}`,
    );
    expect(config).toBeDefined();
    const flag = nats.command!.indexOf('-c');
    expect(nats.command![flag + 1]).toBe(config!.target);
    const text = readFileSync(join(dir, 'nats-auth', COMPOSE_NATS_CONFIG), 'utf8');
    expect(text).toMatch(/^operator: "ey/m);
    expect(text).toMatch(/^resolver: MEMORY$/m);
    // Nothing that would let a client in without a user JWT.
    expect(text).not.toMatch(/no_auth_user|authorization|accounts\s*[:{]/);
    // Every seed is a secret of its own; the server's config holds none.
    expect(text).not.toMatch(/\bS[OAU][A-Z2-7]{50,}/);
  });

  it('gives every process that connects to NATS its own credentials, and notify the signer', () => {
    const clients = Object.entries(parsed.services).filter(([, s]) => s.environment?.['NATS_URL']);
    expect(clients.map(([name]) => name).sort()).toEqual([...NATS_SERVICE_USERS].sort());
    for (const [name, service] of clients) {
      expect(service.environment?.['NATS_CREDS_FILE'], name).toBe(`/run/secrets/${name}-nats.creds`);
      expect(service.secrets, name).toContain(`${name}-nats.creds`);
      expect(parsed.secrets[`${name}-nats.creds`]?.file, name).toBe(`secrets/nats-auth/${name}.creds`);
      const signer = service.environment?.['NATS_ACCOUNT_SIGNER_FILE'];
      expect(signer, name).toBe(name === 'notify' ? '/run/secrets/nats-account-signer.json' : undefined);
    }
  });
});
