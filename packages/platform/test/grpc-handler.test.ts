import { Writable } from 'node:stream';
import { credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnosticsV1 } from '@beacon/proto';
import { createLogger, GrpcError, unary, type CallContext } from '@beacon/platform';

const logged: string[] = [];
const logger = createLogger({
  name: 'handler-test',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString('utf8'));
      done();
    },
  }),
});

let server: Server | undefined;
afterEach(() => {
  server?.forceShutdown();
  server = undefined;
  logged.length = 0;
});

/** Serves Echo with `handler` through `unary` and returns a client for it. */
async function serve(
  handler: (request: diagnosticsV1.EchoRequest, context: CallContext) => Promise<diagnosticsV1.EchoResponse>,
  maxCallMs = 10_000,
) {
  server = new Server();
  server.addService(diagnosticsV1.DiagnosticsServiceService, {
    echo: unary(handler, { logger, maxCallMs }),
    getServerInfo: unary(async () => ({}) as diagnosticsV1.GetServerInfoResponse, { logger }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return new diagnosticsV1.DiagnosticsServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

function echo(client: diagnosticsV1.DiagnosticsServiceClient, deadline?: Date) {
  const request = { message: 'hi', payload: new Uint8Array() };
  let cancel = () => {};
  const result = new Promise<diagnosticsV1.EchoResponse>((resolve, reject) => {
    const call = client.echo(request, new Metadata(), deadline ? { deadline } : {}, (e, r) =>
      e ? reject(e) : resolve(r),
    );
    cancel = () => call.cancel();
  });
  return { result, cancel: () => cancel() };
}

/** A handler that only ends when its signal aborts, reporting why. */
function waitsForAbort() {
  let reason: (why: unknown) => void = () => {};
  const aborted = new Promise<unknown>((resolve) => (reason = resolve));
  const handler = (_request: diagnosticsV1.EchoRequest, { signal }: CallContext) =>
    new Promise<diagnosticsV1.EchoResponse>((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        reason(signal.reason);
        reject(signal.reason as Error);
      });
    });
  return { handler, aborted };
}

describe('unary handlers', () => {
  it('stop a call without a client deadline at the server limit', async () => {
    const { handler, aborted } = waitsForAbort();
    const client = await serve(handler, 200);
    const error = await echo(client).result.catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(status.DEADLINE_EXCEEDED);
    expect(await aborted).toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it("abort the handler at the client's earlier deadline", async () => {
    const { handler, aborted } = waitsForAbort();
    const client = await serve(handler, 60_000);
    const error = await echo(client, new Date(Date.now() + 150)).result.catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(status.DEADLINE_EXCEEDED);
    expect(await aborted).toBeInstanceOf(GrpcError);
  });

  it('abort the handler when the client cancels', async () => {
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const { handler, aborted } = waitsForAbort();
    const client = await serve((request, context) => {
      started();
      return handler(request, context);
    });
    const call = echo(client);
    await running;
    call.cancel();
    await expect(call.result).rejects.toMatchObject({ code: status.CANCELLED });
    expect(await aborted).toMatchObject({ code: status.CANCELLED });
  });

  it('send a GrpcError as its status and hide unexpected errors behind INTERNAL', async () => {
    const client = await serve(async (request) => {
      if (request.message === 'hi') throw new GrpcError(status.FAILED_PRECONDITION, 'incident is closed');
      return request;
    });
    await expect(echo(client).result).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'incident is closed',
    });

    const leaky = await serve(async () => {
      throw new Error('password=hunter2 at db.internal:27017');
    });
    const error = await echo(leaky).result.catch((e: ServiceError) => e);
    expect(error).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
    expect(logged.join('')).toContain('unexpected error in handler');
  });
});
