import { describe, expect } from 'vitest';
import { createDevIssuer, createLogger, type DevIssuer } from '@beacon/platform';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { createTestCertificates, test as base, type TestCertificates } from '@beacon/testkit';
import { loadConfig, startGateway, type RunningGateway } from '../src/index.js';
import { reportJson } from './harness.js';

/**
 * The gateway reaches intake over mutual TLS, each configured only through its environment
 * (GRPC_TLS_* on intake, GRPC_CLIENT_TLS_* on the gateway), against the run's real NATS and
 * FerretDB: a report submitted at the REST door is stored by intake through the TLS channel.
 */

const logger = createLogger({ name: 'gateway-tls-test', level: 'silent' });

interface TlsIntake {
  readonly intake: RunningIntake;
  readonly issuer: DevIssuer;
  readonly certs: TestCertificates;
  readonly auth: Record<string, string>;
}

const test = base.extend('tls', async ({ infra, names }, { onCleanup }): Promise<TlsIntake> => {
  const certs = createTestCertificates('gateway');
  const issuer = await createDevIssuer({});
  const auth = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URL: 'http://127.0.0.1:9/unused' };
  const config = intakeConfig({
    MONGO_URL: infra.mongoUrl,
    INTAKE_DB: names.database('intake'),
    INTAKE_GRPC_PORT: '1',
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
    GRPC_TLS_CERT_FILE: certs.serverCertFile,
    GRPC_TLS_KEY_FILE: certs.serverKeyFile,
    GRPC_TLS_CLIENT_CA_FILE: certs.caFile,
    ...auth,
  });
  const intake = await startIntake(
    {
      ...config,
      grpc: { ...config.grpc, port: 0 },
      auth: { ...config.auth, jwks: { keys: issuer.jwks } },
    },
    logger,
  );
  onCleanup(() => intake.stop());
  return { intake, issuer, certs, auth };
});

async function gatewayFor(tls: TlsIntake, env: Record<string, string>): Promise<RunningGateway> {
  const config = loadConfig({
    // The name in intake's certificate, as a Service name would be in a cluster.
    INTAKE_ADDRESS: `localhost:${tls.intake.port}`,
    ...tls.auth,
    ...env,
  });
  return startGateway(
    {
      ...config,
      grpcPort: 0,
      httpPort: 0,
      auth: { ...config.auth, jwks: { keys: tls.issuer.jwks } },
    },
    logger,
  );
}

/** A report submitted over the gateway's REST door by an agency analyst, with the token used. */
async function submitReport(tls: TlsIntake, base: string) {
  const token = await tls.issuer.mint({
    subject: 'cert-fr-analyst',
    roles: ['agency_analyst'],
    agencyId: 'cert-fr',
    clearance: 'AMBER',
  });
  const created = await fetch(`${base}/v1/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(reportJson()),
  });
  return { token, created };
}

describe('the gateway as a TLS client of intake', () => {
  test('with its client certificate: ready, and a report goes through to intake', async ({ tls }) => {
    const gateway = await gatewayFor(tls, {
      GRPC_CLIENT_TLS_CA_FILE: tls.certs.caFile,
      GRPC_CLIENT_TLS_CERT_FILE: tls.certs.clientCertFile,
      GRPC_CLIENT_TLS_KEY_FILE: tls.certs.clientKeyFile,
    });
    try {
      const base = `http://127.0.0.1:${gateway.httpPort}`;
      // Readiness is intake's health check, over the same TLS channel.
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const { token, created } = await submitReport(tls, base);
      expect(created.status).toBe(201);
      const { incident } = (await created.json()) as { incident: { id: string } };
      const read = await fetch(`${base}/v1/incidents/${incident.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(read.status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  test('without a client certificate, intake refuses it and it is not ready', async ({ tls }) => {
    const gateway = await gatewayFor(tls, { GRPC_CLIENT_TLS_CA_FILE: tls.certs.caFile });
    try {
      const base = `http://127.0.0.1:${gateway.httpPort}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      const { created } = await submitReport(tls, base);
      expect(created.status).toBe(503);
    } finally {
      await gateway.stop();
    }
  });
});
