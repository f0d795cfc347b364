import { z } from 'zod';
import {
  AUTH_ENV,
  authConfigFrom,
  ConfigError,
  env,
  GRPC_CLIENT_ENV,
  GRPC_SERVER_ENV,
  grpcClientTlsFrom,
  grpcServerFrom,
  METRICS_ENV,
  metricsConfigFrom,
  NATS_CLIENT_ENV,
  natsClientFrom,
  parseConfig,
  SERVICE_IDENTITY_ENV,
  serviceIdentityFrom,
} from '@beacon/platform';

const schema = {
  IMPACT_GRPC_HOST: z.string().default('127.0.0.1'),
  IMPACT_GRPC_PORT: env.port(50062),
  /** TLS or mutual TLS on the gRPC server, and a plaintext health port (docs/operations.md). */
  ...GRPC_SERVER_ENV,
  /** TLS for the calls to intake (docs/operations.md). */
  ...GRPC_CLIENT_ENV,
  MONGO_URL: env.url(['mongodb', 'mongodb+srv']),
  IMPACT_DB: env.database('beacon_impact'),
  /** One NATS URL, or a cluster's URLs separated by commas. */
  NATS_URL: env.natsServers(),
  /** Replicas of the streams this service declares: 1 on one server, 3 on a cluster. */
  NATS_STREAM_REPLICAS: env.streamReplicas(),
  /** Credentials and TLS client files for NATS (docs/operations.md). */
  ...NATS_CLIENT_ENV,
  EVENTS_STREAM: env.name('BEACON_EVENTS'),
  EVENTS_SUBJECT_ROOT: env.subjectRoot('beacon.evt'),
  /** Durable consumer of incident events, shared by every impact replica. */
  IMPACT_CONSUMER: env.name('impact-incidents'),
  ...AUTH_ENV,
  ...METRICS_ENV,
  /**
   * host:port of intake, to raise incidents' NCISS inputs from their cascades, with impact's
   * own service identity (SERVICE_IDENTITY_ENV: a token endpoint and client, or a token file).
   * Both or neither.
   */
  INTAKE_ADDRESS: env.hostPort().optional(),
  ...SERVICE_IDENTITY_ENV,
  RECOVERY_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** After a registry change, how long before assessed incidents are re-assessed (a burst shares one run). */
  REASSESS_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  LOG_LEVEL: env.logLevel(),
};

export type ImpactConfig = ReturnType<typeof loadConfig>;

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  const identity = serviceIdentityFrom(raw, 'impact');
  if (Boolean(raw.INTAKE_ADDRESS) !== Boolean(identity)) {
    const missing = raw.INTAKE_ADDRESS ? 'SERVICE_TOKEN_URL or SERVICE_TOKEN_FILE' : 'INTAKE_ADDRESS';
    throw new ConfigError([
      { variable: missing, problem: "INTAKE_ADDRESS and impact's service identity go together" },
    ]);
  }
  const grpcClientTls = grpcClientTlsFrom(raw);
  return {
    grpc: { host: raw.IMPACT_GRPC_HOST, port: raw.IMPACT_GRPC_PORT, ...grpcServerFrom(raw) },
    mongo: { url: raw.MONGO_URL, db: raw.IMPACT_DB },
    nats: {
      servers: raw.NATS_URL,
      client: natsClientFrom(raw),
      replicas: raw.NATS_STREAM_REPLICAS,
      stream: raw.EVENTS_STREAM,
      subjectRoot: raw.EVENTS_SUBJECT_ROOT,
      consumer: raw.IMPACT_CONSUMER,
    },
    auth: authConfigFrom(raw),
    intake:
      raw.INTAKE_ADDRESS && identity
        ? {
            address: raw.INTAKE_ADDRESS,
            identity,
            ...(grpcClientTls ? { tls: grpcClientTls } : {}),
          }
        : undefined,
    recoverySweepMs: raw.RECOVERY_SWEEP_SECONDS * 1000,
    reassessDelayMs: raw.REASSESS_DELAY_MS,
    metrics: metricsConfigFrom(raw),
    logLevel: raw.LOG_LEVEL,
  } as const;
}
