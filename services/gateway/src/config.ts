import { isIP } from 'node:net';
import { z } from 'zod';
import {
  commaList,
  env,
  GATEWAY_LIMITS_SUBJECT,
  GRPC_CLIENT_ENV,
  GRPC_PROCESS_ENV,
  grpcClientTlsFrom,
  grpcProcessConfigFrom,
  NATS_CLIENT_ENV,
  natsClientFrom,
  parseConfig,
} from '@beacon/platform';

const schema = {
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_GRPC_PORT: env.port(50051),
  GATEWAY_HTTP_PORT: env.port(8080),
  /**
   * TLS on the gRPC door (e.g. for an ingress that re-encrypts; off in the manifests, where the
   * ingress terminates TLS for both doors; docs/operations.md), people's tokens, /metrics and the
   * log level.
   */
  ...GRPC_PROCESS_ENV,
  /** TLS for the calls to the services behind the gateway (docs/operations.md). */
  ...GRPC_CLIENT_ENV,
  /** host:port of the intake service's gRPC server. */
  INTAKE_ADDRESS: env.hostPort(),
  /** host:port of the notify service; without it the gateway does not serve notify's calls. */
  NOTIFY_ADDRESS: env.hostPort().optional(),
  /** host:port of the impact service; without it the gateway does not serve impact's calls. */
  IMPACT_ADDRESS: env.hostPort().optional(),
  /** host:port of the victims service; without it the gateway does not serve victims' calls. */
  VICTIMS_ADDRESS: env.hostPort().optional(),
  /** host:port of the response API (workflows); without it the gateway does not serve its calls. */
  RESPONSE_ADDRESS: env.hostPort().optional(),
  ...NATS_CLIENT_ENV,
  /** Calls per second each caller (token subject) may make on average, and in a burst. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(200),
  /**
   * Calls per second each client address may make, before its token is looked at. Higher than
   * a caller's: several people may share an address (a NAT, an agency's proxy).
   */
  ADDRESS_RATE_PER_SECOND: z.coerce.number().positive().default(500),
  ADDRESS_RATE_BURST: z.coerce.number().int().positive().default(1000),
  /**
   * Invalid tokens an address may present per minute (and in a burst) before its calls are
   * refused without verifying their tokens.
   */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().positive().default(30),
  AUTH_FAILURES_BURST: z.coerce.number().int().positive().default(30),
  /**
   * Proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges, comma
   * separated). Empty: the header is ignored and the connection's address is the client's.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform(commaList)
    .pipe(
      z.array(
        z.string().refine((entry) => {
          const [address = '', prefix] = entry.split('/');
          const version = isIP(address);
          if (version === 0) return false;
          if (prefix === undefined) return true;
          const bits = Number(prefix);
          return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
        }, 'an IP address or CIDR range'),
      ),
    ),
  /**
   * NATS, to share the rate limits among the gateway's replicas; without it each replica
   * limits on its own. The core subject the replicas report on, and how often. In operator
   * mode the gateway's user may use that subject only (`mintGatewayUser`).
   */
  NATS_URL: env.natsServers().optional(),
  RATE_LIMIT_SUBJECT: z.string().min(1).default(GATEWAY_LIMITS_SUBJECT),
  RATE_LIMIT_SHARE_MS: z.coerce.number().int().min(50).max(10_000).default(250),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  MAX_CALL_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
};

export type GatewayConfig = ReturnType<typeof loadConfig>;

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  return {
    host: raw.GATEWAY_HOST,
    grpcPort: raw.GATEWAY_GRPC_PORT,
    httpPort: raw.GATEWAY_HTTP_PORT,
    ...grpcProcessConfigFrom(raw),
    grpcClientTls: grpcClientTlsFrom(raw),
    intakeAddress: raw.INTAKE_ADDRESS,
    impactAddress: raw.IMPACT_ADDRESS,
    notifyAddress: raw.NOTIFY_ADDRESS,
    victimsAddress: raw.VICTIMS_ADDRESS,
    responseAddress: raw.RESPONSE_ADDRESS,
    rateLimit: { perSecond: raw.RATE_LIMIT_PER_SECOND, burst: raw.RATE_LIMIT_BURST },
    addressLimit: { perSecond: raw.ADDRESS_RATE_PER_SECOND, burst: raw.ADDRESS_RATE_BURST },
    failureLimit: { perSecond: raw.AUTH_FAILURES_PER_MINUTE / 60, burst: raw.AUTH_FAILURES_BURST },
    trustedProxies: raw.TRUSTED_PROXIES,
    limitSharing: raw.NATS_URL
      ? {
          nats: { servers: raw.NATS_URL, ...natsClientFrom(raw) },
          subject: raw.RATE_LIMIT_SUBJECT,
          intervalMs: raw.RATE_LIMIT_SHARE_MS,
        }
      : undefined,
    maxBodyBytes: raw.MAX_BODY_BYTES,
    maxCallMs: raw.MAX_CALL_MS,
  } as const;
}
