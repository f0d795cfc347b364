import { ClosedConnectionError, DrainingConnectionError } from '@nats-io/nats-core';
import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { PublishTimeoutError } from './jetstream-publisher.js';

/** When a caller is told to come back after an outage of the store or NATS. */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

/**
 * What to tell the caller of a request that failed because the store or NATS could not be
 * reached: the handler answers it UNAVAILABLE with a time to retry (the gateway, 503 with
 * `Retry-After`), never INTERNAL. What a request had written is finished by its retry or by a
 * recovery sweep (outboxes, pending marks, idempotency keys), so the same request sent again
 * once the dependency is back is answered as the first would have been. Any other error:
 * undefined.
 */
export function dependencyOutage(error: unknown): string | undefined {
  const what = storeUnreachable(error)
    ? 'the store'
    : error instanceof ClosedConnectionError ||
        error instanceof DrainingConnectionError ||
        error instanceof PublishTimeoutError
      ? 'the message bus'
      : undefined;
  return what && `${what} is unavailable; retry the same request later`;
}

/**
 * The driver's own word for a store it cannot reach: its network and topology errors, and the
 * labels it puts on an operation that failed for that reason. A bulk write wraps the network
 * error it met in a `MongoBulkWriteError`, labelled so when the write was retryable; either
 * way it copies the network error's own fields onto itself, `beforeHandshake` among them
 * (seen when the store was killed under a burst of submissions: a 500 until this).
 */
function storeUnreachable(error: unknown): boolean {
  if (!(error instanceof MongoError)) return false;
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    (error instanceof MongoBulkWriteError && typeof Reflect.get(error, 'beforeHandshake') === 'boolean') ||
    RETRY_LABELS.some((label) => error.hasErrorLabel(label))
  );
}

/** Labels of an operation that failed for want of the server, and may be sent again. */
const RETRY_LABELS = ['RetryableError', 'RetryableWriteError', 'SystemOverloadedError', 'ResetPool'];
