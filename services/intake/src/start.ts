import { createHmac, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import {
  connectMongo,
  connectNats,
  createAuthenticator,
  ensureStreams,
  eventsStream,
  marksFor,
  pendingMarksDb,
  Metrics,
  OutboxRelay,
  PendingMarks,
  pendingMarksName,
  repeat,
  startGrpcServer,
  startMetricsServer,
  watchOutbox,
  type Logger,
  type OutboxDoc,
} from '@beacon/platform';
import { IntakeService, RECOVERY_BATCH } from './app/intake-service.js';
import { MERGE_RECOVERY_BATCH } from './app/merge-incidents.js';
import type { Clock } from './app/ports.js';
import { intakeGrpc } from './adapters/grpc/intake-grpc.js';
import { MongoAuditLog } from './adapters/mongo/audit-log.js';
import { MongoCorrelationIndex } from './adapters/mongo/correlation-index.js';
import { MongoIdempotencyStore } from './adapters/mongo/idempotency-store.js';
import { MongoIncidentStore } from './adapters/mongo/incident-store.js';
import { MongoRelationStore } from './adapters/mongo/relation-store.js';
import { MongoMergeStore } from './adapters/mongo/merge-store.js';
import { MongoReportStore } from './adapters/mongo/report-store.js';
import { MongoSightingStore } from './adapters/mongo/sighting-store.js';
import { encodeEvent } from './adapters/proto-mapping.js';
import type { IntakeConfig } from './config.js';

export const VERSION = '0.1.0';

export interface RunningIntake {
  readonly port: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  readonly service: IntakeService;
  readonly audit: MongoAuditLog;
  readonly relay: OutboxRelay;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

/** Wires intake to its database, JetStream and a gRPC server, and starts the outbox relay. */
export async function startIntake(
  config: IntakeConfig,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningIntake> {
  const mongo = await connectMongo({ url: config.mongo.url, appName: 'beacon-intake', logger });
  const nc = await connectNats({
    servers: config.nats.servers,
    ...config.nats.client,
    name: 'beacon-intake',
    logger,
  });
  await ensureStreams(nc, [eventsStream(config.nats.stream, config.nats.subjectRoot, config.nats.replicas)]);

  const db = mongo.db(config.mongo.db);
  const encode = (event: Parameters<typeof encodeEvent>[0]) =>
    encodeEvent(event, { id: randomUUID(), time: clock.now() });
  // Marks of the documents with pending work (see `PendingMarks`): the sweeps below read them
  // rather than whole collections. The recovery marks use the service's clock, as the sweeps'
  // grace (`olderThanMs`) does.
  const marksDb = pendingMarksDb(mongo, config.mongo.db);
  const outboxMarks = marksFor(marksDb, ['incidents', 'relations'], 'outbox');
  const marksOf = (source: string, kind: string) =>
    new PendingMarks(marksDb.collection(pendingMarksName(source, kind)), { now: () => clock.now() });
  const incidentMarks = { audits: marksOf('incidents', 'audit'), merges: marksOf('incidents', 'merge') };
  const reportMarks = marksOf('reports', 'link');
  const relay = new OutboxRelay({
    sources: {
      incidents: db.collection<OutboxDoc>('incidents'),
      relations: db.collection<OutboxDoc>('relations'),
    },
    marks: outboxMarks,
    js: jetstream(nc),
    subjectRoot: config.nats.subjectRoot,
    logger,
    sweepMs: config.recoverySweepMs,
  });
  const metrics = new Metrics();
  watchOutbox(metrics, relay, { logger });
  const incidents = new MongoIncidentStore(db, encode, relay.announcer('incidents'), incidentMarks);
  const reports = new MongoReportStore(db, reportMarks);
  const relations = new MongoRelationStore(db, encode, relay.announcer('relations'));
  const audit = new MongoAuditLog(db);
  const sightings = new MongoSightingStore(db);
  const [{ secondaryIndexes }] = await Promise.all([
    incidents.init(),
    reports.init(),
    sightings.init(),
    ...Object.values(outboxMarks).map((marks) => marks.init()),
  ]);
  if (!secondaryIndexes) logger.info('FerretDB: incident lists and filters scan the collection');

  const service = new IntakeService({
    incidents,
    reports,
    idempotency: new MongoIdempotencyStore(db),
    audit,
    sightings,
    correlation: new MongoCorrelationIndex(db),
    relations,
    merges: new MongoMergeStore(db, incidentMarks.merges),
    clock,
    stixIdentity: config.stixIdentity,
    uuid: randomUUID,
    ids: { next: (prefix) => `${prefix}_${randomUUID().replaceAll('-', '')}` },
    hash: (key) => createHmac('sha256', config.correlation.secret).update(key).digest('hex'),
    correlationWindowMs: config.correlation.windowMs,
    idempotencyRetentionMs: config.idempotencyRetentionMs,
  });
  relay.start();
  // What a crash (or a store that failed mid-request) left half done: reports not yet in their
  // incident, audit records stored with their change but not yet in the log, merges. Each reads
  // its marks and the marked documents by `_id`, and a whole collection (on FerretDB) at its
  // first run and then hourly (`PendingSweep`); each runs alone and is spaced by its duration
  // (see `repeat`), unless it found a full batch: then a backlog is being worked off, and it
  // goes on at once.
  const sweeps = [
    repeat(async () => (await service.linkUnlinkedReports()) >= RECOVERY_BATCH, {
      periodMs: config.recoverySweepMs,
      logger,
      what: 'linking reports',
    }),
    repeat(async () => (await service.finishPendingMerges()) >= MERGE_RECOVERY_BATCH, {
      periodMs: config.recoverySweepMs,
      logger,
      what: 'finishing merges',
    }),
    repeat(async () => (await service.appendPendingAudits()) >= RECOVERY_BATCH, {
      periodMs: config.recoverySweepMs,
      logger,
      what: 'appending pending audit records',
    }),
    // Hourly is enough for keys kept a day.
    repeat(
      async () => {
        const forgotten = await service.forgetIdempotencyKeys();
        if (forgotten > 0) logger.info({ forgotten }, 'idempotency keys expired');
      },
      { periodMs: 3_600_000, logger, what: 'expiring idempotency keys' },
    ),
  ];

  const server = await startGrpcServer({
    component: 'intake',
    version: VERSION,
    ...config.grpc,
    logger,
    metrics,
    services: [
      intakeGrpc({
        service,
        authenticator: createAuthenticator(config.auth),
        clock,
        logger,
      }),
    ],
  });

  const metricsServer = await startMetricsServer(metrics, config.metrics, logger);

  return {
    port: server.port,
    metricsPort: metricsServer.port,
    service,
    audit,
    relay,
    stop: async () => {
      await metricsServer.stop();
      // A sweep under way is let finish (at 20,000 documents, seconds) while calls drain.
      await Promise.all([server.shutdown(), ...sweeps.map((sweep) => sweep.stop())]);
      await relay.stop();
      await nc.drain();
      await mongo.close();
    },
  };
}
