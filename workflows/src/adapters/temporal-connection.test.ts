import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '@beacon/platform';
import { loadConfig } from '../config.js';
import { temporalConnectionOptions } from './temporal-connection.js';

const base = {
  NATS_URL: 'nats://127.0.0.1:4222',
  INTAKE_ADDRESS: 'intake:50061',
  NOTIFY_ADDRESS: 'notify:50063',
  SERVICE_TOKEN_FILE: '/run/token',
  AUTH_ISSUER: 'https://id.example',
  AUTH_JWKS_URL: 'https://id.example/jwks',
  TEMPORAL_ADDRESS: 'beacon.a1b2c.tmprl.cloud:7233',
};
const optionsFor = (env: Record<string, string>) =>
  temporalConnectionOptions(loadConfig({ ...base, ...env }).temporal.connection);

describe('Temporal connection options from the TEMPORAL_* variables', () => {
  it('are plaintext with nothing set, as against the dev server', () => {
    expect(optionsFor({})).toEqual({ address: 'beacon.a1b2c.tmprl.cloud:7233' });
  });

  it('turn TLS on with TEMPORAL_TLS, verifying against the system roots', () => {
    expect(optionsFor({ TEMPORAL_TLS: 'true' })).toEqual({ address: base.TEMPORAL_ADDRESS, tls: {} });
  });

  it('send an API key only over TLS, read from its file once, and keep it out of the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-temporal-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'api-key'), 'tc-api-key-123\n');
    const config = loadConfig({ ...base, TEMPORAL_API_KEY_FILE: join(dir, 'api-key') });
    expect(JSON.stringify(config)).not.toContain('tc-api-key-123');
    expect(temporalConnectionOptions(config.temporal.connection)).toEqual({
      address: base.TEMPORAL_ADDRESS,
      tls: {},
      apiKey: 'tc-api-key-123',
    });
    expect(() => loadConfig({ ...base, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' })).toThrow(
      /TEMPORAL_TLS: is false, but TEMPORAL_TLS_\* or an API key is set/,
    );
    expect(() => loadConfig({ ...base, TEMPORAL_API_KEY: 'k', TEMPORAL_API_KEY_FILE: '/x' })).toThrow(
      ConfigError,
    );
  });

  it('check certificate files at start, naming the variable', () => {
    expect(() => loadConfig({ ...base, TEMPORAL_TLS_CERT_FILE: '/nonexistent/client.crt' })).toThrow(
      /TEMPORAL_TLS_CERT_FILE \/ TEMPORAL_TLS_KEY_FILE: set both or neither/,
    );
    expect(() => loadConfig({ ...base, TEMPORAL_TLS_CA_FILE: '/nonexistent/ca.crt' })).toThrow(
      /TEMPORAL_TLS_CA_FILE: cannot read it: ENOENT/,
    );
  });

  it('map the CA, the client pair and the server name to the SDK’s TLS options', () => {
    const files: Record<string, string> = { '/ca': 'CA', '/crt': 'CRT', '/key': 'KEY' };
    const read = (path: string) => Buffer.from(files[path]!);
    const options = temporalConnectionOptions(
      {
        address: 'temporal:7233',
        tls: { caFile: '/ca', certFile: '/crt', keyFile: '/key', serverName: 'frontend.temporal' },
      },
      read,
    );
    expect(options).toEqual({
      address: 'temporal:7233',
      tls: {
        serverNameOverride: 'frontend.temporal',
        serverRootCACertificate: Buffer.from('CA'),
        clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') },
      },
    });
  });
});
