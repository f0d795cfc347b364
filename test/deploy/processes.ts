import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { nkeys } from '@nats-io/nats-core';
import { loadConfig as gatewayConfig } from '@beacon/gateway';
import { loadConfig as impactConfig } from '@beacon/impact';
import { loadConfig as intakeConfig } from '@beacon/intake';
import { loadConfig as notifyConfig } from '@beacon/notify';
import { loadConfig as victimsConfig } from '@beacon/victims';
import { loadConfig as workflowsConfig } from '@beacon/workflows';
import { createTestCertificates, type TestCertificates } from '@beacon/testkit/infra';

export type Env = Record<string, string | undefined>;

/**
 * Every Beacon process: its config parser (the code's own), the config files it reads, the
 * port its gRPC server binds according to that config, and that server's TLS and health port.
 */
export const PROCESSES = {
  gateway: {
    load: gatewayConfig,
    sources: ['services/gateway/src/config.ts'],
    grpcPort: (env: Env) => gatewayConfig(env).grpcPort,
    grpcServer: (env: Env) => gatewayConfig(env).grpcServer,
  },
  intake: {
    load: intakeConfig,
    sources: ['services/intake/src/config.ts'],
    grpcPort: (env: Env) => intakeConfig(env).grpc.port,
    grpcServer: (env: Env) => intakeConfig(env).grpc,
  },
  impact: {
    load: impactConfig,
    // Its service identity's variables are the platform's (SERVICE_IDENTITY_ENV).
    sources: ['services/impact/src/config.ts', 'packages/platform/src/service-identity.ts'],
    grpcPort: (env: Env) => impactConfig(env).grpc.port,
    grpcServer: (env: Env) => impactConfig(env).grpc,
  },
  notify: {
    load: notifyConfig,
    sources: ['services/notify/src/config.ts'],
    grpcPort: (env: Env) => notifyConfig(env).grpc.port,
    grpcServer: (env: Env) => notifyConfig(env).grpc,
  },
  victims: {
    load: victimsConfig,
    sources: ['services/victims/src/config.ts'],
    grpcPort: (env: Env) => victimsConfig(env).grpc.port,
    grpcServer: (env: Env) => victimsConfig(env).grpc,
  },
  workflows: {
    load: workflowsConfig,
    sources: ['workflows/src/config.ts', 'packages/platform/src/service-identity.ts'],
    grpcPort: (env: Env) => workflowsConfig(env).api.port,
    grpcServer: (env: Env) => workflowsConfig(env).api,
  },
} as const;
export type ProcessName = keyof typeof PROCESSES;
export const NAMES = Object.keys(PROCESSES) as ProcessName[];

/**
 * Variables a manifest may set that no `config.ts` reads: Node's own, the OpenTelemetry SDK's
 * standard ones, and two that the rest of issue 8 introduces (metrics on METRICS_PORT; the
 * JetStream replica count of Beacon's streams). Keep this list short and say why for each.
 */
const READ_ELSEWHERE = [
  'NODE_EXTRA_CA_CERTS', // Node: extra trusted roots for every TLS client in the process
];
export const isReadElsewhere = (name: string) => READ_ELSEWHERE.includes(name) || name.startsWith('OTEL_');

let certificates: TestCertificates | undefined;
/** A throwaway CA and client certificate (openssl), made once when a manifest mounts one. */
const pem = (file: keyof Omit<TestCertificates, 'dir'>) => () =>
  readFileSync((certificates ??= createTestCertificates('beacon-manifests'))[file], 'utf8');

/** A `.creds` file as `nsc generate creds` writes it; the code checks that the seed decodes. */
const natsCreds = () =>
  [
    '-----BEGIN NATS USER JWT-----',
    'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2lnbmF0dXJl',
    '------END NATS USER JWT------',
    '',
    '-----BEGIN USER NKEY SEED-----',
    new TextDecoder().decode(nkeys.createUser().getSeed()),
    '------END USER NKEY SEED------',
    '',
  ].join('\n');

/**
 * Stand-ins for each Secret key the manifests reference, shaped as the code requires. A key
 * without one fails the test: document it in docs/operations.md and add it here.
 */
export const SECRET_SAMPLES: Record<string, () => string> = {
  MONGO_URL: () => 'mongodb://beacon:pw@mongo-0.example:27017,mongo-1.example:27017/?replicaSet=rs0&tls=true',
  CORRELATION_SECRET: () => randomBytes(32).toString('hex'),
  ACK_LINK_SECRET: () => randomBytes(32).toString('hex'),
  SMTP_USER: () => 'beacon',
  SMTP_PASSWORD: () => 'smtp-password',
  'service-token': () => 'eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl',
  'victims-keks': () => `k2026:${randomBytes(32).toString('base64')}`,
  'victims-search-key': () => randomBytes(32).toString('hex'),
  'nats-account-signer.json': () => JSON.stringify({ accountPublicKey: 'A'.repeat(56), signingSeed: 'SA' }),
  'ca.crt': pem('caFile'),
  'nats.creds': natsCreds,
  'nats-tls.crt': pem('clientCertFile'),
  'nats-tls.key': pem('clientKeyFile'),
  'temporal-tls.crt': pem('clientCertFile'),
  'temporal-tls.key': pem('clientKeyFile'),
  // One certificate per process for gRPC, as server and as client.
  'grpc-tls.crt': pem('serverCertFile'),
  'grpc-tls.key': pem('serverKeyFile'),
};

/** Variables that carry secrets: they may only ever come from a Secret. */
export const SECRET_VARIABLE =
  /^(MONGO_URL|CORRELATION_SECRET|ACK_LINK_SECRET|SMTP_PASSWORD|VICTIMS_KEKS|VICTIMS_SEARCH_KEY|NATS_PASSWORD|NATS_TOKEN|TEMPORAL_API_KEY)$/;
