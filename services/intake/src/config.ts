import { z } from 'zod';
import { env, parseConfig, SERVICE_ENV, serviceConfigFrom } from '@beacon/platform';

const schema = {
  ...SERVICE_ENV,
  INTAKE_GRPC_HOST: z.string().default('127.0.0.1'),
  INTAKE_GRPC_PORT: env.port(50061),
  INTAKE_DB: env.database('beacon_intake'),
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
  /** How long a client's `idempotency-key` is honoured (at least; forgotten within the hour after). */
  IDEMPOTENCY_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
};

export type IntakeConfig = ReturnType<typeof loadConfig>;

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  return {
    ...serviceConfigFrom(raw, {
      grpc: { host: raw.INTAKE_GRPC_HOST, port: raw.INTAKE_GRPC_PORT },
      db: raw.INTAKE_DB,
    }),
    correlation: { secret: raw.CORRELATION_SECRET, windowMs: raw.CORRELATION_WINDOW_HOURS * 3_600_000 },
    stixIdentity: { id: raw.STIX_IDENTITY_ID, name: raw.STIX_IDENTITY_NAME },
    idempotencyRetentionMs: raw.IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
  } as const;
}
