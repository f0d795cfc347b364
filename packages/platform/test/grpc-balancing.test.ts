import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnosticsV1, healthV1 } from '@beacon/proto';
import {
  createLogger,
  GRPC_CLIENT_OPTIONS,
  ServingStatus,
  startGrpcServer,
  type RunningGrpcServer,
} from '@beacon/platform';

/**
 * How calls spread over replicas: Beacon's clients round-robin over every address their target
 * resolves to (a headless Service's pods), and its servers end connections after a maximum age
 * so that clients reconnect (and resolve again) without losing calls or streams.
 */

const logger = createLogger({ name: 'grpc-balancing-test', level: 'silent' });
const servers: RunningGrpcServer[] = [];
const proxies: { server: Server; sockets: Set<Socket> }[] = [];
afterEach(async () => {
  for (const { server, sockets } of proxies.splice(0)) {
    server.close();
    for (const socket of sockets) socket.destroy();
  }
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
});

async function start(options: { maxConnectionAgeMs?: number } = {}): Promise<RunningGrpcServer> {
  const server = await startGrpcServer({
    component: 'test',
    version: '1',
    port: 0,
    services: [],
    logger,
    ...options,
  });
  servers.push(server);
  return server;
}

function serverInfo(client: diagnosticsV1.DiagnosticsServiceClient): Promise<string> {
  return new Promise((resolve, reject) => {
    client.getServerInfo({}, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, (error, info) =>
      error ? reject(error) : resolve(info.instanceId),
    );
  });
}

