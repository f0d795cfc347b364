import { randomUUID } from 'node:crypto';
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { diagnosticsV1, healthV1 } from '@beacon/proto';
import { tolerantDeserializer, unary } from './grpc-handler.js';
import { grpcServerMetrics } from './grpc-metrics.js';
import { HealthRegistry } from './health.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** A service definition from `@beacon/proto` with its implementation. */
export interface GrpcServiceBinding {
  /** Fully qualified name, e.g. `beacon.intake.v1.IntakeService`; the health check key. */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerConfig {
  /** Component name, e.g. "intake", reported by `GetServerInfo`. */
  readonly component: string;
  readonly version: string;
  readonly host?: string;
  /** 0 picks a free port; the bound port is on the returned handle. */
  readonly port: number;
  readonly services: readonly GrpcServiceBinding[];
  readonly logger: Logger;
  /** Largest message accepted or sent. Bigger requests fail with RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes?: number;
  /** How long in-flight calls get to finish on shutdown before they are cancelled. */
  readonly shutdownGraceMs?: number;
  /** The process's metrics: every call is counted and timed (`grpc_server_*`). */
  readonly metrics?: Metrics;
  /** How long a client connection lives before the server asks the client to reconnect. */
  readonly maxConnectionAgeMs?: number;
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly health: HealthRegistry;
  /** Drains (health NOT_SERVING), lets in-flight calls finish within the grace, then stops. */
  shutdown(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Clients keep one HTTP/2 connection per target for as long as it works, so a replica added by
 * the autoscaler would get no calls from existing callers. After this age (±10 %, grpc-js's
 * jitter) the server sends GOAWAY: new calls go over a new connection, made after the client
 * resolves the address again, while calls and streams in flight finish on the old one.
 */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 5 * 60_000;

/**
 * Starts a grpc-js server hosting the given services plus `grpc.health.v1.Health` and
 * `beacon.diagnostics.v1.DiagnosticsService`, with message-size limits, keepalive and a maximum
 * connection age set.
 */
export async function startGrpcServer(config: GrpcServerConfig): Promise<RunningGrpcServer> {
  const maxMessageBytes = config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // Notice dead peers within a minute instead of holding their calls forever.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    // No grace: a stream (an agency's feed) outlives its connection's age until it ends.
    'grpc.max_connection_age_ms': config.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS,
    ...(config.metrics ? { interceptors: [grpcServerMetrics(config.metrics)] } : {}),
  });

  const health = new HealthRegistry([
    diagnosticsV1.protobufPackage + '.DiagnosticsService',
    ...config.services.map((s) => s.name),
  ]);
  server.addService(healthV1.HealthService, health.implementation());
  server.addService(
    diagnosticsV1.DiagnosticsServiceService,
    diagnostics(config.component, config.version, config.logger),
  );
  for (const service of config.services) {
    server.addService(tolerant(service.definition), service.implementation);
  }

  const address = `${config.host ?? '127.0.0.1'}:${config.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  config.logger.info({ port, services: config.services.map((s) => s.name) }, 'grpc server listening');

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= new Promise<void>((resolve) => {
      health.drain();
      health.closeWatches();
      const force = setTimeout(() => {
        config.logger.warn('grpc calls still running after the grace period; cancelling them');
        server.forceShutdown();
        resolve();
      }, config.shutdownGraceMs ?? 10_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));

  return { port, health, shutdown };
}

/** The definition with every request decoder made tolerant of malformed bytes. */
function tolerant(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([method, def]) => [
      method,
      { ...def, requestDeserialize: tolerantDeserializer(def.requestDeserialize) },
    ]),
  );
}

function diagnostics(
  component: string,
  version: string,
  logger: Logger,
): diagnosticsV1.DiagnosticsServiceServer {
  const startedAt = new Date();
  const instanceId = randomUUID();
  return {
    echo: unary(async (request: diagnosticsV1.EchoRequest) => request, { logger }),
    getServerInfo: unary(
      async () => ({ component, version, runtime: process.version, startedAt, instanceId }),
      { logger },
    ),
  };
}
