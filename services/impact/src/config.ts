import { z } from 'zod';
import {
  ConfigError,
  env,
  GRPC_CLIENT_ENV,
  grpcClientTlsFrom,
  parseConfig,
  SERVICE_ENV,
  SERVICE_IDENTITY_ENV,
  serviceConfigFrom,
  serviceIdentityFrom,
} from '@beacon/platform';

const schema = {
  ...SERVICE_ENV,
  IMPACT_GRPC_HOST: z.string().default('127.0.0.1'),
  IMPACT_GRPC_PORT: env.port(50062),
  IMPACT_DB: env.database('beacon_impact'),
  /** TLS for the calls to intake (docs/operations.md). */
  ...GRPC_CLIENT_ENV,
  /** Durable consumer of incident events, shared by every impact replica. */
  IMPACT_CONSUMER: env.name('impact-incidents'),
  /**
   * host:port of intake, to raise incidents' NCISS inputs from their cascades, with impact's
   * own service identity (SERVICE_IDENTITY_ENV: a token endpoint and client, or a token file).
   * Both or neither.
   */
  INTAKE_ADDRESS: env.hostPort().optional(),
  ...SERVICE_IDENTITY_ENV,
  /** After a registry change, how long before assessed incidents are re-assessed (a burst shares one run). */
  REASSESS_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
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
  const base = serviceConfigFrom(raw, {
    grpc: { host: raw.IMPACT_GRPC_HOST, port: raw.IMPACT_GRPC_PORT },
    db: raw.IMPACT_DB,
  });
  return {
    ...base,
    nats: { ...base.nats, consumer: raw.IMPACT_CONSUMER },
    intake:
      raw.INTAKE_ADDRESS && identity
        ? {
            address: raw.INTAKE_ADDRESS,
            identity,
            ...(grpcClientTls ? { tls: grpcClientTls } : {}),
          }
        : undefined,
    reassessDelayMs: raw.REASSESS_DELAY_MS,
  } as const;
}
