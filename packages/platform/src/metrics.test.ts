import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { grpcCodeName, grpcType, splitGrpcPath } from './grpc-metrics.js';
import { cachedLoader } from './metrics.js';

describe('cachedLoader', () => {
  it('shares one load among callers within the time to live, and loads again after it', async () => {
    let clock = 0;
    let loads = 0;
    const load = cachedLoader(
      async () => ++loads,
      1_000,
      () => clock,
    );
    expect(await Promise.all([load(), load()])).toEqual([1, 1]);
    clock = 999;
    expect(await load()).toBe(1);
    clock = 1_000;
    expect(await load()).toBe(2);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const load = cachedLoader(
      async () => {
        if (fail) throw new Error('broker away');
        return 'ok';
      },
      60_000,
      () => 0,
    );
    await expect(load()).rejects.toThrow('broker away');
    fail = false;
    expect(await load()).toBe('ok');
  });
});

describe('gRPC labels', () => {
  it('splits a method path into service and method, and buckets anything else', () => {
    expect(splitGrpcPath('/beacon.intake.v1.IntakeService/SubmitReport')).toEqual({
      service: 'beacon.intake.v1.IntakeService',
      method: 'SubmitReport',
    });
    expect(splitGrpcPath('nonsense')).toEqual({ service: 'unknown', method: 'unknown' });
  });

  it('names status codes and call kinds as the usual gRPC metrics do', () => {
    expect(grpcCodeName(status.OK)).toBe('OK');
    expect(grpcCodeName(status.INVALID_ARGUMENT)).toBe('INVALID_ARGUMENT');
    expect(grpcCodeName(status.UNAUTHENTICATED)).toBe('UNAUTHENTICATED');
    expect(grpcCodeName(99)).toBe('UNKNOWN');
    expect(grpcType({ requestStream: false, responseStream: false })).toBe('unary');
    expect(grpcType({ requestStream: false, responseStream: true })).toBe('server_stream');
    expect(grpcType({ requestStream: true, responseStream: false })).toBe('client_stream');
    expect(grpcType({ requestStream: true, responseStream: true })).toBe('bidi_stream');
  });
});
