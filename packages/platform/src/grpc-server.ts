import { randomUUID } from 'node:crypto';
import {
  experimental,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { diagnosticsV1, healthV1 } from '@beacon/proto';
import type { GrpcServerTls } from './config.js';
import { tolerantDeserializer, unary } from './grpc-handler.js';
import { grpcServerMetrics } from './grpc-metrics.js';
import { addReflection } from './grpc-reflection.js';
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
  /** TLS, or mutual TLS with a client CA; plaintext without. */
  readonly tls?: GrpcServerTls;
  /** How often the TLS files are read again, so a rotated certificate is served (default 1 min). */
  readonly tlsRefreshMs?: number;
  /**
   * A second port, plaintext, serving only the health check (`Check`) with the same statuses:
   * Kubernetes' gRPC probes can neither present a client certificate nor speak TLS. 0 picks a
   * free port. Bound on the same host as the main port.
   */
  readonly healthPort?: number;
  /**
   * Whether to serve `beacon.diagnostics.v1.DiagnosticsService` (`Echo`, `GetServerInfo`); on
   * by default for the internal network, off at a public door (the gateway), where the version,
   * runtime and instance id would tell a stranger what to attack.
   */
  readonly diagnostics?: boolean;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** The plaintext health port, when one was asked for. */
  readonly healthPort: number | undefined;
  readonly health: HealthRegistry;
  /** Drains (health NOT_SERVING), lets in-flight calls finish within the grace, then stops. */
  shutdown(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Kubernetes refreshes a mounted Secret within about a minute of its change (cert-manager renews
 * long before expiry), so reading the files once a minute serves a rotated certificate soon
 * enough without a restart.
 */
export const DEFAULT_TLS_REFRESH_MS = 60_000;

/**
 * Clients keep one HTTP/2 connection per target for as long as it works, so a replica added by
 * the autoscaler would get no calls from existing callers. After this age (±10 %, grpc-js's
 * jitter) the server sends GOAWAY: new calls go over a new connection, made after the client
 * resolves the address again, while calls and streams in flight finish on the old one.
 */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 5 * 60_000;

/**
 * Starts a grpc-js server hosting the given services plus `grpc.health.v1.Health`,
 * `beacon.diagnostics.v1.DiagnosticsService` and server reflection, with message-size limits and
 * a maximum connection age set.
 */
export async function startGrpcServer(config: GrpcServerConfig): Promise<RunningGrpcServer> {
  const maxMessageBytes = config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // No keepalive pings, and no client of Beacon's sends any: grpc-js (1.14) drops a connection
    // retired at its age at the next ping on it, from either side, with every call and stream
    // still on it (the storm lost 82 reports so, and agencies' feeds were cut every five
    // minutes). Unary calls end by their deadlines; a feed notices a dead client by its
    // heartbeats. No grace either: a stream outlives its connection's age until it ends.
    'grpc.max_connection_age_ms': config.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS,
    ...(config.metrics ? { interceptors: [grpcServerMetrics(config.metrics)] } : {}),
  });

  const withDiagnostics = config.diagnostics ?? true;
  const health = new HealthRegistry([
    ...(withDiagnostics ? [diagnosticsV1.protobufPackage + '.DiagnosticsService'] : []),
    ...config.services.map((s) => s.name),
  ]);
  server.addService(healthV1.HealthService, health.implementation());
  if (withDiagnostics) {
    server.addService(
      diagnosticsV1.DiagnosticsServiceService,
      diagnostics(config.component, config.version, config.logger),
    );
  }
  for (const service of config.services) {
    server.addService(tolerant(service.definition), service.implementation);
  }
  addReflection(server, [
    'grpc.health.v1.Health',
    ...(withDiagnostics ? [diagnosticsV1.protobufPackage + '.DiagnosticsService'] : []),
    ...config.services.map((s) => s.name),
  ]);

  const host = config.host ?? '127.0.0.1';
  const tls = config.tls
    ? serverCredentials(config.tls, config.tlsRefreshMs ?? DEFAULT_TLS_REFRESH_MS)
    : undefined;
  const port = await bind(server, `${host}:${config.port}`, tls?.credentials);
  await tls?.firstRead().catch((error: unknown) => {
    server.forceShutdown();
    throw error;
  });
  let healthServer: Server | undefined;
  let healthPort: number | undefined;
  if (config.healthPort !== undefined) {
    healthServer = new Server();
    // Check only: the probe's one call; nothing else is reachable without TLS.
    const { check } = health.implementation();
    healthServer.addService({ check: healthV1.HealthService.check }, { check });
    healthPort = await bind(healthServer, `${host}:${config.healthPort}`, undefined).catch(
      (error: unknown) => {
        server.forceShutdown();
        throw error;
      },
    );
  }
  config.logger.info(
    {
      port,
      services: config.services.map((s) => s.name),
      tls: config.tls ? (config.tls.clientCaFile ? 'mutual' : 'server') : 'off',
      ...(healthPort === undefined ? {} : { healthPort }),
    },
    'grpc server listening',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= new Promise<void>((resolve) => {
      health.drain();
      health.closeWatches();
      // The probe's port closes with the calls' end, so the kubelet sees NOT_SERVING meanwhile.
      const force = setTimeout(() => {
        config.logger.warn('grpc calls still running after the grace period; cancelling them');
        server.forceShutdown();
        healthServer?.forceShutdown();
        resolve();
      }, config.shutdownGraceMs ?? 10_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        if (healthServer) healthServer.tryShutdown(() => resolve());
        else resolve();
      });
    }));

  return { port, healthPort, health, shutdown };
}

