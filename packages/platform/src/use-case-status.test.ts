import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { UseCaseError } from '@beacon/domain';
import { GrpcError, grpcErrorOf } from './grpc-handler.js';

class DemoError extends UseCaseError<'not-found' | 'conflict' | 'unavailable'> {
  override readonly name = 'DemoError';
}
class DemoRuleError extends Error {}

describe('use-case refusals at the gRPC edge', () => {
  it('are answered by kind, with the use case’s message and the cause kept for the logs', () => {
    const refusal = new DemoError('conflict', 'incident inc_1 changed meanwhile; reload and retry');
    const answered = grpcErrorOf(refusal);
    expect(answered).toBeInstanceOf(GrpcError);
    expect(answered).toMatchObject({
      code: status.ABORTED,
      message: 'incident inc_1 changed meanwhile; reload and retry',
      cause: refusal,
    });
    expect(grpcErrorOf(new DemoError('not-found', 'no such case'))).toMatchObject({ code: status.NOT_FOUND });
    expect(grpcErrorOf(new DemoError('unavailable', 'not caught up'))).toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it("take the service's own mapping first, and leave what nobody maps for INTERNAL", () => {
    const own = (error: unknown) =>
      error instanceof DemoRuleError ? new GrpcError(status.FAILED_PRECONDITION, 'a rule refused it') : error;
    expect(grpcErrorOf(new DemoRuleError('x'), own)).toMatchObject({ code: status.FAILED_PRECONDITION });
    const unexpected = new TypeError('boom');
    expect(grpcErrorOf(unexpected, own)).toBe(unexpected);
  });
});
