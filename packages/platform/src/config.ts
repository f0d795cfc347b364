import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/nats-core';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import {
  DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  DEFAULT_SERVICE_AUDIENCE,
  DEV_ISSUER,
  type AuthConfig,
} from './auth.js';
import type { NatsAuth, NatsTls } from './nats-auth.js';

/** The environment failed validation; `issues` names every bad variable and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly { variable: string; problem: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.problem}`).join('\n')}`);
  }
}

/** The entries of a comma-separated variable, trimmed, empty ones dropped. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * Parses the environment once into a typed, frozen object. Keys of `schema` are the variable
 * names, so an error names exactly the variable to fix. Call it from a service's `config.ts`
 * only: nothing else reads `process.env`.
 */
export function parseConfig<S extends z.ZodRawShape>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): Readonly<z.infer<z.ZodObject<S>>> {
  const result = z.object(schema).safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: issue.path.map(String).join('.') || '(environment)',
        problem: issue.message,
      })),
    );
  }
  return Object.freeze(result.data);
}

/** Schemas for variables every Beacon process may read, to compose into a service's schema. */
export const env = {
  /** A TCP port (1–65535), from a decimal string. */
  port: (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback),
  /**
   * A URL with one of the given schemes. A MongoDB connection string may list several hosts
   * (a replica set's seed list, `mongodb://a:27017,b:27017/?replicaSet=rs0`), which is no URL
   * to the WHATWG parser: its shape is checked here and the driver parses the rest.
   */
  url: (schemes: readonly string[]) =>
    z.string().refine((value) => hasScheme(value, schemes), {
      message: `must be a URL with scheme ${schemes.join(' or ')}`,
    }),
  /** "true"/"false"/"1"/"0"; anything else is an error rather than silently false. */
  flag: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `host:port` of another service. */
  hostPort: () => z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'),
  /** A MongoDB database name. */
  database: (fallback: string) =>
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/)
      .default(fallback),
  /** A JetStream stream or durable consumer name. */
  name: (fallback: string) =>
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default(fallback),
  /**
   * The NATS servers to connect to: one URL, or several of one cluster separated by commas
   * (`nats://n1:4222,nats://n2:4222,nats://n3:4222`), so the client reaches the cluster
   * whichever node is down when it starts.
   */
  natsServers: () =>
    z
      .string()
      .min(1)
      .transform(commaList)
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^(nats|tls|ws|wss):\/\/[^\s,]+$|^[A-Za-z0-9.-]+:\d{1,5}$/, {
                message: 'must be nats://host:port (or several, separated by commas)',
              })
              // The client ignores user:password@ in a URL; say so rather than connect without them.
              .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), {
                message:
                  'must not carry credentials (the client ignores them): use NATS_CREDS_FILE or NATS_USER',
              }),
          )
          .min(1, 'must name at least one server'),
      ),
  /**
   * Replicas of each JetStream stream a service declares: 1 on a single server, 3 (or 5) on a
   * cluster, where a stream then survives the loss of a minority of its nodes.
   */
  streamReplicas: () => z.coerce.number().int().min(1).max(5).default(1),
  /** Dot-separated NATS subject tokens, without wildcards, e.g. `beacon.evt`. */
  subjectRoot: (fallback: string) =>
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
      .default(fallback),
} as const;

/**
 * MongoDB connection strings: `mongodb://[user:pass@]host[:port][,host[:port]…][/db][?options]`,
 * or `mongodb+srv://[user:pass@]host[/db][?options]` (one host, no port: DNS lists the rest).
 */