function bind(server: Server, address: string, credentials: ServerCredentials | undefined): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials ?? ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
}

/**
 * TLS credentials whose files grpc-js reads again every `refreshMs` (its certificate provider),
 * so a rotated Secret is served to new connections without a restart; a pair that fails to load
 * (say, a certificate written before its key) is logged by grpc-js, and connections are refused
 * until the next read succeeds. grpc-js's typings name the provider parameters the other way
 * round; its implementation takes the identity (certificate and key) first and the client CA
 * (null: no client certificates asked for) second.
 */
function serverCredentials(
  tls: GrpcServerTls,
  refreshMs: number,
): { credentials: ServerCredentials; firstRead: () => Promise<void> } {
  const files = new experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    ...(tls.clientCaFile ? { caCertificateFile: tls.clientCaFile } : {}),
    refreshIntervalMs: refreshMs,
  });
  const credentials = experimental.createCertificateProviderServerCredentials(
    files,
    tls.clientCaFile ? files : null,
    Boolean(tls.clientCaFile),
  );
  // grpc-js reads the files after the server starts listening, and ends every handshake until
  // that read is done: a client that came at once was cut off ("socket disconnected before
  // secure TLS connection was established", seen in CI). So a server is started only once its
  // files are read (the client CA, when there is one, comes in the same read, handed over
  // before this listener's promise settles).
  const firstRead = () =>
    new Promise<void>((resolve, reject) => {
      const read = (update: unknown) => {
        if (!update) return; // not readable yet: grpc-js reads again every `refreshMs`
        clearTimeout(timer);
        files.removeIdentityCertificateListener(read);
        resolve();
      };
      const timer = setTimeout(() => {
        files.removeIdentityCertificateListener(read);
        reject(
          new Error(
            `GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE: ${tls.certFile} and ${tls.keyFile} not readable within ${TLS_FIRST_READ_MS / 1000} s`,
          ),
        );
      }, TLS_FIRST_READ_MS);
      files.addIdentityCertificateListener(read);
    });
  return { credentials, firstRead };
}

/** How long a server waits at start for its TLS files to be read. */
const TLS_FIRST_READ_MS = 10_000;

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
