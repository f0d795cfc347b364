import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEWAY_LIMITS_SUBJECT } from '@beacon/platform';
import { repoRoot, writeComposeSecrets } from '@beacon/testkit/infra';
import { variablesReadBy } from './manifests.js';
import { isReadElsewhere, NAMES, PROCESSES, SECRET_SAMPLES, SECRET_VARIABLE, type Env } from './processes.js';

interface ComposeService {
  profiles?: string[];
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string | number>;
  env_file?: string[];
  secrets?: string[];
  ports?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
}

// Docker is not on Beacon's CI machines, so the compose file never runs here: its Beacon
// services are checked against the code instead, as the Kubernetes manifests are.
const composeDir = join(repoRoot, 'infra/compose');
const compose = parse(readFileSync(join(composeDir, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
};
const scratch = mkdtempSync(join(tmpdir(), 'beacon-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** What `pnpm infra compose-secrets` writes, here in scratch instead of infra/compose/secrets. */
const secretsDir = join(scratch, 'secrets');
let written: string[];
beforeAll(async () => {
  written = await writeComposeSecrets(secretsDir);
});

/**
 * The container's environment, with its secrets at their place under scratch: the files
 * `pnpm infra compose-secrets` made (NATS credentials, signer, key set, tokens, keys) copied
 * under their secret's name, and the env file's variables stood in.
 */
function environmentOf(name: string): Env {
  const service = compose.services[name]!;
  const env: Env = Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]),
  );
  for (const file of service.env_file ?? []) {
    // Made by `pnpm infra compose-secrets`: secret variables, one per line.
    expect(file).toMatch(/^secrets\//);
    env['CORRELATION_SECRET'] = SECRET_SAMPLES['CORRELATION_SECRET']!();
  }
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const secret of service.secrets ?? []) {
    // Every secret a service mounts is a file that `pnpm infra compose-secrets` writes.
    const file = compose.secrets[secret]?.file;
    expect(file, secret).toMatch(/^secrets\//);
    expect(written, secret).toContain(file!.slice('secrets/'.length));
    writeFileSync(join(dir, secret), readFileSync(join(secretsDir, file!.slice('secrets/'.length))));
  }
  for (const [k, v] of Object.entries(env)) {
    if (v?.startsWith('/run/secrets/')) env[k] = join(dir, v.slice('/run/secrets/'.length));
  }
  return env;
}

describe('infra/compose/compose.yaml: Beacon services (profile apps)', () => {
  it.each(NAMES)('%s: built from the Dockerfile, accepted by its config parser, restricted', (name) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    expect(service!.profiles).toEqual(['apps']);
    expect(service!.build?.args?.['SERVICE']).toBe(name);
    expect(existsSync(join(composeDir, service!.build!.context, service!.build!.dockerfile))).toBe(true);
    expect(service!.read_only).toBe(true);
    expect(service!.cap_drop).toEqual(['ALL']);
    expect(service!.security_opt).toContain('no-new-privileges:true');

    const env = environmentOf(name);
    expect(() => PROCESSES[name].load(env)).not.toThrow();
    const read = variablesReadBy(PROCESSES[name].sources);
    expect(Object.keys(env).filter((v) => !read.has(v) && !isReadElsewhere(v))).toEqual([]);
    // Secrets come from files, never from the compose file itself (the local MONGO_URL has no
    // credentials in it).
    const inline = Object.entries(service!.environment ?? {}).filter(
      ([k, v]) => SECRET_VARIABLE.test(k) && !(k === 'MONGO_URL' && !String(v).includes('@')),
    );
    expect(inline).toEqual([]);
  });

  it('calls each process by its compose name on the port it binds; publishes only the gateway, on loopback', () => {
    for (const name of NAMES) {
      const env = environmentOf(name);
      for (const [variable, address] of Object.entries(env)) {
        if (!variable.endsWith('_ADDRESS') || variable === 'TEMPORAL_ADDRESS') continue;
        const [host, port] = address!.split(':') as [keyof typeof PROCESSES, string];
        expect(NAMES, `${name}: ${variable}`).toContain(host);
        expect(Number(port), `${name}: ${variable}`).toBe(PROCESSES[host].grpcPort(environmentOf(host)));
      }
      const published = compose.services[name]!.ports ?? [];
      if (name !== 'gateway') expect(published, name).toEqual([]);
    }
    const gateway = PROCESSES.gateway.load(environmentOf('gateway'));
    expect(compose.services['gateway']!.ports).toEqual([
      `127.0.0.1:${gateway.httpPort}:${gateway.httpPort}`,
      `127.0.0.1:${gateway.grpcPort}:${gateway.grpcPort}`,
    ]);
    expect(compose.services['workflows']!.environment?.['TEMPORAL_ADDRESS']).toBe('temporal:7233');
  });
  it('every process connects to NATS as its own user; only the gateway’s is narrowed, to the subject it shares limits on', () => {
    const users = new Map<string, { name: string; pub?: unknown; sub?: unknown }>();
    for (const name of NAMES) {
      const env = environmentOf(name);
      expect(env['NATS_URL'], name).toBe('nats://nats:4222');
      const loaded = PROCESSES[name].load(env) as {
        nats?: { client: { auth?: { kind: string; file?: string } } };
        limitSharing?: { nats: { auth?: { kind: string; file?: string } }; subject: string };
      };
      const auth = name === 'gateway' ? loaded.limitSharing?.nats.auth : loaded.nats?.client.auth;
      expect(auth, name).toMatchObject({ kind: 'creds' });
      expect(compose.services[name]!.secrets, name).toContain(`${name}-nats.creds`);
      users.set(name, userClaims(readFileSync(auth!.file!, 'utf8')));
    }
    for (const name of NAMES.filter((n) => n !== 'gateway')) {
      expect(users.get(name), name).toMatchObject({ name: `svc-${name}` });
      expect(users.get(name)!.pub, name).toBeUndefined();
    }
    // With NATS_URL the gateway shares its limits, on the one subject its user may use.
    const gateway = PROCESSES.gateway.load(environmentOf('gateway'));
    expect(gateway.limitSharing?.subject).toBe(GATEWAY_LIMITS_SUBJECT);
    expect(users.get('gateway')).toMatchObject({
      name: 'svc-gateway',
      pub: { allow: [GATEWAY_LIMITS_SUBJECT] },
      sub: { allow: [GATEWAY_LIMITS_SUBJECT] },
    });
    // Notify alone holds the account signing key, to mint agencies' feed credentials.
    const holders = NAMES.filter((n) => compose.services[n]!.secrets?.includes('nats-account-signer.json'));
    expect(holders).toEqual(['notify']);
    const signerFile = PROCESSES.notify.load(environmentOf('notify')).nats.accountSignerFile;
    const signer = JSON.parse(readFileSync(signerFile!, 'utf8')) as Record<string, string>;
    expect(signer['accountPublicKey']).toMatch(/^A[A-Z2-7]{55}$/);
    expect(signer['signingSeed']).toMatch(/^SA[A-Z2-7]+$/);
  });
});

/** The name and permissions in the user JWT of a `.creds` file. */
function userClaims(creds: string): { name: string; pub?: unknown; sub?: unknown } {
  const jwt = /-----BEGIN NATS USER JWT-----\n([^\n]+)\n/.exec(creds)?.[1];
  expect(jwt).toBeDefined();
  const claims = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString('utf8')) as {
    name: string;
    nats: { pub?: unknown; sub?: unknown };
  };
  return { name: claims.name, pub: claims.nats.pub, sub: claims.nats.sub };
}
