import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ApplicationFailure } from '@temporalio/common';
import type { TokenSource } from '@beacon/platform';
import { FailureType } from '../domain/failures.js';

/** Statuses that no retry can change, and the failure type the workflows see for each. */
const FINAL: ReadonlyMap<number, FailureType> = new Map([
  [status.INVALID_ARGUMENT, FailureType.InvalidArgument],
  [status.NOT_FOUND, FailureType.NotFound],
  [status.PERMISSION_DENIED, FailureType.PermissionDenied],
  [status.FAILED_PRECONDITION, FailureType.FailedPrecondition],
]);

/** The gRPC status code of an error, if it is a gRPC error. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as Partial<ServiceError> | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * One unary call with the service token and a deadline. A status no retry can change becomes a
 * non-retryable ApplicationFailure with its type; anything else (unavailable, deadline, aborted
 * by a concurrent change, a token being rotated) is thrown as is, and Temporal retries it.
 */
export async function grpcCall<T>(
  token: TokenSource,
  timeoutMs: number,
  start: (
    metadata: Metadata,
    options: { deadline: Date },
    done: (error: ServiceError | null, response?: T) => void,
  ) => void,
): Promise<T> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${await token()}`);
  try {
    return await new Promise<T>((resolve, reject) =>
      start(metadata, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
        error ? reject(error) : resolve(response!),
      ),
    );
  } catch (error) {
    throw asActivityFailure(error);
  }
}

export function asActivityFailure(error: unknown): unknown {
  const code = grpcCode(error);
  const type = code === undefined ? undefined : FINAL.get(code);
  if (type === undefined) return error;
  return ApplicationFailure.create({
    type,
    message: (error as ServiceError).details || (error as Error).message,
    nonRetryable: true,
    cause: error as Error,
  });
}
