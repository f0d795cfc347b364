import { createHash, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import {
  connectMongo,
  connectNats,
  createAuthenticator,
  ensureStreams,
  eventsStream,
  grpcChannelCredentials,
  Metrics,
  marksFor,
  pendingMarksDb,
  OutboxRelay,
  serviceTokens,
  startGrpcServer,
  startMetricsServer,
  watchConsumerLag,
  watchOutbox,
  type Logger,
  type OutboxDoc,
} from '@beacon/platform';
import { ImpactService } from './app/impact-service.js';
import { Reassessment } from './app/reassessment.js';
import type { Clock } from './app/ports.js';
import { impactGrpc } from './adapters/grpc/impact-grpc.js';
import { IntakeSeverityFeed } from './adapters/grpc/intake-severity.js';
import { MongoAssessmentStore } from './adapters/mongo/assessment-store.js';
import { MongoRegistryStore } from './adapters/mongo/registry-store.js';
import { IncidentConsumer } from './adapters/nats/incident-consumer.js';
import type { ImpactConfig } from './config.js';

export const VERSION = '0.1.0';

export interface RunningImpact {
  readonly port: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  readonly service: ImpactService;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

/**
 * Wires impact to its database, JetStream and a gRPC server: rebuilds the graph from the
 * store, starts the outbox relay and the incident consumer.
 */
export async function startImpact(
  config: ImpactConfig,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningImpact> {
  const mongo = await connectMongo({ url: config.mongo.url, appName: 'beacon-impact', logger });
  const nc = await connectNats({
    servers: config.nats.servers,
    ...config.nats.client,
    name: 'beacon-impact',
    logger,
  });
  await ensureStreams(nc, [eventsStream(config.nats.stream, config.nats.subjectRoot, config.nats.replicas)]);

  const db = mongo.db(config.mongo.db);
  // Marks of the documents with events (see `PendingMarks`): the relay's sweep reads them
  // rather than the whole collection.
  const outboxMarks = marksFor(pendingMarksDb(mongo, config.mongo.db), ['assessments'], 'outbox');
  await Promise.all(Object.values(outboxMarks).map((marks) => marks.init()));
  const relay = new OutboxRelay({
    sources: { assessments: db.collection<OutboxDoc>('assessments') },
    marks: outboxMarks,
    js: jetstream(nc),
    subjectRoot: config.nats.subjectRoot,
    logger,
    sweepMs: config.recoverySweepMs,
  });
  const metrics = new Metrics();
  watchOutbox(metrics, relay, { logger });
  watchConsumerLag(metrics, {
    nc,
    consumers: () => [{ stream: config.nats.stream, consumer: config.nats.consumer }],
    logger,
  });
  const registry = new MongoRegistryStore(db);
  await registry.init();
  const severity = config.intake
    ? new IntakeSeverityFeed(
        config.intake.address,
        serviceTokens(config.intake.identity, {
          onRenewalFailure: (err) => logger.warn({ err }, 'renewing the service token failed; retrying'),
        }),
        grpcChannelCredentials(config.intake.tls),
      )
    : undefined;
  const assessments = new MongoAssessmentStore(db, randomUUID, relay.announcer('assessments'));
  const service = new ImpactService({
    registry,
    assessments,
    ...(severity ? { severity } : {}),
    clock,
    uuid: randomUUID,
    digest: (text) => createHash('sha256').update(text).digest('hex'),
    onRegistryChanged: () => reassessment.schedule(),
  });
  // A registry change may move the cascade of incidents already assessed: re-assess them,
  // a burst of changes at once.
  const reassessment = new Reassessment({
    incidents: assessments,
    reassess: (incident) => service.reassess(incident),
    delayMs: config.reassessDelayMs,
    onError: (err) => logger.warn({ err }, 're-assessing incidents after a registry change failed'),
  });
  const started = performance.now();
  await service.init();
  logger.info(
    {
      assets: service.graph.assetCount,
      dependencies: service.graph.dependencyCount,
      ms: Math.round(performance.now() - started),
    },
    'dependency graph loaded',
  );
  relay.start();
  const consumer = new IncidentConsumer({
    nc,
    stream: config.nats.stream,
    subjectRoot: config.nats.subjectRoot,
    durable: config.nats.consumer,
    service,
    logger,
  });
  await consumer.start();

  const server = await startGrpcServer({
    component: 'impact',
    version: VERSION,
    ...config.grpc,
    logger,
    metrics,
    services: [impactGrpc({ service, authenticator: createAuthenticator(config.auth), logger })],
  });

  const metricsServer = await startMetricsServer(metrics, config.metrics, logger);

  return {
    port: server.port,
    metricsPort: metricsServer.port,
    service,
    stop: async () => {
      await reassessment.close();
      await metricsServer.stop();
      await server.shutdown();
      await consumer.stop();
      await relay.stop();
      severity?.close();
      await nc.drain();
      await mongo.close();
    },
  };
}
