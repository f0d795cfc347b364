import { status, type ServiceError } from '@grpc/grpc-js';
import { fieldViolations, GrpcError } from '@beacon/platform';

/** Codes a Beacon service answers on purpose, with a message meant for the caller. */
const DELIBERATE: ReadonlySet<status> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.ABORTED,
  status.UNAUTHENTICATED,
  status.RESOURCE_EXHAUSTED,
  status.OUT_OF_RANGE,
]);

/**
 * Carries an upstream service's status, message and field violations on to the caller. Other
 * statuses come from the transport (a service down, a deadline) and their messages name
 * internal addresses, so the caller gets a plain one instead.
 */
export function fromUpstream(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  const e = error as Partial<ServiceError>;
  if (typeof e.code !== 'number' || e.code === status.OK) return error;
  // A service's own limit (victims' look-ups), or an outage of its store, says when to come
  // back; REST shows it as Retry-After.
  const retryAfter = Number(e.metadata?.get('retry-after')[0]);
  const retry = Number.isInteger(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {};
  if (!DELIBERATE.has(e.code)) {
    return new GrpcError(e.code, PLAIN[e.code] ?? 'the service failed', { cause: error, ...retry });
  }
  return new GrpcError(e.code, e.details ?? 'upstream error', {
    cause: error,
    violations: fieldViolations(e.metadata),
    ...retry,
  });
}

const PLAIN: Partial<Record<status, string>> = {
  [status.UNAVAILABLE]: 'the service is unavailable; retry later',
  [status.DEADLINE_EXCEEDED]: 'the deadline passed before the service answered',
  [status.CANCELLED]: 'the call was cancelled',
  [status.INTERNAL]: 'internal error',
};
