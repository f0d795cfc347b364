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
} from './config.js';

/** NATS and the events stream, as every Beacon process that publishes or consumes events reads them. */
export const EVENTS_NATS_ENV = {
  /** One NATS URL, or a cluster's URLs separated by commas. */
  NATS_URL: env.natsServers(),
  /** Replicas of the streams this service declares: 1 on one server, 3 on a cluster. */
  NATS_STREAM_REPLICAS: env.streamReplicas(),
  /** Credentials and TLS client files for NATS (docs/operations.md). */
  ...NATS_CLIENT_ENV,
  EVENTS_STREAM: env.name('BEACON_EVENTS'),
  EVENTS_SUBJECT_ROOT: env.subjectRoot('beacon.evt'),
};

/** The connection and events stream of `EVENTS_NATS_ENV`. */
export function eventsNatsFrom(raw: Readonly<z.infer<z.ZodObject<typeof EVENTS_NATS_ENV>>>) {
  return {
    servers: raw.NATS_URL,
    client: natsClientFrom(raw),
    replicas: raw.NATS_STREAM_REPLICAS,
    stream: raw.EVENTS_STREAM,
    subjectRoot: raw.EVENTS_SUBJECT_ROOT,
  };
}

/** NATS and the events stream, as `eventsNatsFrom` reads them. */
export type EventsNats = ReturnType<typeof eventsNatsFrom>;

/**
 * The variables every Beacon process with a gRPC server reads (the services, the gateway, the
 * workflows' response API): TLS or mutual TLS on the server and a plaintext health port
 * (docs/operations.md), its callers' tokens, `/metrics` and the log level.
 */
export const GRPC_PROCESS_ENV = {
  ...GRPC_SERVER_ENV,
  ...AUTH_ENV,
  ...METRICS_ENV,
  LOG_LEVEL: env.logLevel(),
};

/** The configuration of `GRPC_PROCESS_ENV`'s variables. */
export function grpcProcessConfigFrom(raw: Readonly<z.infer<z.ZodObject<typeof GRPC_PROCESS_ENV>>>) {
  return {
    grpcServer: grpcServerFrom(raw),
    auth: authConfigFrom(raw),
    metrics: metricsConfigFrom(raw),
    logLevel: raw.LOG_LEVEL,
  };
}

/**
 * The variables every Beacon service with a store, the event stream and a gRPC server reads.
 * A service's `config.ts` spreads this into its schema and adds only what is its own, including
 * its `<NAME>_GRPC_HOST`, `<NAME>_GRPC_PORT` and `<NAME>_DB` (each with its own default).
 */
export const SERVICE_ENV = {
  ...GRPC_PROCESS_ENV,
  MONGO_URL: env.url(['mongodb', 'mongodb+srv']),
  ...EVENTS_NATS_ENV,
  /**
   * How often to look for work a crash or another replica left: events not yet published,
   * reports not yet linked. Such sweeps read their marks, and whole collections only hourly.
   */
  RECOVERY_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
};

type ServiceEnv = Readonly<z.infer<z.ZodObject<typeof SERVICE_ENV>>>;

/** What is a service's own among the base variables: its gRPC address and its database. */
export interface OwnServiceSettings {
  readonly grpc: { readonly host: string; readonly port: number };
  readonly db: string;
}

/** The base configuration of a service, from the variables of `SERVICE_ENV` and its own. */
export function serviceConfigFrom(raw: ServiceEnv, own: OwnServiceSettings) {
  const { grpcServer, auth, metrics, logLevel } = grpcProcessConfigFrom(raw);
  return {
    grpc: { host: own.grpc.host, port: own.grpc.port, ...grpcServer },
    mongo: { url: raw.MONGO_URL, db: own.db },
    nats: eventsNatsFrom(raw),
    auth,
    recoverySweepMs: raw.RECOVERY_SWEEP_SECONDS * 1000,
    metrics,
    logLevel,
  };
}

export type ServiceConfig = ReturnType<typeof serviceConfigFrom>;
