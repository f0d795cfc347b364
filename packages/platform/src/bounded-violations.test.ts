import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { rpcStatus } from '@beacon/proto';
import { invalidArgument, MAX_REPORTED_VIOLATIONS, toStatus } from './grpc-handler.js';

describe('an error about a huge request stays small', () => {
  it('names the first 20 violations, cut to a few hundred characters each, and says how many more', () => {
    const violations = Array.from({ length: 20_000 }, (_, i) => ({
      field: `k${i}_${'x'.repeat(i === 0 ? 100_000 : 40)}`,
      description: 'is not a field of this message',
      reason: 'UNKNOWN_FIELD',
    }));
    const error = invalidArgument(violations);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(error.violations[0]!.field.length).toBeLessThanOrEqual(201);
    expect(error.message).toMatch(/; and 19980 more$/);
    const sent = toStatus(error);
    expect(sent.details!.length).toBeLessThanOrEqual(2_049);
    const trailer = sent.metadata!.get('grpc-status-details-bin')[0] as Buffer;
    expect(trailer.length).toBeLessThan(8_192);
    expect(rpcStatus.Status.decode(trailer).code).toBe(status.INVALID_ARGUMENT);
  });
});
