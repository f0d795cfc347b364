import { z } from 'zod';
import { commaList, env, parseConfig, SERVICE_ENV, serviceConfigFrom } from '@beacon/platform';

const schema = {
  ...SERVICE_ENV,
  NOTIFY_GRPC_HOST: z.string().default('127.0.0.1'),
  NOTIFY_GRPC_PORT: env.port(50063),
  NOTIFY_DB: env.database('beacon_notify'),
  FEEDS_STREAM: env.name('BEACON_FEEDS'),
  FEEDS_SUBJECT_ROOT: env.subjectRoot('beacon.feed'),
  /** Agencies acknowledge by NATS request on `<root>.<agencyId>.<incidentId>`. */
  ACK_SUBJECT_ROOT: env.subjectRoot('beacon.ack'),
  /** Durable consumers shared by every notify replica. */
  NOTIFY_FANOUT_CONSUMER: env.name('notify-fanout'),
  NOTIFY_CHANNELS_CONSUMER: env.name('notify-channels'),
  /**
   * A JSON file `{ "accountPublicKey": "A…", "signingSeed": "SA…" }`: the Beacon account's
   * signing key, with which notify mints agencies' feed credentials. Without it notify issues
   * none (agencies use the gRPC stream).
   */
  NATS_ACCOUNT_SIGNER_FILE: z.string().min(1).optional(),
  /**
   * Feed credentials' lifetime in hours when the request names none, and the most a request may
   * ask for: hours, since access follows engagement and clearance (README, "How agencies hear
   * of incidents").
   */
  FEED_CREDENTIALS_TTL_HOURS: z.coerce.number().int().min(1).max(72).default(8),
  FEED_CREDENTIALS_MAX_TTL_HOURS: z.coerce.number().int().min(1).max(72).default(24),
  /** Comma-separated CIDR blocks webhooks may reach although not public, e.g. a lab network. */
  /**
   * Feed streams (StreamFeed) an agency may hold open at once on one replica; the next is
   * refused with RESOURCE_EXHAUSTED naming this cap.
   */
  FEED_STREAMS_PER_AGENCY: z.coerce.number().int().min(1).max(1000).default(4),
  /** The longest a feed stream lives; it then ends with UNAVAILABLE and the client resumes. */
  FEED_STREAM_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
  /** How long a feed stream may go without its client taking anything before it is ended. */
  FEED_STREAM_STALL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  WEBHOOK_ALLOW_CIDRS: z.string().default('').transform(commaList),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Without SMTP_HOST no e-mail is sent. */
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: env.port(587),
  SMTP_SECURE: env.flag(false),
  SMTP_REQUIRE_TLS: env.flag(true),
  SMTP_USER: z.string().min(1).optional(),
  /** Secret. */
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_FROM: z.string().min(3).default('Beacon <beacon@localhost>'),
  /** Storm control: events per incident and agency sent at once in a window; the rest as a digest. */
  STORM_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  STORM_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(5),
  RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  RETRY_CAP_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3_600_000)
    .default(3_600_000),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  /**
   * Signed acknowledgement links in e-mails and webhooks, served by notify's own small HTTP
   * page: the key (at least 32 characters; without it no links), where the page is reached
   * from outside, and how long a link lasts.
   */
  ACK_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACK_LINK_BASE_URL: env.url(['http', 'https']).optional(),
  ACK_LINK_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  NOTIFY_HTTP_HOST: z.string().default('127.0.0.1'),
  NOTIFY_HTTP_PORT: env.port(8083),
};

export type NotifyConfig = ReturnType<typeof loadConfig>;

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  if (raw.FEED_CREDENTIALS_TTL_HOURS > raw.FEED_CREDENTIALS_MAX_TTL_HOURS) {
    throw new Error(
      `FEED_CREDENTIALS_TTL_HOURS (${raw.FEED_CREDENTIALS_TTL_HOURS}) must not exceed FEED_CREDENTIALS_MAX_TTL_HOURS (${raw.FEED_CREDENTIALS_MAX_TTL_HOURS})`,
    );
  }
  const base = serviceConfigFrom(raw, {
    grpc: { host: raw.NOTIFY_GRPC_HOST, port: raw.NOTIFY_GRPC_PORT },
    db: raw.NOTIFY_DB,
  });
  return {
    ...base,
    nats: {
      ...base.nats,
      feeds: { stream: raw.FEEDS_STREAM, root: raw.FEEDS_SUBJECT_ROOT },
      ackRoot: raw.ACK_SUBJECT_ROOT,
      fanOutConsumer: raw.NOTIFY_FANOUT_CONSUMER,
      channelsConsumer: raw.NOTIFY_CHANNELS_CONSUMER,
      accountSignerFile: raw.NATS_ACCOUNT_SIGNER_FILE,
      credentialHours: { default: raw.FEED_CREDENTIALS_TTL_HOURS, max: raw.FEED_CREDENTIALS_MAX_TTL_HOURS },
    },
    webhook: { allowCidrs: raw.WEBHOOK_ALLOW_CIDRS, timeoutMs: raw.WEBHOOK_TIMEOUT_MS },
    feedStreams: {
      perAgency: raw.FEED_STREAMS_PER_AGENCY,
      maxLifetimeMs: raw.FEED_STREAM_MAX_SECONDS * 1000,
      stallMs: raw.FEED_STREAM_STALL_SECONDS * 1000,
    },
    smtp: raw.SMTP_HOST
      ? {
          host: raw.SMTP_HOST,
          port: raw.SMTP_PORT,
          secure: raw.SMTP_SECURE,
          requireTls: raw.SMTP_REQUIRE_TLS,
          ...(raw.SMTP_USER && raw.SMTP_PASSWORD
            ? { auth: { user: raw.SMTP_USER, pass: raw.SMTP_PASSWORD } }
            : {}),
          from: raw.SMTP_FROM,
        }
      : undefined,
    storm: { windowMs: raw.STORM_WINDOW_SECONDS * 1000, threshold: raw.STORM_THRESHOLD },
    retry: { baseMs: raw.RETRY_BASE_MS, capMs: raw.RETRY_CAP_MS, maxAttempts: raw.RETRY_MAX_ATTEMPTS },
    ackLinks: raw.ACK_LINK_SECRET
      ? {
          secret: raw.ACK_LINK_SECRET,
          baseUrl: raw.ACK_LINK_BASE_URL ?? `http://${raw.NOTIFY_HTTP_HOST}:${raw.NOTIFY_HTTP_PORT}`,
          ttlSeconds: raw.ACK_LINK_TTL_HOURS * 3600,
          http: { host: raw.NOTIFY_HTTP_HOST, port: raw.NOTIFY_HTTP_PORT },
        }
      : undefined,
  } as const;
}