/** A TCP relay in front of a port that counts the connections made through it. */
async function countingProxy(port: number): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((socket) => {
    count++;
    const upstream = tcpConnect(port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  proxies.push({ server: proxy, sockets });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { port: (proxy.address() as AddressInfo).port, connections: () => count };
}

describe('gRPC load balancing', () => {
  it('spreads calls over every address the target resolves to', async () => {
    const [a, b] = [await start(), await start()];
    // Two replicas behind one name, as a headless Service's DNS gives them.
    const target = `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`;
    const balanced = new diagnosticsV1.DiagnosticsServiceClient(
      target,
      credentials.createInsecure(),
      GRPC_CLIENT_OPTIONS,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(await serverInfo(balanced));
    balanced.close();
    expect(seen.size).toBe(2);

    // grpc-js's default (pick-first) sends everything to one: what the option changes.
    const sticky = new diagnosticsV1.DiagnosticsServiceClient(target, credentials.createInsecure());
    const stuck = new Set<string>();
    for (let i = 0; i < 10; i++) stuck.add(await serverInfo(sticky));
    sticky.close();
    expect(stuck.size).toBe(1);
  });

  it('ends old connections, losing no call and no open stream', async () => {
    const server = await start({ maxConnectionAgeMs: 300 });
    const proxy = await countingProxy(server.port);
    const address = `127.0.0.1:${proxy.port}`;
    const client = new diagnosticsV1.DiagnosticsServiceClient(
      address,
      credentials.createInsecure(),
      GRPC_CLIENT_OPTIONS,
    );
    const health = new healthV1.HealthClient(address, credentials.createInsecure(), GRPC_CLIENT_OPTIONS);
    const updates: ServingStatus[] = [];
    const watch = health.watch({ service: '' });
    let streamError: ServiceError | undefined;
    watch.on('data', (response: healthV1.HealthCheckResponse) => updates.push(response.status));
    watch.on('error', (error: ServiceError) => (streamError = error));

    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 1_500) {
      await serverInfo(client);
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every call answered, over several connections in turn.
    expect(calls).toBeGreaterThan(10);
    expect(proxy.connections()).toBeGreaterThanOrEqual(3);

    // The stream opened on the first connection is still delivering.
    server.health.set('', ServingStatus.NOT_SERVING);
    await expect.poll(() => updates).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(streamError).toBeUndefined();
    watch.cancel();
    client.close();
    health.close();
  });

  it('keeps a stream past its connection’s age only while nothing pings the retired connection', async () => {
    /** A watch from a client that pings every `clientPingMs` (0: never, as Beacon's clients). */
    const watchFrom = async (clientPingMs: number) => {
      const server = await start({ maxConnectionAgeMs: 300 });
      const health = new healthV1.HealthClient(`127.0.0.1:${server.port}`, credentials.createInsecure(), {
        ...GRPC_CLIENT_OPTIONS,
        ...(clientPingMs > 0 ? { 'grpc.keepalive_time_ms': clientPingMs } : {}),
      });
      const updates: ServingStatus[] = [];
      const watch = health.watch({ service: '' });
      let cut: ServiceError | undefined;
      watch.on('error', (error: ServiceError) => (cut = error));
      watch.on('data', (response: healthV1.HealthCheckResponse) => updates.push(response.status));
      return { server, health, watch, updates, cut: () => cut };
    };
    // Pinging every 200 ms: the first ping after the age drops the connection and the stream.
    const pinged = await watchFrom(200);
    await expect.poll(() => pinged.cut()?.code, { timeout: 5_000 }).toBe(status.UNAVAILABLE);
    pinged.health.close();

    // Not pinging, as notify and the gateway run for the agencies' feeds: the stream lives on,
    // through five ages of its connection, and still delivers.
    const quiet = await watchFrom(0);
    await expect.poll(() => quiet.updates).toEqual([ServingStatus.SERVING]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    quiet.server.health.set('', ServingStatus.NOT_SERVING);
    await expect.poll(() => quiet.updates).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(quiet.cut()).toBeUndefined();
    quiet.watch.cancel();
    quiet.health.close();
  });

  it('answers unary calls that outlive their connection’s age, unless something pings the retired connection', async () => {
    /**
     * Calls of 600 ms, four at a time for about 2.4 s, on connections that age out every
     * 300 ms: the codes of those that failed, from a client pinging every `clientPingMs` (0: never).
     */
    const cutCalls = async (clientPingMs = 0) => {
      const server = await startGrpcServer({
        component: 'test',
        version: '1',
        port: 0,
        logger,
        diagnostics: false,
        maxConnectionAgeMs: 300,
        services: [
          {
            name: 'beacon.diagnostics.v1.DiagnosticsService',
            definition: diagnosticsV1.DiagnosticsServiceService,
            implementation: {
              echo: (
                call: { request: diagnosticsV1.EchoRequest },
                done: (error: null, response: diagnosticsV1.EchoResponse) => void,
              ) => setTimeout(() => done(null, call.request), 600),
            },
          },
        ],
      });
      servers.push(server);
      const client = new diagnosticsV1.DiagnosticsServiceClient(
        `127.0.0.1:${server.port}`,
        credentials.createInsecure(),
        { ...GRPC_CLIENT_OPTIONS, ...(clientPingMs > 0 ? { 'grpc.keepalive_time_ms': clientPingMs } : {}) },
      );
      const echo = (message: string) =>
        new Promise<void>((resolve, reject) =>
          client.echo(
            { message, payload: Buffer.alloc(0) },
            new Metadata(),
            { deadline: new Date(Date.now() + 5_000) },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
      const codes: number[] = [];
      for (let wave = 0; wave < 4; wave++) {
        const results = await Promise.allSettled([0, 1, 2, 3].map((i) => echo(`${wave}-${i}`)));
        for (const r of results) if (r.status === 'rejected') codes.push((r.reason as ServiceError).code);
      }
      client.close();
      return codes;
    };
    // A client pinging every 200 ms: calls on a retired connection are cut.
    const cut = [status.INTERNAL, status.UNAVAILABLE];
    expect((await cutCalls(200)).filter((code) => cut.includes(code)).length).toBeGreaterThan(0);
    // As Beacon's servers and clients run: every call answered, across eight ages.
    expect(await cutCalls()).toEqual([]);
  });
});
