import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Db, MongoClient } from 'mongodb';
import { natsDependency, storeDependency, watchDependencies, type Dependency } from './dependency-health.js';
import { startGrpcServer, type GrpcServiceBinding } from './grpc-server.js';
import type { Logger } from './logger.js';
import { Metrics, startMetricsServer } from './metrics.js';
import { connectMongo } from './mongo.js';
import { connectNats, ensureStreams, eventsStream, type StreamSpec } from './nats.js';
import type { OutboxDoc } from './outbox-document.js';
import { OutboxRelay } from './outbox-relay.js';
import { watchOutbox } from './outbox-metrics.js';
import { marksFor, pendingMarksDb } from './pending-marks.js';
import type { EventsNats, ServiceConfig } from './service-config.js';
import { StopOrder } from './stop-order.js';

/** What the chassis has connected and built, for a service to build its own parts on. */
export interface ServiceResources {
  readonly mongo: MongoClient;
  /** The service's own database. */
  readonly db: Db;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** Publishes the events the service's documents carry; started once the parts are built. */
  readonly relay: OutboxRelay;
  /** The process's metrics, served on `/metrics`. */
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** What a service adds to the chassis: its gRPC services and what it runs beside them. */
export interface ServiceParts {
  readonly grpc: readonly GrpcServiceBinding[];
  /** Starts consumers and sweeps: after the outbox relay, before the gRPC server takes calls. */
  readonly start?: () => Promise<void>;
  /** Stops them: once the gRPC server has drained, before the relay, NATS and the store close. */
  readonly stop?: () => Promise<void>;
  /** What the service is not ready without besides the store and NATS: its consumers. */
  readonly dependencies?: readonly Dependency[];
}

export interface ServiceSpec<P extends ServiceParts> {
  /** e.g. `intake`: the gRPC server's component, and `beacon-intake` to Mongo and NATS. */
  readonly component: string;
  readonly version: string;
  readonly config: Pick<ServiceConfig, 'grpc' | 'mongo' | 'nats' | 'metrics' | 'recoverySweepMs'>;
  readonly logger: Logger;
  /** Streams the service declares besides the events stream. */
  readonly streams?: readonly StreamSpec[];
  /** The collections whose documents carry events for the relay (their outboxes). */
  readonly outbox: {
    readonly collections: readonly string[];
    /** Documents the relay publishes at once (see `OutboxRelayOptions.concurrency`). */
    readonly concurrency?: number;
  };
  /** Builds the service's own parts on what the chassis connected. */
  build(resources: ServiceResources): Promise<P>;
}

export interface RunningService<P extends ServiceParts> {
  readonly port: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  readonly relay: OutboxRelay;
  readonly parts: P;
  /** Stops in order: metrics, gRPC (drained), the service's parts, relay, NATS, the store. */
  readonly stop: () => Promise<void>;
}

/**
 * One start-up for every service with a store, the event stream and a gRPC server: connects
 * MongoDB and NATS, declares the streams, builds the outbox relay (its pending marks indexed)
 * and metrics, lets the service build its parts on them, then starts the relay, the parts, the
 * gRPC server (health, reflection) and `/metrics`. Each hosted service's health follows the
 * store and NATS (see `watchDependencies`). What started is closed again if a later
 * step fails, so a failed start leaves no connection open.
 */
export async function startService<P extends ServiceParts>(spec: ServiceSpec<P>): Promise<RunningService<P>> {
  const { config, logger } = spec;
  const name = `beacon-${spec.component}`;
  const undo = new StopOrder();
  try {
    const mongo = await connectMongo({ url: config.mongo.url, appName: name, logger });
    undo.push(() => mongo.close());
    const nc = await connectEvents(config.nats, name, logger, spec.streams);
    undo.push(() => nc.drain());
    const db = mongo.db(config.mongo.db);
    const { collections, concurrency } = spec.outbox;
    // Marks of the documents with events (see `PendingMarks`): the relay's sweep reads them
    // rather than whole collections.
    const marks = marksFor(pendingMarksDb(mongo, config.mongo.db), collections, 'outbox');
    await Promise.all(Object.values(marks).map((m) => m.init()));
    const js = jetstream(nc);
    const relay = new OutboxRelay({
      sources: Object.fromEntries(collections.map((c) => [c, db.collection<OutboxDoc>(c)])),
      marks,
      js,
      subjectRoot: config.nats.subjectRoot,
      logger,
      sweepMs: config.recoverySweepMs,
      ...(concurrency === undefined ? {} : { concurrency }),
    });
    const metrics = new Metrics();
    watchOutbox(metrics, relay, { logger });

    const parts = await spec.build({ mongo, db, nc, js, relay, metrics, logger });
    relay.start();
    undo.push(() => relay.stop());
    await parts.start?.();
    if (parts.stop) undo.push(parts.stop);
    const server = await startGrpcServer({
      component: spec.component,
      version: spec.version,
      ...config.grpc,
      logger,
      metrics,
      services: parts.grpc,
    });
    undo.push(() => server.shutdown());
    // Not ready while the store, NATS or one of its consumers fails (stopped before the server drains).
    const stopWatch = watchDependencies({
      health: server.health,
      services: parts.grpc.map((binding) => binding.name),
      dependencies: [storeDependency(db), natsDependency(nc), ...(parts.dependencies ?? [])],
      logger,
    });
    undo.push(async () => stopWatch());
    const metricsServer = await startMetricsServer(metrics, config.metrics, logger);
    undo.push(() => metricsServer.stop());

    return {
      port: server.port,
      metricsPort: metricsServer.port,
      relay,
      parts,
      stop: () => undo.stop(),
    };
  } catch (error) {
    await undo.stopAfterFailedStart(logger);
    throw error;
  }
}

/**
 * Connects to NATS as `name` (e.g. `beacon-intake`) and declares the events stream and `streams`
 * beside it, as every process that publishes or consumes Beacon's events does at start.
 */
export async function connectEvents(
  nats: EventsNats,
  name: string,
  logger: Logger,
  streams: readonly StreamSpec[] = [],
): Promise<NatsConnection> {
  const nc = await connectNats({ servers: nats.servers, ...nats.client, name, logger });
  try {
    await ensureStreams(nc, [eventsStream(nats.stream, nats.subjectRoot, nats.replicas), ...streams]);
    return nc;
  } catch (error) {
    await nc.drain().catch(() => undefined);
    throw error;
  }
}
