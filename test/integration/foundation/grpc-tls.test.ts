import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createLogger,
  GRPC_CLIENT_ENV,
  GRPC_SERVER_ENV,
  grpcChannelCredentials,
  grpcClientTlsFrom,
  grpcServerFrom,
  parseConfig,
  ServingStatus,
  startGrpcServer,
  type GrpcClientTls,
  type GrpcServerTls,
  type RunningGrpcServer,
} from '@beacon/platform';
import { diagnosticsV1, healthV1 } from '@beacon/proto';
import { createTestCertificates, waitFor } from '@beacon/testkit';

/**
 * TLS and mutual TLS between Beacon's processes, as every server (`startGrpcServer`) and every
 * client (`grpcChannelCredentials`) sets them up from GRPC_TLS_* and GRPC_CLIENT_TLS_*: real
 * servers on real ports, real handshakes, certificates from a throwaway CA (openssl).
 */

const logger = createLogger({ name: 'grpc-tls-test', level: 'silent' });
const certs = createTestCertificates('beacon-caller');
const mutual: GrpcServerTls = {
  certFile: certs.serverCertFile,
  keyFile: certs.serverKeyFile,
  clientCaFile: certs.caFile,
};
const caller: GrpcClientTls = {
  caFile: certs.caFile,
  certFile: certs.clientCertFile,
  keyFile: certs.clientKeyFile,
};

const open: { close(): void }[] = [];
let server: RunningGrpcServer | undefined;
afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  await server?.shutdown();
  server = undefined;
});

async function serve(
  tls: GrpcServerTls | undefined,
  extra: { tlsRefreshMs?: number; healthPort?: number } = {},
) {
  server = await startGrpcServer({
    component: 'tls-test',
    version: '0',
    port: 0,
    services: [],
    logger,
    ...(tls ? { tls } : {}),
    ...extra,
  });
  return server;
}

/** Echo through a fresh channel; resolves with the echo or rejects with the call's error. */
function echo(port: number, channel: ChannelCredentials, host = 'localhost'): Promise<string> {
  const client = new diagnosticsV1.DiagnosticsServiceClient(`${host}:${port}`, channel);
  open.push(client);
  return new Promise((resolve, reject) =>
    client.echo(
      { message: 'hello', payload: Buffer.alloc(0) },
      new Metadata(),
      { deadline: new Date(Date.now() + 3_000) },
      (error: ServiceError | null, response) => (error ? reject(error) : resolve(response.message)),
    ),
  );
}

