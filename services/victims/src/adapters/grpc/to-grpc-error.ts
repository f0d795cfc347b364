import { status } from '@grpc/grpc-js';
import { GrpcError } from '@beacon/platform';
import { ConsentMissingError } from '../../domain/consent.js';
import { CheckInError } from '../../domain/follow-up.js';
import { CaseRuleError } from '../../domain/victim-case.js';
import { CipherError } from '../../app/errors.js';
import { TooManyLookupsError } from '../../app/status-lookup.js';

/**
 * Victims' domain errors to the status the caller sees; its use-case refusals (`VictimsError`)
 * map by kind in platform, but for a refused look-up, which says when to try again.
 */
export function toGrpcError(error: unknown): unknown {
  if (error instanceof TooManyLookupsError) {
    return new GrpcError(status.RESOURCE_EXHAUSTED, error.message, {
      cause: error,
      retryAfterSeconds: error.retryAfterSeconds,
    });
  }
  if (error instanceof ConsentMissingError)
    return new GrpcError(status.FAILED_PRECONDITION, error.message, { cause: error });
  if (error instanceof CaseRuleError) {
    return new GrpcError(
      error.kind === 'no-referral' ? status.NOT_FOUND : status.FAILED_PRECONDITION,
      error.message,
      { cause: error },
    );
  }
  if (error instanceof CheckInError) {
    return new GrpcError(
      error.kind === 'not-found' ? status.NOT_FOUND : status.FAILED_PRECONDITION,
      error.message,
      { cause: error },
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
