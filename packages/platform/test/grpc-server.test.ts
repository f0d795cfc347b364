import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnosticsV1, healthV1 } from '@beacon/proto';
import { createLogger, ServingStatus, startGrpcServer, type RunningGrpcServer } from '@beacon/platform';

const logger = createLogger({ name: 'grpc-test', level: 'silent' });
const { DiagnosticsServiceClient } = diagnosticsV1;
const { HealthClient } = healthV1;

let server: RunningGrpcServer | undefined;
afterEach(async () => {
  await server?.shutdown();
  server = undefined;
});

async function start(maxMessageBytes?: number) {
  server = await startGrpcServer({
    component: 'test',
    version: '1.2.3',
    port: 0,
    services: [],
    logger,
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
  });
  const address = `127.0.0.1:${server.port}`;
  return {
    diagnostics: new DiagnosticsServiceClient(address, credentials.createInsecure()),
    health: new HealthClient(address, credentials.createInsecure()),
  };
}

/** Calls a generated unary client method with a deadline, as a promise. */
function call<Req, Res>(
  fn: (
    req: Req,
    md: Metadata,
    opts: { deadline: Date },
    cb: (e: ServiceError | null, r: Res) => void,
  ) => unknown,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(request, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

describe('the platform gRPC server with generated clients', () => {
  it('echoes a message and reports who answered', async () => {
    const { diagnostics } = await start();
    const payload = Uint8Array.from([0, 1, 2, 255]);
    const echoed = await call(diagnostics.echo.bind(diagnostics), { message: 'ping', payload });
    expect(echoed.message).toBe('ping');
    expect(Buffer.from(echoed.payload)).toEqual(Buffer.from(payload));

    const info = await call(diagnostics.getServerInfo.bind(diagnostics), {});
    expect(info).toMatchObject({ component: 'test', version: '1.2.3', runtime: process.version });
    expect(info.startedAt).toBeInstanceOf(Date);
    expect(info.instanceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers grpc.health.v1 Check and List, and NOT_FOUND for an unknown service', async () => {
    const { health } = await start();
    const whole = await call(health.check.bind(health), { service: '' });
    expect(whole.status).toBe(ServingStatus.SERVING);
    const listed = await call(health.list.bind(health), {});
    expect(Object.keys(listed.statuses).sort()).toEqual(['', 'beacon.diagnostics.v1.DiagnosticsService']);

    const unknown = await call(health.check.bind(health), { service: 'nope.v1.Nope' }).catch(
      (e: ServiceError) => e,
    );
    expect((unknown as ServiceError).code).toBe(status.NOT_FOUND);
  });

  it('streams health changes to a watcher and reports NOT_SERVING while draining', async () => {
    const { health } = await start();
    const seen: number[] = [];
    const stream = health.watch({ service: '' });
    const twoUpdates = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: healthV1.HealthCheckResponse) => {
        seen.push(response.status);
        if (seen.length === 1) server!.health.drain();
        if (seen.length === 2) resolve();
      });
      stream.on('error', reject);
    });
    await twoUpdates;
    stream.cancel();
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it('rejects a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    const { diagnostics } = await start(1024);
    const error = await call(diagnostics.echo.bind(diagnostics), {
      message: '',
      payload: new Uint8Array(4096),
    }).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('refuses calls once shut down', async () => {
    const { diagnostics } = await start();
    await call(diagnostics.echo.bind(diagnostics), { message: 'warm', payload: new Uint8Array() });
    await server!.shutdown();
    server = undefined;
    const after = await call(diagnostics.echo.bind(diagnostics), {
      message: 'late',
      payload: new Uint8Array(),
    }).catch((e: ServiceError) => e);
    expect((after as ServiceError).code).toBe(status.UNAVAILABLE);
  });
});