const MONGO_CONNECTION_STRING = {
  mongodb:
    /^mongodb:\/\/(?:[^@/?#\s]+@)?[A-Za-z0-9._-]+(?::\d{1,5})?(?:,[A-Za-z0-9._-]+(?::\d{1,5})?)*(?:\/[^?#\s]*)?(?:\?[^#\s]*)?$/,
  'mongodb+srv': /^mongodb\+srv:\/\/(?:[^@/?#\s]+@)?[A-Za-z0-9._-]+(?:\/[^?#\s]*)?(?:\?[^#\s]*)?$/,
} as const;

function hasScheme(value: string, schemes: readonly string[]): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined || !schemes.includes(scheme)) return false;
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') return MONGO_CONNECTION_STRING[scheme].test(value);
  return URL.canParse(value);
}

/**
 * What kind of deployment this is: `development` (the default: a laptop, `make up`, tests) or
 * `production` (anything real people use, staging included). Production refuses what only a
 * developer may use: the development token issuer and inline key sets, and `beacon token`.
 */
export const BEACON_ENV_ENV = {
  BEACON_ENV: z.enum(['development', 'production']).default('development'),
};
export type BeaconEnv = z.infer<typeof BEACON_ENV_ENV.BEACON_ENV>;

/** BEACON_ENV from an environment, checked; a ConfigError names the variable. */
export function beaconEnvFrom(raw: Readonly<Record<string, string | undefined>>): BeaconEnv {
  return parseConfig(BEACON_ENV_ENV, { BEACON_ENV: raw['BEACON_ENV'] }).BEACON_ENV;
}

/** A lifetime in whole seconds: at least a minute, at most a week. */
const lifetime = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(fallback);

/** The variables every service reads to verify bearer tokens. */
export const AUTH_ENV = {
  ...BEACON_ENV_ENV,
  AUTH_ISSUER: z.string().min(1),
  /** The audience of people's tokens, the only one the public gateway accepts. */
  AUTH_AUDIENCE: z.string().min(1).default('beacon'),
  /** The audience of Beacon's service identities, accepted only on the internal network. */
  AUTH_SERVICE_AUDIENCE: z.string().min(1).default(DEFAULT_SERVICE_AUDIENCE),
  /** The issuer's JWKS URL; or AUTH_JWKS_FILE, a local JSON key set. Exactly one. */
  AUTH_JWKS_URL: env.url(['https', 'http']).optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  /** Header `typ` values accepted, comma-separated: RFC 9068's `at+jwt` unless the issuer sends another. */
  AUTH_TOKEN_TYPES: z
    .string()
    .default('at+jwt')
    .transform(commaList)
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9.+/-]{1,64}$/)).min(1, 'must name at least one type')),
  /** The longest a person's token may live (exp − iat), in seconds; 12 hours by default. */
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: lifetime(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
  /** The longest a service identity's token may live, in seconds; 12 hours by default. */
  AUTH_MAX_SERVICE_TOKEN_LIFETIME_SECONDS: lifetime(DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS),
};

/** JWKS may come over plain HTTP only from this machine, where nobody can tamper with it. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The authentication settings from the AUTH_ENV variables; reads a JWKS file if named. Refuses
 * a key set over plain HTTP from anywhere but loopback, and, when BEACON_ENV=production, the
 * development issuer and inline key sets.
 */
export function authConfigFrom(raw: {
  BEACON_ENV?: BeaconEnv | undefined;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_SERVICE_AUDIENCE?: string | undefined;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWKS_FILE?: string | undefined;
  AUTH_TOKEN_TYPES?: readonly string[] | undefined;
  AUTH_MAX_TOKEN_LIFETIME_SECONDS?: number | undefined;
  AUTH_MAX_SERVICE_TOKEN_LIFETIME_SECONDS?: number | undefined;
}): AuthConfig {
  if (!raw.AUTH_JWKS_URL === !raw.AUTH_JWKS_FILE) {
    throw new ConfigError([{ variable: 'AUTH_JWKS_URL / AUTH_JWKS_FILE', problem: 'set exactly one' }]);
  }
  const serviceAudience = raw.AUTH_SERVICE_AUDIENCE ?? DEFAULT_SERVICE_AUDIENCE;
  if (serviceAudience === raw.AUTH_AUDIENCE) {
    throw new ConfigError([
      {
        variable: 'AUTH_SERVICE_AUDIENCE',
        problem: 'must differ from AUTH_AUDIENCE (service identities never pass the public door)',
      },
    ]);
  }
  if (raw.BEACON_ENV === 'production') {
    if (raw.AUTH_ISSUER === DEV_ISSUER) {
      throw new ConfigError([
        {
          variable: 'AUTH_ISSUER',
          problem: `${DEV_ISSUER} is the development issuer, refused with BEACON_ENV=production`,
        },
      ]);
    }
    if (raw.AUTH_JWKS_FILE) {
      throw new ConfigError([
        {
          variable: 'AUTH_JWKS_FILE',
          problem:
            "an inline key set is a development issuer's, refused with BEACON_ENV=production: set AUTH_JWKS_URL",
        },
      ]);
    }
  }
  let jwks: AuthConfig['jwks'];
  if (raw.AUTH_JWKS_URL) {
    const url = new URL(raw.AUTH_JWKS_URL);
    if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
      throw new ConfigError([
        { variable: 'AUTH_JWKS_URL', problem: 'must be https (plain http only to a loopback address)' },
      ]);
    }
    jwks = { url: raw.AUTH_JWKS_URL };
  } else {
    try {
      jwks = { keys: JSON.parse(readFileSync(raw.AUTH_JWKS_FILE!, 'utf8')) as JSONWebKeySet };
    } catch (error) {
      throw new ConfigError([
        { variable: 'AUTH_JWKS_FILE', problem: `cannot read a JSON key set: ${(error as Error).message}` },
      ]);
    }
  }
  return {
    issuer: raw.AUTH_ISSUER,
    audience: raw.AUTH_AUDIENCE,
    serviceAudience,
    jwks,
    tokenTypes: raw.AUTH_TOKEN_TYPES ?? ['at+jwt'],
    maxLifetimeSeconds: raw.AUTH_MAX_TOKEN_LIFETIME_SECONDS ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    maxServiceLifetimeSeconds:
      raw.AUTH_MAX_SERVICE_TOKEN_LIFETIME_SECONDS ?? DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  };
}

