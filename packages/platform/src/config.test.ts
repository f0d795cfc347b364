import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AUTH_ENV,
  authConfigFrom,
  beaconEnvFrom,
  ConfigError,
  env,
  NATS_CLIENT_ENV,
  natsClientFrom,
  parseConfig,
} from './config.js';

const schema = {
  PORT: env.port(50051),
  NATS_URL: env.url(['nats', 'tls']),
  DEBUG: env.flag(false),
  NAME: z.string().min(1),
};

describe('parseConfig', () => {
  it('returns a typed, frozen object with defaults applied', () => {
    const config = parseConfig(schema, { NATS_URL: 'nats://127.0.0.1:4222', NAME: 'intake' });
    expect(config).toEqual({ PORT: 50051, NATS_URL: 'nats://127.0.0.1:4222', DEBUG: false, NAME: 'intake' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable at once', () => {
    let caught: unknown;
    try {
      parseConfig(schema, { PORT: '70000', NATS_URL: 'http://x', DEBUG: 'yes' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const variables = (caught as ConfigError).issues.map((i) => i.variable).sort();
    expect(variables).toEqual(['DEBUG', 'NAME', 'NATS_URL', 'PORT']);
    expect((caught as ConfigError).message).toContain('NATS_URL: must be a URL with scheme nats or tls');
  });

  it("accepts a MongoDB replica set's seed list, which is no WHATWG URL, and refuses malformed ones", () => {
    const mongo = { MONGO_URL: env.url(['mongodb', 'mongodb+srv']) };
    for (const url of [
      'mongodb://beacon:p%40ss@db-0.example:27017,db-1.example:27017,db-2.example/beacon?replicaSet=rs0&tls=true',
      'mongodb://127.0.0.1:27017/',
      'mongodb+srv://beacon:pw@cluster0.example/?retryWrites=true',
    ]) {
      expect(parseConfig(mongo, { MONGO_URL: url }).MONGO_URL).toBe(url);
    }
    for (const url of [
      'mongodb://',
      'mongodb://db-0:27017,/x',
      'mongodb://db 0:27017',
      'mongodb+srv://cluster0.example:27017/',
      'mongodb+srv://a.example,b.example/',
      'postgres://db:5432/',
    ]) {
      expect(() => parseConfig(mongo, { MONGO_URL: url }), url).toThrow(ConfigError);
    }
  });

  it('coerces ports and rejects non-integers', () => {
    expect(parseConfig({ PORT: env.port(1) }, { PORT: '8080' }).PORT).toBe(8080);
    expect(() => parseConfig({ PORT: env.port(1) }, { PORT: '80.5' })).toThrow(ConfigError);
  });
});

describe('authConfigFrom', () => {
  const base = { AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'beacon' };

  it('takes a JWKS URL', () => {
    const raw = parseConfig(AUTH_ENV, { ...base, AUTH_JWKS_URL: 'https://id.example/jwks' });
    expect(authConfigFrom(raw)).toEqual({
      issuer: 'https://id.example',
      audience: 'beacon',
      serviceAudience: 'beacon-internal',
      jwks: { url: 'https://id.example/jwks' },
      tokenTypes: ['at+jwt'],
      maxLifetimeSeconds: 12 * 3600,
      maxServiceLifetimeSeconds: 12 * 3600,
    });
  });

  it('takes the token types and lifetimes an issuer needs, within bounds', () => {
    const raw = parseConfig(AUTH_ENV, {
      ...base,
      AUTH_JWKS_URL: 'https://id.example/jwks',
      AUTH_SERVICE_AUDIENCE: 'beacon-services',
      AUTH_TOKEN_TYPES: 'at+jwt, JWT',
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
      AUTH_MAX_SERVICE_TOKEN_LIFETIME_SECONDS: '900',
    });
    expect(authConfigFrom(raw)).toMatchObject({
      serviceAudience: 'beacon-services',
      tokenTypes: ['at+jwt', 'JWT'],
      maxLifetimeSeconds: 3600,
      maxServiceLifetimeSeconds: 900,
    });
    // Months are what the profile exists to end.
    expect(() =>
      parseConfig(AUTH_ENV, { ...base, AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(30 * 86_400) }),
    ).toThrow(/AUTH_MAX_TOKEN_LIFETIME_SECONDS/);
    expect(() => parseConfig(AUTH_ENV, { ...base, AUTH_TOKEN_TYPES: ' , ' })).toThrow(/AUTH_TOKEN_TYPES/);
  });

  it("keeps the service audience apart from the people's", () => {
    expect(() =>
      authConfigFrom({ ...base, AUTH_SERVICE_AUDIENCE: 'beacon', AUTH_JWKS_URL: 'https://id.example/jwks' }),
    ).toThrow(/AUTH_SERVICE_AUDIENCE: must differ from AUTH_AUDIENCE/);
  });

  it('fetches keys over https only, plain http from loopback alone', () => {
    for (const url of ['http://id.example/jwks', 'http://10.0.0.5/jwks', 'http://127.0.0.1.example/jwks']) {
      expect(() => authConfigFrom({ ...base, AUTH_JWKS_URL: url }), url).toThrow(
        /AUTH_JWKS_URL: must be https/,
      );
    }
    for (const url of ['http://127.0.0.1:9/jwks', 'http://localhost:8080/jwks', 'http://[::1]:8080/jwks']) {
      expect(authConfigFrom({ ...base, AUTH_JWKS_URL: url }).jwks, url).toEqual({ url });
    }
  });

  it('refuses the development issuer and inline key sets when BEACON_ENV=production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-auth-'));
    try {
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [] }));
      const production = { ...base, BEACON_ENV: 'production' as const };
      expect(() =>
        authConfigFrom({
          ...production,
          AUTH_ISSUER: 'https://dev.beacon.invalid',
          AUTH_JWKS_URL: 'https://x/jwks',
        }),
      ).toThrow(/AUTH_ISSUER: https:\/\/dev.beacon.invalid is the development issuer/);
      expect(() => authConfigFrom({ ...production, AUTH_JWKS_FILE: file })).toThrow(
        /AUTH_JWKS_FILE: an inline key set .* refused with BEACON_ENV=production/,
      );
      // The same settings serve a development stack; production with a real issuer is served.
      expect(
        authConfigFrom({ ...base, AUTH_ISSUER: 'https://dev.beacon.invalid', AUTH_JWKS_FILE: file }).jwks,
      ).toEqual({
        keys: { keys: [] },
      });
      expect(authConfigFrom({ ...production, AUTH_JWKS_URL: 'https://id.example/jwks' }).issuer).toBe(
        'https://id.example',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads BEACON_ENV as development unless it says production, naming it when wrong', () => {
    expect(beaconEnvFrom({})).toBe('development');
    expect(beaconEnvFrom({ BEACON_ENV: 'production' })).toBe('production');
    expect(() => beaconEnvFrom({ BEACON_ENV: 'prod' })).toThrow(/BEACON_ENV/);
  });

  it('wants exactly one key source, and a file it can read', () => {
    expect(() => authConfigFrom(base)).toThrow(/AUTH_JWKS_URL \/ AUTH_JWKS_FILE: set exactly one/);
    expect(() => authConfigFrom({ ...base, AUTH_JWKS_URL: 'https://x', AUTH_JWKS_FILE: '/x' })).toThrow(
      ConfigError,
    );
    expect(() => authConfigFrom({ ...base, AUTH_JWKS_FILE: '/nonexistent/jwks.json' })).toThrow(
      /AUTH_JWKS_FILE: cannot read a JSON key set/,
    );
  });
});

describe('NATS cluster settings', () => {
  const cluster = { NATS_URL: env.natsServers(), NATS_STREAM_REPLICAS: env.streamReplicas() };

  it('reads one server or a comma-separated cluster, and one replica unless told', () => {
    expect(parseConfig(cluster, { NATS_URL: 'nats://127.0.0.1:4222' })).toEqual({
      NATS_URL: ['nats://127.0.0.1:4222'],
      NATS_STREAM_REPLICAS: 1,
    });
    expect(
      parseConfig(cluster, {
        NATS_URL: 'nats://n1:4222, nats://n2:4222,nats://n3:4222',
        NATS_STREAM_REPLICAS: '3',
      }),
    ).toEqual({ NATS_URL: ['nats://n1:4222', 'nats://n2:4222', 'nats://n3:4222'], NATS_STREAM_REPLICAS: 3 });
  });

  it('names the variable when a URL or the replica count is wrong', () => {
    expect(() => parseConfig(cluster, { NATS_URL: 'nats://n1:4222,http://n2' })).toThrow(
      /NATS_URL\.1: must be nats:\/\/host:port/,
    );
    expect(() => parseConfig(cluster, { NATS_URL: ' , ' })).toThrow(
      /NATS_URL: must name at least one server/,
    );
    expect(() => parseConfig(cluster, { NATS_URL: 'nats://n1:4222', NATS_STREAM_REPLICAS: '7' })).toThrow(
      /NATS_STREAM_REPLICAS/,
    );
  });
});

describe('natsClientFrom', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-nats-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const client = (variables: Record<string, string>) =>
    natsClientFrom(parseConfig(NATS_CLIENT_ENV, variables));
  const problem = (variables: Record<string, string>) => {
    try {
      client(variables);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    return expect.fail('accepted');
  };

  it('takes nothing: no credentials, TLS only if the server asks', () => {
    expect(client({})).toEqual({});
  });

  it('holds a password as a reader, never as a value a log line could print', () => {
    const inline = client({ NATS_USER: 'intake', NATS_PASSWORD: 's3cret-pw' });
    expect(inline.auth?.kind).toBe('user');
    expect(JSON.stringify(inline)).not.toContain('s3cret-pw');
    if (inline.auth?.kind === 'user') expect(inline.auth.password()).toBe('s3cret-pw');

    const path = file('password', 'from-a-file\n');
    const fromFile = client({ NATS_USER: 'intake', NATS_PASSWORD_FILE: path });
    if (fromFile.auth?.kind !== 'user') return expect.fail('no user');
    expect(fromFile.auth.password()).toBe('from-a-file');
    // Read again on each connect: a rotated Secret is picked up.
    writeFileSync(path, 'rotated');
    expect(fromFile.auth.password()).toBe('rotated');
  });

  it('takes a token inline or from a file', () => {
    const auth = client({ NATS_TOKEN_FILE: file('token', 'tok-123') }).auth;
    expect(auth?.kind === 'token' && auth.token()).toBe('tok-123');
  });

  it('refuses two ways to authenticate, or half of one, naming the variables', () => {
    const creds = file('x.creds', 'not credentials');
    expect(problem({ NATS_CREDS_FILE: creds, NATS_USER: 'intake', NATS_PASSWORD: 'pw' })).toContain(
      'NATS_CREDS_FILE / NATS_USER: set at most one way to authenticate',
    );
    expect(problem({ NATS_USER: 'intake', NATS_TOKEN: 't', NATS_PASSWORD: 'pw' })).toContain(
      'NATS_USER / NATS_TOKEN: set at most one way to authenticate',
    );
    expect(problem({ NATS_USER: 'intake' })).toContain(
      'NATS_PASSWORD / NATS_PASSWORD_FILE: set exactly one with NATS_USER',
    );
    expect(problem({ NATS_PASSWORD: 'pw' })).toContain('NATS_USER: required with a NATS password');
    expect(problem({ NATS_USER: 'u', NATS_PASSWORD: 'pw', NATS_PASSWORD_FILE: creds })).toContain(
      'NATS_PASSWORD / NATS_PASSWORD_FILE: set at most one',
    );
  });

  it('checks files at start without echoing what is in them', () => {
    const bad = problem({ NATS_CREDS_FILE: file('bad.creds', 'SUAsecretseed') });
    expect(bad).toContain('NATS_CREDS_FILE: is not a NATS credentials file');
    expect(bad).not.toContain('SUAsecretseed');
    expect(problem({ NATS_CREDS_FILE: join(dir, 'missing.creds') })).toContain(
      'NATS_CREDS_FILE: cannot read it: ENOENT',
    );
    expect(problem({ NATS_USER: 'u', NATS_PASSWORD_FILE: file('empty', '\n') })).toContain(
      'NATS_PASSWORD_FILE: the file is empty',
    );
  });

  it('refuses credentials inside NATS_URL, which the client would silently drop', () => {
    const servers = { NATS_URL: env.natsServers() };
    expect(() => parseConfig(servers, { NATS_URL: 'nats://intake:pw@n1:4222' })).toThrow(
      /NATS_URL\.0: must not carry credentials/,
    );
  });
});
