import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type Collection,
  type Document,
  type IndexDescription,
} from 'mongodb';
import type { Logger } from './logger.js';
import { traceMongoCommands, tracingEnabled } from './tracing.js';

export interface MongoConfig {
  readonly url: string;
  /** Commands slower than this are logged at warn, with their name, collection and time. */
  readonly slowCommandMs?: number;
  readonly logger?: Logger;
  /** Shown in the server's connection metadata. */
  readonly appName: string;
  /** Fail a start-up that cannot reach the server after this long. */
  readonly serverSelectionTimeoutMS?: number;
}

/**
 * Connects and proves the server answers. Beacon code keeps to what both MongoDB and FerretDB
 * support: single-document atomic writes, unique and compound indexes, `findOneAndUpdate`.
 */
export async function connectMongo(config: MongoConfig): Promise<MongoClient> {
  const client = new MongoClient(config.url, {
    appName: config.appName,
    serverSelectionTimeoutMS: config.serverSelectionTimeoutMS ?? 10_000,
    // Each service owns its database; the driver's default pool is far larger than it needs.
    maxPoolSize: 20,
    monitorCommands: config.logger !== undefined || tracingEnabled(),
  });
  if (tracingEnabled()) traceMongoCommands(client);
  const { logger, slowCommandMs = 100 } = config;
  if (logger) {
    client.on('commandSucceeded', (event) => {
      if (event.duration >= slowCommandMs) {
        logger.warn(
          { mongo: { command: event.commandName, db: event.databaseName, ms: event.duration } },
          'slow command',
        );
      }
    });
  }
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  return client;
}

/**
 * Declares the indexes a repository relies on, creating those missing by name. Indexes are
 * never dropped here: an index the code no longer names stays until an operator removes it.
 * (Asking FerretDB 1.24 to create a proper subset of a collection's existing indexes crashes
 * its connection handler, so only the missing ones are ever sent.)
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: readonly (IndexDescription & { name: string })[],
): Promise<void> {
  const existing = new Set(
    (
      await collection
        .listIndexes()
        .toArray()
        .catch(() => [] as Document[])
    ).map((index: Document) => String(index['name'])),
  );
  const missing = indexes.filter((index) => !existing.has(index.name));
  if (missing.length > 0) await collection.createIndexes([...missing]);
}

/**
 * The positions of an unordered bulk insert that failed because a unique index already holds
 * their key — every other document was written; `undefined` when anything else went wrong.
 */
export function duplicatePositions(error: unknown): Set<number> | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  const errors = [error.writeErrors].flat();
  if (errors.length === 0 || errors.some((e) => e.code !== 11000)) return undefined;
  return new Set(errors.map((e) => e.index));
}

/** True when a write failed because a unique index already holds the key. */
export function isDuplicateKeyError(error: unknown): error is MongoServerError {
  return error instanceof MongoServerError && error.code === 11000;
}