/**
 * Where a process serves Prometheus metrics (`/metrics`). Unset, the port is 0: a free one,
 * logged and returned by the start function (tests, several services in one process);
 * deployments set 9464, the exporters' customary port.
 */
export const METRICS_ENV = {
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
};

export function metricsConfigFrom(raw: { METRICS_HOST: string; METRICS_PORT: number }): {
  readonly host: string;
  readonly port: number;
} {
  return { host: raw.METRICS_HOST, port: raw.METRICS_PORT };
}

/**
 * A secret given either inline (`variable`) or as a file (`fileVariable`, e.g. a mounted
 * Secret), at most one of the two; undefined when neither is set. It is returned as a reader
 * rather than a string, so no config object holds it where a log line could print it; a file is
 * read again on each call, so a rotated Secret is picked up without a restart. The file must be
 * readable and non-empty now, so a wrong path stops the process at start. Errors name the
 * variables, never the value.
 */
export function secretFrom(
  raw: Readonly<Record<string, unknown>>,
  variable: string,
  fileVariable: string,
): (() => string) | undefined {
  const inline = raw[variable] as string | undefined;
  const file = raw[fileVariable] as string | undefined;
  if (inline && file) {
    throw new ConfigError([{ variable: `${variable} / ${fileVariable}`, problem: 'set at most one' }]);
  }
  if (inline) return () => inline;
  if (!file) return undefined;
  const read = () => readFileSync(file, 'utf8').trim();
  if (readable(fileVariable, read) === '') {
    throw new ConfigError([{ variable: fileVariable, problem: 'the file is empty' }]);
  }
  return read;
}

