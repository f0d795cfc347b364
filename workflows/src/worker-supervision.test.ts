import { describe, expect, it } from 'vitest';
import { workerRunVerdict } from './worker-supervision.js';

describe('workerRunVerdict', () => {
  const error = new Error('Unhandled grpc error when polling');

  it('ends the process when the worker fails, keeping the error', () => {
    expect(workerRunVerdict({ ok: false, error }, false)).toEqual({
      exit: true,
      reason: 'the Temporal worker failed',
      error,
    });
  });

  it('ends the process when the worker stops without being asked to', () => {
    expect(workerRunVerdict({ ok: true }, false)).toEqual({
      exit: true,
      reason: 'the Temporal worker stopped without being asked to',
    });
  });

  it('lets a worker stopped by the process end quietly, even with an error', () => {
    expect(workerRunVerdict({ ok: true }, true)).toEqual({ exit: false });
    expect(workerRunVerdict({ ok: false, error }, true)).toEqual({ exit: false });
  });
});
