import { status } from '@grpc/grpc-js';
import { GrpcError } from '@beacon/platform';
import { ConsentMissingError } from '../../domain/consent.js';
import { CheckInError } from '../../domain/follow-up.js';
import { CaseRuleError } from '../../domain/victim-case.js';
import { CipherError, VictimsError } from '../../app/errors.js';
import { TooManyLookupsError } from '../../app/status-lookup.js';

/** Domain and use-case errors to the status the caller sees; the cause stays in logs only. */
export function toGrpcError(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  if (error instanceof VictimsError) {
    const code = {
      'not-found': status.NOT_FOUND,
      'permission-denied': status.PERMISSION_DENIED,
      conflict: status.ABORTED,
      'already-exists': status.ALREADY_EXISTS,
      'failed-precondition': status.FAILED_PRECONDITION,
      'idempotency-mismatch': status.FAILED_PRECONDITION,
      'resource-exhausted': status.RESOURCE_EXHAUSTED,
    }[error.kind];
    return new GrpcError(code, error.message, {
      cause: error,
      ...(error instanceof TooManyLookupsError ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    });
  }
  if (error instanceof ConsentMissingError)
    return new GrpcError(status.FAILED_PRECONDITION, error.message, { cause: error });
  if (error instanceof CaseRuleError) {
    return new GrpcError(
      error.kind === 'no-referral' ? status.NOT_FOUND : status.FAILED_PRECONDITION,
      error.message,
      {
        cause: error,
      },
    );
  }
  if (error instanceof CheckInError) {
    return new GrpcError(
      error.kind === 'not-found' ? status.NOT_FOUND : status.FAILED_PRECONDITION,
      error.message,
      {
        cause: error,
      },
    );
  }
  if (error instanceof CipherError) {
    return error.kind === 'unknown-key'
      ? new GrpcError(status.FAILED_PRECONDITION, error.message, { cause: error })
      : new GrpcError(status.DATA_LOSS, 'the stored personal data failed its integrity check', {
          cause: error,
        });
  }
  return error;
}
