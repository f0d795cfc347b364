import { z } from 'zod';
import {
  commaList,
  clientTlsFrom,
  ConfigError,
  env,
  EVENTS_NATS_ENV,
  eventsNatsFrom,
  GRPC_CLIENT_ENV,
  GRPC_PROCESS_ENV,
  grpcClientTlsFrom,
  grpcProcessConfigFrom,
  parseConfig,
  SERVICE_IDENTITY_ENV,
  serviceIdentityFrom,
  secretFrom,
} from '@beacon/platform';
import type { TemporalConnectionSettings } from './adapters/temporal-connection.js';

const ROLES = ['worker', 'starter', 'acks', 'api'] as const;
export type WorkflowsRole = (typeof ROLES)[number];

const schema = {
  TEMPORAL_ADDRESS: env.hostPort().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('beacon'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('response'),
  /**
   * TLS to the Temporal frontend. Unset, it is on when any TEMPORAL_TLS_* file, the server name
   * or an API key is set (an API key never travels in clear), and off otherwise.
   */
  TEMPORAL_TLS: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .optional(),
  /** Mutual TLS: the client certificate and its key (both or neither), PEM; read at start. */
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The CA the frontend's certificate chains to (else the system's roots). */
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  /** The name to check the frontend's certificate against, when not the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** An API key (Temporal Cloud), inline or in a file, at most one; read at start. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_API_KEY_FILE: z.string().min(1).optional(),
  /**
   * host:port (loopback) where the Temporal core's own Prometheus exporter listens; its metrics
   * (`temporal_*`) are served with Beacon's at /metrics. Unset: the core exports none.
   */
  TEMPORAL_METRICS_ADDRESS: env.hostPort().optional(),
  ...EVENTS_NATS_ENV,
  /** Where every response's timeline is kept, entry by entry (`adapters/timeline-store.ts`). */
  TIMELINE_STREAM: env.name('RESPONSE_TIMELINE'),
  TIMELINE_SUBJECT_ROOT: env.subjectRoot('beacon.timeline'),
  /**
   * host:port of intake and notify, which every response needs; the response API asks intake,
   * as each caller, whether the incident is there for that caller.
   */
  INTAKE_ADDRESS: env.hostPort(),
  NOTIFY_ADDRESS: env.hostPort(),
  /** host:port of impact; without it responses go on without cascades. */
  IMPACT_ADDRESS: env.hostPort().optional(),
  /** host:port of victims; without it responses say their victims were not followed up. */
  VICTIMS_ADDRESS: env.hostPort().optional(),
  /** TLS for the calls to intake, notify, impact and victims (docs/operations.md). */
  ...GRPC_CLIENT_ENV,
  /** The worker's own service identity: a token endpoint and client, or a token file. */
  ...SERVICE_IDENTITY_ENV,
  /** Durable consumers shared by every replica. */
  WORKFLOWS_STARTER_CONSUMER: env.name('workflows-starter'),
  WORKFLOWS_ACK_CONSUMER: env.name('workflows-acks'),
  WORKFLOWS_CHANGES_CONSUMER: env.name('workflows-incident-changes'),
  /** The response API (ResponseService) the gateway forwards coordinators' commands to. */
  RESPONSE_GRPC_HOST: z.string().default('127.0.0.1'),
  RESPONSE_GRPC_PORT: env.port(50065),
  /**
   * TLS or mutual TLS on the response API and a plaintext health port (docs/operations.md), its
   * callers' tokens, /metrics and the log level.
   */
  ...GRPC_PROCESS_ENV,
  /**
   * What this process runs, comma-separated: the Temporal `worker`, the incident `starter` (with
   * the consumer of intake's later changes), the acknowledgement consumer (`acks`) and the
   * response `api`. All by default; split them to
   * scale each on its own.
   */
  WORKFLOWS_ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((value, ctx) => {
      const roles = commaList(value);
      const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (unknown.length > 0 || roles.length === 0) {
        ctx.addIssue({ code: 'custom', message: `roles are ${ROLES.join(', ')}` });
      }
      return new Set(roles as WorkflowsRole[]);
    }),
  /** Workflows the worker keeps in memory between tasks (Temporal's default: 1,000). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
};

export type WorkflowsConfig = ReturnType<typeof loadConfig>;

/** How to reach the Temporal frontend, from the TEMPORAL_* variables, checked now. */
function temporalConnectionFrom(raw: {
  readonly TEMPORAL_ADDRESS: string;
  readonly TEMPORAL_TLS?: boolean | undefined;
  readonly TEMPORAL_TLS_SERVER_NAME?: string | undefined;
}): TemporalConnectionSettings {
  const files = clientTlsFrom(raw, {
    cert: 'TEMPORAL_TLS_CERT_FILE',
    key: 'TEMPORAL_TLS_KEY_FILE',
    ca: 'TEMPORAL_TLS_CA_FILE',
  });
  const apiKey = secretFrom(raw, 'TEMPORAL_API_KEY', 'TEMPORAL_API_KEY_FILE');
  const needsTls = Boolean(files || raw.TEMPORAL_TLS_SERVER_NAME || apiKey);
  if (raw.TEMPORAL_TLS === false && needsTls) {
    throw new ConfigError([
      {
        variable: 'TEMPORAL_TLS',
        problem: 'is false, but TEMPORAL_TLS_* or an API key is set, which need TLS',
      },
    ]);
  }
  const tls = raw.TEMPORAL_TLS ?? needsTls;
  return {
    address: raw.TEMPORAL_ADDRESS,
    ...(tls
      ? {
          tls: {
            ...files,
            ...(raw.TEMPORAL_TLS_SERVER_NAME ? { serverName: raw.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  const identity = serviceIdentityFrom(raw, 'workflows');
  if (!identity) {
    throw new ConfigError([
      {
        variable: 'SERVICE_TOKEN_URL / SERVICE_TOKEN_FILE',
        problem: 'set one: the worker calls intake, notify, impact and victims with its own identity',
      },
    ]);
  }
  const roles = raw.WORKFLOWS_ROLES;
  const { grpcServer, auth, metrics, logLevel } = grpcProcessConfigFrom(raw);
  return {
    temporal: {
      connection: temporalConnectionFrom(raw),
      namespace: raw.TEMPORAL_NAMESPACE,
      taskQueue: raw.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: raw.WORKER_MAX_CACHED_WORKFLOWS,
      metricsAddress: raw.TEMPORAL_METRICS_ADDRESS,
    },
    nats: {
      ...eventsNatsFrom(raw),
      timelineStream: raw.TIMELINE_STREAM,
      timelineSubjectRoot: raw.TIMELINE_SUBJECT_ROOT,
      starterConsumer: raw.WORKFLOWS_STARTER_CONSUMER,
      ackConsumer: raw.WORKFLOWS_ACK_CONSUMER,
      changesConsumer: raw.WORKFLOWS_CHANGES_CONSUMER,
    },
    services: {
      intake: raw.INTAKE_ADDRESS,
      notify: raw.NOTIFY_ADDRESS,
      impact: raw.IMPACT_ADDRESS,
      victims: raw.VICTIMS_ADDRESS,
      identity,
      tls: grpcClientTlsFrom(raw),
    },
    api: { host: raw.RESPONSE_GRPC_HOST, port: raw.RESPONSE_GRPC_PORT, ...grpcServer },
    auth,
    roles,
    metrics,
    logLevel,
  } as const;
}
