import { randomBytes, randomUUID } from 'node:crypto';
import { createAuthenticator, startService, type Logger, type OutboxRelay } from '@beacon/platform';
import type { CaseCipher, Clock } from './app/ports.js';
import type { VictimsDeps } from './app/case-work.js';
import { lookupStatus } from './app/read-cases.js';
import { EnvelopeCipher } from './adapters/crypto/envelope-cipher.js';
import { KeyedHasher } from './adapters/crypto/keyed-hash.js';
import { victimsGrpc } from './adapters/grpc/victims-grpc.js';
import { StatusLookup } from './app/status-lookup.js';
import { MongoAuditLog } from './adapters/mongo/audit-log.js';
import { MongoCaseStore } from './adapters/mongo/case-store.js';
import { MongoOrganisationStore } from './adapters/mongo/organisation-store.js';
import { OutboxAnnouncements } from './adapters/outbox-announcements.js';
import type { VictimsConfig } from './config.js';

export const VERSION = '0.1.0';

export interface RunningVictims {
  readonly port: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  /** The outbox relay, for tests and benchmarks that wait for events to be published. */
  readonly relay: OutboxRelay;
  stop(): Promise<void>;
}

export interface VictimsOptions {
  readonly clock?: Clock;
  /** Another cipher than the configured envelope encryption: benchmarks measure its cost so. */
  readonly cipher?: CaseCipher;
}

const systemClock: Clock = { now: () => new Date() };

/** Wires victims to its database, JetStream and a gRPC server, and starts the outbox relay. */
export async function startVictims(
  config: VictimsConfig,
  logger: Logger,
  options: VictimsOptions = {},
): Promise<RunningVictims> {
  const clock = options.clock ?? systemClock;
  const running = await startService({
    component: 'victims',
    version: VERSION,
    config,
    logger,
    // A campaign's bulk intake writes a thousand cases at once: publishing their events a few
    // documents at a time keeps it from queueing ahead of the next batch and of audit records.
    outbox: { collections: ['cases'], concurrency: 4 },
    build: async ({ db, relay, metrics }) => {
      const announcements = new OutboxAnnouncements(relay.announcer('cases'), {
        quietMs: 1_000,
        maxHoldMs: 10_000,
        bulkLeaseMs: 180_000,
      });
      const cases = new MongoCaseStore(db, randomUUID, announcements);
      const audit = new MongoAuditLog(db);
      const [{ secondaryIndexes }] = await Promise.all([cases.init(), audit.init()]);
      if (!secondaryIndexes)
        logger.info('FerretDB: cases are looked up by _id only; lists and searches scan');
      const hasher = new KeyedHasher(config.keys.searchKey);
      const victims: VictimsDeps = {
        cases,
        organisations: new MongoOrganisationStore(db),
        audit,
        cipher: options.cipher ?? new EnvelopeCipher(config.keys.keks, config.keys.current),
        hasher,
        clock,
        random: randomBytes,
        onReleaseFailure: (organisationId, error) =>
          logger.warn({ err: error, organisationId }, 'a referral place could not be given back'),
        onPartialImport: (error, rows) =>
          logger.warn({ err: error, rows }, 'part of an import was not stored'),
        statsThreshold: config.stats.suppressionThreshold,
      };
      const lookups = metrics.counter(
        'beacon_victims_status_lookups_total',
        'Status look-ups by reference, by outcome: found, failed (a guess, audited) or refused (too many guesses).',
        ['outcome'],
      );
      return {
        grpc: [
          victimsGrpc({
            victims,
            authenticator: createAuthenticator(config.auth),
            logger,
            clock,
            statusLookup: new StatusLookup({
              lookup: (reference) => lookupStatus(victims, reference),
              audit,
              hasher,
              clock,
              limits: config.lookupLimits,
              record: (outcome) => lookups.labels(outcome).inc(),
            }),
          }),
        ],
        // Held announcements go to the relay's last pass; what it misses, the next start sweeps.
        stop: async () => announcements.flush(),
      };
    },
  });
  return { port: running.port, metricsPort: running.metricsPort, relay: running.relay, stop: running.stop };
}
