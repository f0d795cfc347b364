import { createHmac, randomUUID } from 'node:crypto';
import {
  createAuthenticator,
  PendingMarks,
  pendingMarksDb,
  pendingMarksName,
  repeat,
  startService,
  type Logger,
  type OutboxRelay,
} from '@beacon/platform';
import { IntakeService, RECOVERY_BATCH } from './app/intake-service.js';
import { MERGE_RECOVERY_BATCH } from './app/merge-incidents.js';
import type { Clock } from './app/ports.js';
import { intakeGrpc } from './adapters/grpc/intake-grpc.js';
import { MongoAuditLog } from './adapters/mongo/audit-log.js';
import { MongoCorrelationIndex } from './adapters/mongo/correlation-index.js';
import { MongoIdempotencyStore } from './adapters/mongo/idempotency-store.js';
import { incidentsIndexDb, MongoIncidentStore } from './adapters/mongo/incident-store.js';
import { MongoIndicatorClaimStore } from './adapters/mongo/indicator-claim-store.js';
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
  const running = await startService({
    component: 'intake',
    version: VERSION,
    config,
    logger,
    outbox: { collections: ['incidents', 'relations'] },
    build: async ({ mongo, db, relay }) => {
      const encode = (event: Parameters<typeof encodeEvent>[0]) =>
        encodeEvent(event, { id: randomUUID(), time: clock.now() });
      // Marks of the documents with pending work (see `PendingMarks`): the sweeps below read
      // them rather than whole collections. They use the service's clock, as the sweeps' grace
      // (`olderThanMs`) does.
      const marksDb = pendingMarksDb(mongo, config.mongo.db);
      const marksOf = (source: string, kind: string) =>
        new PendingMarks(marksDb.collection(pendingMarksName(source, kind)), { now: () => clock.now() });
      const incidentMarks = { audits: marksOf('incidents', 'audit'), merges: marksOf('incidents', 'merge') };
      const incidents = new MongoIncidentStore(db, encode, {
        relay: relay.announcer('incidents'),
        marks: incidentMarks,
        now: () => clock.now(),
        indexDb: incidentsIndexDb(mongo, config.mongo.db),
      });
      const reports = new MongoReportStore(db, marksOf('reports', 'link'));
      const relations = new MongoRelationStore(db, encode, relay.announcer('relations'));
      const audit = new MongoAuditLog(db);
      const sightings = new MongoSightingStore(db);
      const [{ secondaryIndexes }] = await Promise.all([incidents.init(), reports.init(), sightings.init()]);
      if (!secondaryIndexes) logger.info('FerretDB: incident lists and filters scan the collection');

      const service = new IntakeService({
        incidents,
        reports,
        idempotency: new MongoIdempotencyStore(db),
        audit,
        sightings,
        correlation: new MongoCorrelationIndex(db),
        claims: new MongoIndicatorClaimStore(db),
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
      let sweeps: ReturnType<typeof recoverySweeps> = [];
      return {
        service,
        audit,
        grpc: [intakeGrpc({ service, authenticator: createAuthenticator(config.auth), clock, logger })],
        start: async () => {
          sweeps = recoverySweeps(service, config.recoverySweepMs, logger);
        },
        // A sweep under way is let finish (at 20,000 documents, seconds).
        stop: async () => {
          await Promise.all(sweeps.map((sweep) => sweep.stop()));
        },
      };
    },
  });
  return {
    port: running.port,
    metricsPort: running.metricsPort,
    service: running.parts.service,
    audit: running.parts.audit,
    relay: running.relay,
    stop: running.stop,
  };
}

/**
 * What a crash (or a store that failed mid-request) left half done: reports not yet in their
 * incident, audit records stored with their change but not yet in the log, merges. Each reads
 * its marks and the marked documents by `_id`, and a whole collection (on FerretDB) at its
 * first run and then hourly (`PendingSweep`); each runs alone and is spaced by its duration
 * (see `repeat`), unless it found a full batch: then a backlog is being worked off, and it goes
 * on at once.
 */
function recoverySweeps(service: IntakeService, periodMs: number, logger: Logger) {
  return [
    repeat(async () => (await service.linkUnlinkedReports()) >= RECOVERY_BATCH, {
      periodMs,
      logger,
      what: 'linking reports',
    }),
    repeat(async () => (await service.finishPendingMerges()) >= MERGE_RECOVERY_BATCH, {
      periodMs,
      logger,
      what: 'finishing merges',
    }),
    repeat(async () => (await service.appendPendingAudits()) >= RECOVERY_BATCH, {
      periodMs,
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
}
