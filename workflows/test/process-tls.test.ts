import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { grpcChannelCredentials, ServingStatus } from '@beacon/platform';
import { healthV1 } from '@beacon/proto';
import {
  createTestCertificates,
  freePort,
  infraDir,
  ManagedProcess,
  repoRoot,
  test,
  waitFor,
} from '@beacon/testkit';

/**
 * The workflows process as deployed (its own `main`, a process of its own) with mutual TLS on
 * the response API and the plaintext health port the kubelet probes: the probe port answers
 * without TLS, the API only to a caller with a certificate of the CA, and SIGTERM still ends the
 * process with exit 0 (its own shutdown stops the worker, which is not mistaken for a worker
 * that stopped unasked, which would exit 1).
 */
test('the response API requires mutual TLS, probes use the plaintext port, SIGTERM exits 0', async ({
  infra,
  names,
}) => {
  const certs = createTestCertificates('gateway');
  const [apiPort, healthPort] = [await freePort(), await freePort()];
  const tokenFile = join(certs.dir, 'service-token');
  writeFileSync(tokenFile, 'unused');
  const workflows = new ManagedProcess({
    name: 'workflows-tls',
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(repoRoot, 'workflows/src/main.ts')],
    logFile: join(infraDir, 'test', 'apps', `workflows-tls-${names.id}.log`),
    env: {
      TEMPORAL_ADDRESS: infra.temporalAddress,
      TEMPORAL_NAMESPACE: infra.temporalNamespace,
      TEMPORAL_TASK_QUEUE: names.taskQueue('tls'),
      NATS_URL: infra.natsUrl,
      EVENTS_STREAM: names.stream('EVENTS'),
      EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
      INTAKE_ADDRESS: '127.0.0.1:9',
      NOTIFY_ADDRESS: '127.0.0.1:9',
      SERVICE_TOKEN_FILE: tokenFile,
      AUTH_ISSUER: 'https://id.example',
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      WORKFLOWS_ROLES: 'worker,api',
      RESPONSE_GRPC_PORT: String(apiPort),
      GRPC_TLS_CERT_FILE: certs.serverCertFile,
      GRPC_TLS_KEY_FILE: certs.serverKeyFile,
      GRPC_TLS_CLIENT_CA_FILE: certs.caFile,
      GRPC_HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'info',
    },
  });
  const clients: healthV1.HealthClient[] = [];
  const check = (address: string, channel: ChannelCredentials) => {
    const client = new healthV1.HealthClient(address, channel);
    clients.push(client);
    return new Promise<ServingStatus>((resolve, reject) =>
      client.check(
        { service: '' },
        new Metadata(),
        { deadline: new Date(Date.now() + 2_000) },
        (error, response) => (error ? reject(error) : resolve(response.status)),
      ),
    );
  };
  workflows.start();
  try {
    // The probe's view: plaintext, no certificate. Up once the worker has bundled its code.
    await waitFor(
      async () =>
        expect(await check(`127.0.0.1:${healthPort}`, credentials.createInsecure())).toBe(
          ServingStatus.SERVING,
        ),
      { what: 'the health port', timeoutMs: 60_000, abortIf: () => workflows.exitReason },
    );
    const withCertificate = grpcChannelCredentials({
      caFile: certs.caFile,
      certFile: certs.clientCertFile,
      keyFile: certs.clientKeyFile,
    });
    await expect(check(`localhost:${apiPort}`, withCertificate)).resolves.toBe(ServingStatus.SERVING);
    await expect(
      check(`localhost:${apiPort}`, grpcChannelCredentials({ caFile: certs.caFile })),
    ).rejects.toThrow(/certificate required/);
    await expect(check(`127.0.0.1:${apiPort}`, credentials.createInsecure())).rejects.toThrow(/UNAVAILABLE/);
  } finally {
    for (const client of clients) client.close();
    await workflows.stop();
  }
  expect(workflows.exitReason).toMatch(/exited \(code 0\)/);
});
