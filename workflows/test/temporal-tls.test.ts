import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { expect } from 'vitest';
import { createLogger } from '@beacon/platform';
import { createTestCertificates, test as base, waitFor, type TestCertificates } from '@beacon/testkit';
import { temporalConnectionOptions } from '../src/adapters/temporal-connection.js';
import { loadConfig, startWorkflows } from '../src/index.js';
import { quietTemporal } from './support/time-skipping.js';

/**
 * The workflows reach a Temporal frontend that requires mutual TLS. The Temporal CLI's dev
 * server has no TLS settings (`temporal server start-dev --help`, CLI 1.9.1), so the test puts a
 * TLS terminator of its own in front of the run's real dev server: it demands a client
 * certificate from the test CA, speaks HTTP/2 by ALPN and passes the bytes through. What reaches
 * Temporal is the SDKs' real gRPC; what is proven is that the worker's and the client's
 * connections present the configured certificate and trust the configured CA.
 */

interface Terminator {
  readonly address: string;
  /** The common names of the client certificates of connections it let through. */
  readonly clients: string[];
}

const test = base
  .extend('certs', { scope: 'file' }, (): TestCertificates => createTestCertificates('workflows'))
  .extend('terminator', { scope: 'file' }, async ({ certs, infra }, { onCleanup }): Promise<Terminator> => {
    const [host, port] = infra.temporalAddress.split(':');
    const clients: string[] = [];
    const server: Server = createServer(
      {
        cert: readFileSync(certs.serverCertFile),
        key: readFileSync(certs.serverKeyFile),
        ca: readFileSync(certs.caFile),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket: TLSSocket) => {
        clients.push(String(socket.getPeerCertificate().subject?.CN));
        const upstream = tcpConnect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    server.on('tlsClientError', () => {}); // refused clients are the point of one test
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { address: `localhost:${(server.address() as AddressInfo).port}`, clients };
  });

test('the worker and the client connect with TEMPORAL_TLS_CERT_FILE, _KEY_FILE and _CA_FILE', async ({
  infra,
  names,
  certs,
  terminator,
}) => {
  quietTemporal();
  const tokenFile = join(certs.dir, 'service-token');
  writeFileSync(tokenFile, 'unused');
  const taskQueue = names.taskQueue('tls');
  const config = loadConfig({
    TEMPORAL_ADDRESS: terminator.address,
    TEMPORAL_NAMESPACE: infra.temporalNamespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_TLS_CERT_FILE: certs.clientCertFile,
    TEMPORAL_TLS_KEY_FILE: certs.clientKeyFile,
    TEMPORAL_TLS_CA_FILE: certs.caFile,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    TIMELINE_STREAM: names.stream('TIMELINE'),
    TIMELINE_SUBJECT_ROOT: names.subject('beacon.timeline'),
    INTAKE_ADDRESS: '127.0.0.1:9',
    NOTIFY_ADDRESS: '127.0.0.1:9',
    SERVICE_TOKEN_FILE: tokenFile,
    AUTH_ISSUER: 'https://id.example',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    WORKFLOWS_ROLES: 'worker',
  });
  const workflows = await startWorkflows(
    config,
    createLogger({ name: 'temporal-tls-test', level: 'silent' }),
  );
  try {
    // The client's call and the worker's polls both went through the terminator.
    await waitFor(
      async () => {
        const { pollers } = await workflows.client.workflowService.describeTaskQueue({
          namespace: infra.temporalNamespace,
          taskQueue: { name: taskQueue },
          taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
        });
        expect(pollers?.length).toBeGreaterThan(0);
      },
      { what: 'the worker polling through TLS', timeoutMs: 10_000 },
    );
    expect(new Set(terminator.clients)).toEqual(new Set(['workflows']));
    expect(terminator.clients.length).toBeGreaterThanOrEqual(2);
  } finally {
    await workflows.stop();
  }
});

test('without a client certificate, or trusting another CA, both connections are refused', async ({
  certs,
  terminator,
}) => {
  quietTemporal();
  const admitted = terminator.clients.length;
  const noCert = temporalConnectionOptions({ address: terminator.address, tls: { caFile: certs.caFile } });
  // TLS 1.3: the refusal races the client's first request ("CertificateRequired" or a closed
  // connection, whichever the core sees first).
  await expect(NativeConnection.connect(noCert)).rejects.toThrow(/Failed to call GetSystemInfo/);
  await expect(Connection.connect({ ...noCert, connectTimeout: 2_000 })).rejects.toThrow();

  const otherCa = temporalConnectionOptions({
    address: terminator.address,
    tls: { caFile: certs.otherCaFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
  });
  await expect(NativeConnection.connect(otherCa)).rejects.toThrow(/InvalidCertificate\(UnknownIssuer\)/);
  await expect(Connection.connect({ ...otherCa, connectTimeout: 2_000 })).rejects.toThrow();
  expect(terminator.clients.length).toBe(admitted);
});
