import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { AuthConfig } from './auth.js';

/** The environment failed validation; `issues` names every bad variable and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly { variable: string; problem: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.problem}`).join('\n')}`);
  }
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
      .transform((value) =>
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z.string().regex(/^(nats|tls|ws|wss):\/\/[^\s,]+$|^[A-Za-z0-9.-]+:\d{1,5}$/, {
              message: 'must be nats://host:port (or several, separated by commas)',
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

/** The variables every service reads to verify bearer tokens. */
export const AUTH_ENV = {
  AUTH_ISSUER: z.string().min(1),
  AUTH_AUDIENCE: z.string().min(1).default('beacon'),
  /** The issuer's JWKS URL; or AUTH_JWKS_FILE, a local JSON key set. Exactly one. */
  AUTH_JWKS_URL: env.url(['https', 'http']).optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
};

/** The authentication settings from the AUTH_ENV variables; reads a JWKS file if named. */
export function authConfigFrom(raw: {
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWKS_FILE?: string | undefined;
}): AuthConfig {
  if (!raw.AUTH_JWKS_URL === !raw.AUTH_JWKS_FILE) {
    throw new ConfigError([{ variable: 'AUTH_JWKS_URL / AUTH_JWKS_FILE', problem: 'set exactly one' }]);
  }
  let jwks: AuthConfig['jwks'];
  if (raw.AUTH_JWKS_URL) {
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
  return { issuer: raw.AUTH_ISSUER, audience: raw.AUTH_AUDIENCE, jwks };
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
