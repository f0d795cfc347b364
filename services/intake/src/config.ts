import { z } from 'zod';
import {
  AUTH_ENV,
  authConfigFrom,
  env,
  GRPC_SERVER_ENV,
  grpcServerFrom,
  METRICS_ENV,
  metricsConfigFrom,
  NATS_CLIENT_ENV,
  natsClientFrom,
  parseConfig,
} from '@beacon/platform';

const schema = {
  INTAKE_GRPC_HOST: z.string().default('127.0.0.1'),
  INTAKE_GRPC_PORT: env.port(50061),
  /** TLS or mutual TLS on the gRPC server, and a plaintext health port (docs/operations.md). */
  ...GRPC_SERVER_ENV,
  MONGO_URL: env.url(['mongodb', 'mongodb+srv']),
  INTAKE_DB: env.database('beacon_intake'),
  /** One NATS URL, or a cluster's URLs separated by commas. */
  NATS_URL: env.natsServers(),
  /** Replicas of the streams this service declares: 1 on one server, 3 on a cluster. */
  NATS_STREAM_REPLICAS: env.streamReplicas(),
  /** Credentials and TLS client files for NATS (docs/operations.md). */
  ...NATS_CLIENT_ENV,
  EVENTS_STREAM: env.name('BEACON_EVENTS'),
  EVENTS_SUBJECT_ROOT: env.subjectRoot('beacon.evt'),
  ...AUTH_ENV,
  ...METRICS_ENV,
  /** Key of the correlation HMAC: at least 32 characters, never logged. */
  CORRELATION_SECRET: z.string().min(32, 'must be at least 32 characters'),
  CORRELATION_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 30),
  /** This deployment's producer identity in STIX exports: `identity--<uuid>`, stable. */
  STIX_IDENTITY_ID: z
    .string()
    .regex(/^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    .default('identity--2f0d7c2a-6a0e-4f35-9a41-2b1f4c6d8e90'),
  STIX_IDENTITY_NAME: z.string().min(1).max(200).default('Beacon national coordination centre'),
  /**
   * How often to look for work a crash or another replica left: events not yet published,
   * reports not yet linked. Such sweeps read whole collections on FerretDB, hence not often.
   */
  RECOVERY_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** How long a client's `idempotency-key` is honoured (at least; forgotten within the hour after). */
  IDEMPOTENCY_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  LOG_LEVEL: env.logLevel(),
};

export type IntakeConfig = ReturnType<typeof loadConfig>;

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  const auth = authConfigFrom(raw);
  return {
    grpc: { host: raw.INTAKE_GRPC_HOST, port: raw.INTAKE_GRPC_PORT, ...grpcServerFrom(raw) },
    mongo: { url: raw.MONGO_URL, db: raw.INTAKE_DB },
    nats: {
      servers: raw.NATS_URL,
      client: natsClientFrom(raw),
      replicas: raw.NATS_STREAM_REPLICAS,
      stream: raw.EVENTS_STREAM,
      subjectRoot: raw.EVENTS_SUBJECT_ROOT,
    },
    auth,
    correlation: { secret: raw.CORRELATION_SECRET, windowMs: raw.CORRELATION_WINDOW_HOURS * 3_600_000 },
    stixIdentity: { id: raw.STIX_IDENTITY_ID, name: raw.STIX_IDENTITY_NAME },
    recoverySweepMs: raw.RECOVERY_SWEEP_SECONDS * 1000,
    idempotencyRetentionMs: raw.IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
    metrics: metricsConfigFrom(raw),
    logLevel: raw.LOG_LEVEL,
  } as const;
}
