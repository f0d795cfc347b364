import { status, type ServiceError } from '@grpc/grpc-js';
import { fieldViolations, GrpcError } from '@beacon/platform';

/** Carries an upstream service's status, message and field violations on to the caller. */
export function fromUpstream(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  const e = error as Partial<ServiceError>;
  if (typeof e.code !== 'number' || e.code === status.OK) return error;
  const violations = fieldViolations(e.metadata);
  return new GrpcError(e.code, e.details ?? 'upstream error', { cause: error, violations });
}
