import { createHash, randomUUID } from 'node:crypto';
import {
  createAuthenticator,
  grpcChannelCredentials,
  serviceTokens,
  startService,
  watchConsumerLag,
  type Logger,
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
  const running = await startService({
    component: 'impact',
    version: VERSION,
    config,
    logger,
    outbox: { collections: ['assessments'] },
    build: async ({ db, nc, relay, metrics }) => {
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
      const consumer = new IncidentConsumer({
        nc,
        stream: config.nats.stream,
        subjectRoot: config.nats.subjectRoot,
        durable: config.nats.consumer,
        service,
        logger,
      });
      return {
        service,
        grpc: [impactGrpc({ service, authenticator: createAuthenticator(config.auth), logger })],
        start: () => consumer.start(),
        dependencies: [consumer.health()],
        stop: async () => {
          await reassessment.close();
          await consumer.stop();
          severity?.close();
        },
      };
    },
  });
  return {
    port: running.port,
    metricsPort: running.metricsPort,
    service: running.parts.service,
    stop: running.stop,
  };
}