function readable<T>(variable: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError([
      { variable, problem: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? 'error'}` },
    ]);
  }
}

/**
 * The variables naming one TLS party's files: its certificate, that certificate's key, and a CA
 * (the one the peer's certificate must chain to).
 */
export interface ClientTlsVariables {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** PEM files for a TLS client (or, with the CA of its clients, a server), checked at start. */
export interface ClientTlsFiles {
  /** The client certificate (chain) for mutual TLS, with its key. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The CA the server's certificate must chain to, instead of the system's roots. */
  readonly caFile?: string;
}

/**
 * A client's TLS files from the variables named, or undefined when none is set. Certificate and
 * key come together; each file must parse as PEM, and the key must be the certificate's, so a
 * mistake stops the process at start with the variable named instead of failing in a handshake.
 */
export function clientTlsFrom(
  raw: Readonly<Record<string, unknown>>,
  variables: ClientTlsVariables,
): ClientTlsFiles | undefined {
  const certFile = raw[variables.cert] as string | undefined;
  const keyFile = raw[variables.key] as string | undefined;
  const caFile = raw[variables.ca] as string | undefined;
  if (!certFile !== !keyFile) {
    throw new ConfigError([
      { variable: `${variables.cert} / ${variables.key}`, problem: 'set both or neither' },
    ]);
  }
  if (certFile && keyFile) {
    const cert = certificateIn(variables.cert, certFile);
    const key = readable(variables.key, () => readFileSync(keyFile));
    let matches: boolean;
    try {
      matches = cert.checkPrivateKey(createPrivateKey(key));
    } catch {
      throw new ConfigError([{ variable: variables.key, problem: 'is not a PEM private key' }]);
    }
    if (!matches) {
      throw new ConfigError([
        { variable: variables.key, problem: `is not the key of the certificate in ${variables.cert}` },
      ]);
    }
  }
  if (caFile) certificateIn(variables.ca, caFile);
  if (!certFile && !caFile) return undefined;
  return {
    ...(certFile && keyFile ? { certFile, keyFile } : {}),
    ...(caFile ? { caFile } : {}),
  };
}

function certificateIn(variable: string, file: string): X509Certificate {
  const pem = readable(variable, () => readFileSync(file));
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError([{ variable, problem: 'holds no PEM certificate' }]);
  }
}

/**
 * How a process authenticates to NATS and secures the connection, read by every process that
 * uses NATS. At most one way to authenticate: a credentials file (JWT and NKey seed, for a
 * server in operator mode), a user and password, or a token; none for a server that lets
 * clients in without credentials. TLS client files are independent of that: any of them makes
 * the client insist on TLS.
 */
export const NATS_CLIENT_ENV = {
  /** A `.creds` file (user JWT + NKey seed), e.g. from `nsc generate creds`. Read on each connect. */
  NATS_CREDS_FILE: z.string().min(1).optional(),
  NATS_USER: z.string().min(1).optional(),
  /** With NATS_USER: the password inline or in a file (read on each connect); exactly one. */
  NATS_PASSWORD: z.string().min(1).optional(),
  NATS_PASSWORD_FILE: z.string().min(1).optional(),
  /** A token instead of a user; inline or in a file, at most one. */
  NATS_TOKEN: z.string().min(1).optional(),
  NATS_TOKEN_FILE: z.string().min(1).optional(),
  /** Mutual TLS: the client certificate and its key (both or neither), PEM. */
  NATS_TLS_CERT_FILE: z.string().min(1).optional(),
  NATS_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The CA the servers' certificates chain to (else Node's roots and NODE_EXTRA_CA_CERTS). */
  NATS_TLS_CA_FILE: z.string().min(1).optional(),
};

type NatsClientRaw = { readonly [K in keyof typeof NATS_CLIENT_ENV]?: string | undefined };

/** The NATS client's authentication and TLS from the NATS_CLIENT_ENV variables, checked now. */
export function natsClientFrom(raw: NatsClientRaw): { auth?: NatsAuth; tls?: NatsTls } {
  const password = secretFrom(raw, 'NATS_PASSWORD', 'NATS_PASSWORD_FILE');
  const token = secretFrom(raw, 'NATS_TOKEN', 'NATS_TOKEN_FILE');
  const ways = [
    raw.NATS_CREDS_FILE && 'NATS_CREDS_FILE',
    raw.NATS_USER && 'NATS_USER',
    token && (raw.NATS_TOKEN ? 'NATS_TOKEN' : 'NATS_TOKEN_FILE'),
  ].filter(Boolean);
  if (ways.length > 1) {
    throw new ConfigError([{ variable: ways.join(' / '), problem: 'set at most one way to authenticate' }]);
  }
  if (raw.NATS_USER && !password) {
    throw new ConfigError([
      { variable: 'NATS_PASSWORD / NATS_PASSWORD_FILE', problem: 'set exactly one with NATS_USER' },
    ]);
  }
  if (!raw.NATS_USER && password) {
    throw new ConfigError([{ variable: 'NATS_USER', problem: 'required with a NATS password' }]);
  }
  let auth: NatsAuth | undefined;
  if (raw.NATS_CREDS_FILE) {
    const file = raw.NATS_CREDS_FILE;
    const creds = readable('NATS_CREDS_FILE', () => readFileSync(file));
    try {
      // Signing a dummy nonce parses the JWT and decodes the seed, as connecting will.
      credsAuthenticator(creds)('beacon-config-check');
    } catch {
      throw new ConfigError([
        {
          variable: 'NATS_CREDS_FILE',
          problem: 'is not a NATS credentials file (a user JWT and its NKey seed)',
        },
      ]);
    }
    auth = { kind: 'creds', file };
  } else if (raw.NATS_USER && password) {
    auth = { kind: 'user', user: raw.NATS_USER, password };
  } else if (token) {
    auth = { kind: 'token', token };
  }
  const tls = clientTlsFrom(raw, {
    cert: 'NATS_TLS_CERT_FILE',
    key: 'NATS_TLS_KEY_FILE',
    ca: 'NATS_TLS_CA_FILE',
  });
  return { ...(auth ? { auth } : {}), ...(tls ? { tls } : {}) };
}

/**
 * TLS on a process's gRPC server, read by every process that serves gRPC. Certificate and key
 * turn TLS on; a client CA on top requires every client to present a certificate it signed
 * (mutual TLS). Kubernetes' gRPC probes can do neither, so GRPC_HEALTH_PORT serves the health
 * check alone, in plaintext, on a port of its own for the kubelet.
 */
export const GRPC_SERVER_ENV = {
  /** The server's certificate (chain) and its key, PEM, both or neither; re-read on rotation. */
  GRPC_TLS_CERT_FILE: z.string().min(1).optional(),
  GRPC_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Mutual TLS: clients must present a certificate chaining to this CA (PEM). */
  GRPC_TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  /** A second, plaintext port serving only `grpc.health.v1.Health/Check`, for probes. */
  GRPC_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
};

/** TLS files of a gRPC server, checked at start. */
export interface GrpcServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set: clients must present a certificate chaining to this CA (mutual TLS). */
  readonly clientCaFile?: string;
}

type GrpcServerRaw = { readonly [K in keyof typeof GRPC_SERVER_ENV]?: string | number | undefined };

/**
 * The gRPC server's TLS and health port from the GRPC_SERVER_ENV variables. Files must be
 * readable PEM and the key the certificate's, so a mistake stops the process at start naming
 * the variable; a client CA without a server certificate is refused (mutual TLS needs TLS).
 */
export function grpcServerFrom(raw: GrpcServerRaw): { tls?: GrpcServerTls; healthPort?: number } {
  const files = clientTlsFrom(raw, {
    cert: 'GRPC_TLS_CERT_FILE',
    key: 'GRPC_TLS_KEY_FILE',
    ca: 'GRPC_TLS_CLIENT_CA_FILE',
  });
  if (files?.caFile && !files.certFile) {
    throw new ConfigError([
      {
        variable: 'GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE',
        problem: 'required with GRPC_TLS_CLIENT_CA_FILE (mutual TLS needs the server on TLS)',
      },
    ]);
  }
  const healthPort = raw.GRPC_HEALTH_PORT as number | undefined;
  return {
    ...(files?.certFile && files.keyFile
      ? {
          tls: {
            certFile: files.certFile,
            keyFile: files.keyFile,
            ...(files.caFile ? { clientCaFile: files.caFile } : {}),
          },
        }
      : {}),
    ...(healthPort === undefined ? {} : { healthPort }),
  };
}

/**
 * TLS for a process's gRPC clients (to the other Beacon processes), read by every process that
 * calls another. The CA turns TLS on: each server's certificate must chain to it and name the
 * host of the address the client is given (e.g. `intake` for INTAKE_ADDRESS=intake:50061). A
 * client certificate on top answers servers that require one (mutual TLS).
 */
export const GRPC_CLIENT_ENV = {
  /** The CA the servers' certificates chain to (PEM); re-read on rotation. */
  GRPC_CLIENT_TLS_CA_FILE: z.string().min(1).optional(),
  /** Mutual TLS: this process's client certificate and its key, PEM, both or neither. */
  GRPC_CLIENT_TLS_CERT_FILE: z.string().min(1).optional(),
  GRPC_CLIENT_TLS_KEY_FILE: z.string().min(1).optional(),
};

/** TLS files of a gRPC client, checked at start. */
export interface GrpcClientTls {
  readonly caFile: string;
  /** The client certificate and its key, for servers that require one. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

type GrpcClientRaw = { readonly [K in keyof typeof GRPC_CLIENT_ENV]?: string | undefined };

/**
 * The gRPC clients' TLS from the GRPC_CLIENT_ENV variables, checked now; undefined means
 * plaintext. A client certificate without the CA is refused: the servers of a Beacon
 * deployment carry certificates of its own CA, which no system store holds.
 */
export function grpcClientTlsFrom(raw: GrpcClientRaw): GrpcClientTls | undefined {
  const files = clientTlsFrom(raw, {
    cert: 'GRPC_CLIENT_TLS_CERT_FILE',
    key: 'GRPC_CLIENT_TLS_KEY_FILE',
    ca: 'GRPC_CLIENT_TLS_CA_FILE',
  });
  if (!files) return undefined;
  if (!files.caFile) {
    throw new ConfigError([
      { variable: 'GRPC_CLIENT_TLS_CA_FILE', problem: 'required with a client certificate' },
    ]);
  }
  return {
    caFile: files.caFile,
    ...(files.certFile && files.keyFile ? { certFile: files.certFile, keyFile: files.keyFile } : {}),
  };
}