describe('gRPC with mutual TLS', () => {
  it('serves a client presenting a certificate of the client CA, over TLS', async () => {
    const { port } = await serve(mutual);
    await expect(echo(port, grpcChannelCredentials(caller))).resolves.toBe('hello');
    // The certificate names localhost and 127.0.0.1; both are checked against the target.
    await expect(echo(port, grpcChannelCredentials(caller), '127.0.0.1')).resolves.toBe('hello');
  });

  it('refuses a client without a certificate, one trusting another CA, and a plaintext one', async () => {
    const { port } = await serve(mutual);
    const noCertificate = echo(port, grpcChannelCredentials({ caFile: certs.caFile }));
    await expect(noCertificate).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(noCertificate).rejects.toThrow(/alert certificate required/); // TLS 1.3's alert, as the client reports it

    const otherCa = echo(port, grpcChannelCredentials({ ...caller, caFile: certs.otherCaFile }));
    await expect(otherCa).rejects.toMatchObject({ code: status.UNAVAILABLE });
    // The client says why: it does not trust the server's certificate.
    await expect(otherCa).rejects.toThrow(
      /self[- ]signed certificate in certificate chain|unable to verify/i,
    );

    await expect(echo(port, credentials.createInsecure())).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('with server TLS only, serves clients without certificates and refuses plaintext', async () => {
    const { port } = await serve({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile });
    await expect(echo(port, grpcChannelCredentials({ caFile: certs.caFile }))).resolves.toBe('hello');
    await expect(echo(port, credentials.createInsecure())).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('answers the health check in plaintext on the health port, and nothing else there', async () => {
    const running = await serve(mutual, { healthPort: 0 });
    expect(running.healthPort).toBeGreaterThan(0);
    const probe = new healthV1.HealthClient(`127.0.0.1:${running.healthPort}`, credentials.createInsecure());
    open.push(probe);
    const check = () =>
      new Promise<ServingStatus>((resolve, reject) =>
        probe.check({ service: '' }, (error, response) => (error ? reject(error) : resolve(response.status))),
      );
    await expect(check()).resolves.toBe(ServingStatus.SERVING);
    // The services themselves are not reachable without TLS through that port.
    await expect(echo(running.healthPort!, credentials.createInsecure(), '127.0.0.1')).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
    // Draining shows there as on the main port, so the kubelet sees it.
    running.health.drain();
    await expect(check()).resolves.toBe(ServingStatus.NOT_SERVING);
  });

  it(
    'is started only once its certificate files are read, and then serves at once',
    { timeout: 15_000 },
    async () => {
      // The key is not there yet, as when a Secret is mounted late: the server must not be
      // reported started (and so ready) while it would end every handshake.
      const dir = createTestCertificates('unused').dir;
      const certFile = join(dir, 'tls.crt');
      const keyFile = join(dir, 'late.key');
      copyFileSync(certs.serverCertFile, certFile);
      let keyWrittenAt = Infinity;
      const keyWritten = new Promise<void>((resolve) =>
        setTimeout(() => {
          copyFileSync(certs.serverKeyFile, keyFile);
          keyWrittenAt = performance.now();
          resolve();
        }, 300),
      );
      const { port } = await serve({ certFile, keyFile }, { tlsRefreshMs: 100 });
      const startedAt = performance.now();
      await keyWritten;
      expect(startedAt).toBeGreaterThan(keyWrittenAt);
      // The first call, made the moment the server is started, is served.
      await expect(echo(port, grpcChannelCredentials({ caFile: certs.caFile }))).resolves.toBe('hello');
    },
  );

  it('serves a rotated certificate without a restart', { timeout: 15_000 }, async () => {
    // The server's files in a directory of their own, as a mounted Secret.
    const dir = createTestCertificates('unused').dir;
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    copyFileSync(certs.serverCertFile, certFile);
    copyFileSync(certs.serverKeyFile, keyFile);
    const { port } = await serve({ certFile, keyFile }, { tlsRefreshMs: 200 });
    await expect(echo(port, grpcChannelCredentials({ caFile: certs.caFile }))).resolves.toBe('hello');

    // A new certificate from another CA, as after a CA change.
    const next = createTestCertificates('unused');
    copyFileSync(next.serverCertFile, certFile);
    copyFileSync(next.serverKeyFile, keyFile);
    const trustingNext = grpcChannelCredentials({ caFile: next.caFile });
    await waitFor(() => echo(port, trustingNext), { what: 'the rotated certificate', timeoutMs: 5_000 });
    await expect(echo(port, grpcChannelCredentials({ caFile: certs.caFile }))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });
});

describe('GRPC_TLS_* and GRPC_CLIENT_TLS_* settings', () => {
  const server = (env: Record<string, string>) => grpcServerFrom(parseConfig(GRPC_SERVER_ENV, env));
  const client = (env: Record<string, string>) => grpcClientTlsFrom(parseConfig(GRPC_CLIENT_ENV, env));
  const problem = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues;
    }
    throw new Error('no ConfigError');
  };

  it('are off by default, and read the files they name', () => {
    expect(server({})).toEqual({});
    expect(client({})).toBeUndefined();
    expect(
      server({
        GRPC_TLS_CERT_FILE: certs.serverCertFile,
        GRPC_TLS_KEY_FILE: certs.serverKeyFile,
        GRPC_TLS_CLIENT_CA_FILE: certs.caFile,
        GRPC_HEALTH_PORT: '8081',
      }),
    ).toEqual({ tls: mutual, healthPort: 8081 });
    expect(
      client({
        GRPC_CLIENT_TLS_CA_FILE: certs.caFile,
        GRPC_CLIENT_TLS_CERT_FILE: certs.clientCertFile,
        GRPC_CLIENT_TLS_KEY_FILE: certs.clientKeyFile,
      }),
    ).toEqual(caller);
  });

  it('stop the process at start naming the variable, never a file content', () => {
    const notPem = join(certs.dir, 'not-pem.txt');
    writeFileSync(notPem, 'SECRET-LOOKING-CONTENT');
    expect(problem(() => server({ GRPC_TLS_CLIENT_CA_FILE: certs.caFile }))).toEqual([
      {
        variable: 'GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE',
        problem: 'required with GRPC_TLS_CLIENT_CA_FILE (mutual TLS needs the server on TLS)',
      },
    ]);
    expect(problem(() => server({ GRPC_TLS_CERT_FILE: certs.serverCertFile }))).toEqual([
      { variable: 'GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE', problem: 'set both or neither' },
    ]);
    expect(
      problem(() =>
        server({ GRPC_TLS_CERT_FILE: certs.serverCertFile, GRPC_TLS_KEY_FILE: certs.clientKeyFile }),
      ),
    ).toEqual([
      { variable: 'GRPC_TLS_KEY_FILE', problem: 'is not the key of the certificate in GRPC_TLS_CERT_FILE' },
    ]);
    const issues = problem(() => client({ GRPC_CLIENT_TLS_CA_FILE: notPem }));
    expect(issues).toEqual([{ variable: 'GRPC_CLIENT_TLS_CA_FILE', problem: 'holds no PEM certificate' }]);
    expect(JSON.stringify(issues)).not.toContain('SECRET-LOOKING-CONTENT');
    expect(
      problem(() =>
        client({
          GRPC_CLIENT_TLS_CERT_FILE: certs.clientCertFile,
          GRPC_CLIENT_TLS_KEY_FILE: certs.clientKeyFile,
        }),
      ),
    ).toEqual([{ variable: 'GRPC_CLIENT_TLS_CA_FILE', problem: 'required with a client certificate' }]);
    expect(problem(() => client({ GRPC_CLIENT_TLS_CA_FILE: join(certs.dir, 'missing.crt') }))).toEqual([
      { variable: 'GRPC_CLIENT_TLS_CA_FILE', problem: 'cannot read it: ENOENT' },
    ]);
  });
});
