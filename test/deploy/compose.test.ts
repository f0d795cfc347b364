import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '@beacon/testkit/infra';
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

/** The container's environment, with its secret files and env files stood in under scratch. */
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
    expect(compose.secrets[secret]?.file, secret).toBe(`secrets/${secret}`);
    writeFileSync(join(dir, secret), SECRET_SAMPLES[secret]!());
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
});
