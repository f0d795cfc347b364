import type { AddressInfo } from 'node:net';
import { Metadata } from '@grpc/grpc-js';
import {
  connectNats,
  createAuthenticator,
  grpcChannelCredentials,
  Metrics,
  RateLimiter,
  ServingStatus,
  startGrpcServer,
  startMetricsServer,
  StopOrder,
  type Logger,
} from '@beacon/platform';
import { healthV1, impactV1, intakeV1, notifyV1, responseV1, victimsV1 } from '@beacon/proto';
import type { GatewayConfig } from './config.js';
import { Admission } from './admission.js';
import { ClientAddresses } from './client-address.js';
import { FrontDoor } from './front-door.js';
import { LimitSharing } from './limit-sharing.js';
import { grpcPassThrough } from './grpc-front.js';
import { restMetrics } from './rest/metrics.js';
import { createRestServer, type MessageCodec } from './rest/server.js';
import { RequestSchemas } from './rest/schemas.js';
import { AlwaysPresent } from './rest/always-present.js';
import { ROUTES } from './routes.js';
import { Upstream } from './upstream.js';
import { VERSION } from './version.js';
import openapi from './gen/openapi.json' with { type: 'json' };

export interface RunningGateway {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  stop(): Promise<void>;
}

/** Message codecs by protobuf package, for the REST door's JSON mapping. */
const PACKAGES: Record<string, Record<string, unknown>> = {
  'beacon.intake.v1': intakeV1,
  'beacon.impact.v1': impactV1,
  'beacon.notify.v1': notifyV1,
  'beacon.victims.v1': victimsV1,
  'beacon.response.v1': responseV1,
};

function codec(fullName: string): MessageCodec {
  const dot = fullName.lastIndexOf('.');
  const found = PACKAGES[fullName.slice(0, dot)]?.[fullName.slice(dot + 1)];
  if (!found) throw new Error(`no codec for ${fullName}`);
  return found as MessageCodec;
}

/** The services the gateway forwards to: their gRPC name, definition, and configured address. */
function upstreamServices(config: GatewayConfig) {
  return [
    ['beacon.intake.v1.IntakeService', intakeV1.IntakeServiceService, config.intakeAddress],
    ['beacon.impact.v1.ImpactService', impactV1.ImpactServiceService, config.impactAddress],
    ['beacon.notify.v1.NotifyService', notifyV1.NotifyServiceService, config.notifyAddress],
    ['beacon.victims.v1.VictimsService', victimsV1.VictimsServiceService, config.victimsAddress],
    ['beacon.response.v1.ResponseService', responseV1.ResponseServiceService, config.responseAddress],
  ] as const;
}

/** Starts the gRPC and REST doors in front of the services. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const stops = new StopOrder();
  try {
    return await serve(config, logger, stops);
  } catch (error) {
    await stops.stopAfterFailedStart(logger);
    throw error;
  }
}

async function serve(config: GatewayConfig, logger: Logger, stops: StopOrder): Promise<RunningGateway> {
  // One set of client credentials (one watcher of the TLS files) for every upstream.
  const channel = grpcChannelCredentials(config.grpcClientTls);
  // Only the services with an address are served: intake always, the others when configured.
  const served = upstreamServices(config).flatMap(([name, definition, address]) =>
    address === undefined ? [] : [{ name, definition, upstream: new Upstream(address, channel) }],
  );
  stops.push(() => {
    for (const { upstream } of served) upstream.close();
  });
  const upstreams = new Map(served.map(({ name, upstream }) => [name, upstream]));
  const metrics = new Metrics();
  const limiters = {
    address: new RateLimiter(config.addressLimit.perSecond, config.addressLimit.burst),
    failures: new RateLimiter(config.failureLimit.perSecond, config.failureLimit.burst),
    subject: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst),
  };
  const sharing = config.limitSharing
    ? new LimitSharing(
        await connectNats({ ...config.limitSharing.nats, name: 'gateway', logger }),
        config.limitSharing.subject,
        limiters,
        config.limitSharing.intervalMs,
        logger,
      )
    : undefined;
  const frontDoor = new FrontDoor({
    // The public door: people's tokens only; Beacon's service identities are refused here.
    authenticator: createAuthenticator(config.auth, { door: 'public' }),
    upstreams,
    admission: new Admission({
      addresses: new ClientAddresses(config.trustedProxies),
      perAddress: limiters.address,
      failuresPerAddress: limiters.failures,
      perSubject: limiters.subject,
      ...('keys' in config.auth.jwks
        ? { keyIds: new Set(config.auth.jwks.keys.keys.flatMap((k) => (k.kid ? [k.kid] : []))) }
        : {}),
      metrics,
    }),
    maxCallMs: config.maxCallMs,
  });
  // Every service the gateway forwards to: it is ready only while each of them serves.
  const health = [...new Set(upstreamServices(config).flatMap(([, , address]) => address ?? []))].map(
    (address) => new healthV1.HealthClient(address, channel),
  );
  stops.push(() => {
    for (const client of health) client.close();
  });

  const grpc = await startGrpcServer({
    component: 'gateway',
    version: VERSION,
    host: config.host,
    port: config.grpcPort,
    ...config.grpcServer,
    logger,
    metrics,
    // Diagnostics tell a stranger the version, runtime and instance: the services behind the
    // gateway serve them on the internal network, the public door does not.
    diagnostics: false,
    // The same limits on both doors.
    maxMessageBytes: config.maxBodyBytes,
    services: served.map(({ name, definition }) =>
      grpcPassThrough(name, definition, frontDoor, { logger, maxCallMs: config.maxCallMs }),
    ),
  });
  stops.push(() => grpc.shutdown());

  const rest = createRestServer({
    routes: ROUTES,
    frontDoor,
    schemas: new RequestSchemas(openapi),
    alwaysPresent: new AlwaysPresent(openapi),
    codec,
    openapi,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxCallMs: config.maxCallMs,
    record: restMetrics(metrics),
    // One round of health checks at a time, its answer kept a second: a flood of /readyz is
    // not a flood of upstream calls. Not ready while any service behind the door is down.
    ready: sharedForOneSecond(async () => (await Promise.all(health.map(serving))).every(Boolean)),
  });
  await new Promise<void>((resolve) => rest.listen(config.httpPort, config.host, resolve));
  stops.push(async () => {
    await new Promise<void>((resolve) => rest.close(() => resolve()));
    rest.closeAllConnections();
  });
  // Registered after the doors, so it stops before they close.
  if (sharing) stops.push(() => sharing.stop());
  const httpPort = (rest.address() as AddressInfo).port;
  logger.info({ httpPort, grpcPort: grpc.port }, 'gateway listening');
  const metricsServer = await startMetricsServer(metrics, config.metrics, logger);
  stops.push(() => metricsServer.stop());

  return { grpcPort: grpc.port, httpPort, metricsPort: metricsServer.port, stop: () => stops.stop() };
}

/** `check` at most once a second, concurrent callers sharing the one in flight. */
function sharedForOneSecond(check: () => Promise<boolean>): () => Promise<boolean> {
  let last: { readonly at: number; readonly answer: Promise<boolean> } | undefined;
  return () => {
    const now = performance.now();
    if (!last || now - last.at >= 1_000) last = { at: now, answer: check() };
    return last.answer;
  };
}

/** Whether a service answers its health check SERVING within two seconds. */
function serving(client: healthV1.HealthClient): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    client.check(
      { service: '' },
      new Metadata(),
      { deadline: new Date(Date.now() + 2_000) },
      (error, response) => resolve(!error && response.status === ServingStatus.SERVING),
    );
  });
}
