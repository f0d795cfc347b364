import { credentials } from '@grpc/grpc-js';
import { createDevIssuer, createLogger, type DevIssuer, type Role } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import type { Endpoints, TestNames } from '@beacon/testkit';
import type { Tlp } from '@beacon/domain';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { loadConfig, startGateway, type RunningGateway } from '../src/index.js';

export interface TestStack {
  readonly intake: RunningIntake;
  readonly gateway: RunningGateway;
  readonly issuer: DevIssuer;
  readonly dbName: string;
  /** Base URL of the REST door. */
  readonly http: string;
  /** A generated client pointed at the gateway's gRPC door. */
  readonly grpc: intakeV1.IntakeServiceClient;
  token(claims: { roles: Role[]; agencyId?: string; clearance?: Tlp }): Promise<string>;
  stop(): Promise<void>;
}

/** Intake and the gateway in this process, against the run's real servers. */
export async function startTestStack(
  infra: Endpoints,
  names: TestNames,
  env: Record<string, string> = {},
): Promise<TestStack> {
  const issuer = await createDevIssuer({});
  const logger = createLogger({ name: 'gateway-test', level: 'silent' });
  const dbName = names.database('intake');
  const auth = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URL: 'http://127.0.0.1:9/unused' };
  const ic = intakeConfig({
    MONGO_URL: infra.mongoUrl,
    INTAKE_DB: dbName,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
    ...auth,
  });
  const keys = { jwks: { keys: issuer.jwks } };
  const intake = await startIntake(
    { ...ic, grpc: { host: '127.0.0.1', port: 0 }, auth: { ...ic.auth, ...keys } },
    logger,
  );
  const gc = loadConfig({ INTAKE_ADDRESS: `127.0.0.1:${intake.port}`, ...auth, ...env });
  const gateway = await startGateway(
    { ...gc, grpcPort: 0, httpPort: 0, auth: { ...gc.auth, ...keys } },
    logger,
  );
  const grpc = new intakeV1.IntakeServiceClient(
    `127.0.0.1:${gateway.grpcPort}`,
    credentials.createInsecure(),
  );
  return {
    intake,
    gateway,
    issuer,
    dbName,
    http: `http://127.0.0.1:${gateway.httpPort}`,
    grpc,
    token: ({ roles, agencyId, clearance = 'AMBER' }) =>
      issuer.mint({
        subject: `${agencyId ?? 'cc'}-${roles.join('+')}`,
        roles,
        clearance,
        ...(agencyId ? { agencyId } : {}),
      }),
    stop: async () => {
      grpc.close();
      await gateway.stop();
      await intake.stop();
    },
  };
}

/** A valid report in the proto3 JSON mapping. */
export function reportJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Phishing wave against a regional bank',
    description: 'Credential-harvesting pages imitating online banking.',
    tlp: 'TLP_GREEN',
    classification: { rsitClass: 'fraud', rsitType: 'phishing' },
    sectors: ['financial-services'],
    jurisdictions: ['FR'],
    observables: [{ type: 'url', value: 'https://bank-login.example/secure' }],
    awareAt: new Date(Date.now() - 600_000).toISOString(),
    ...overrides,
  };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** One REST call; the body is parsed whatever the status. */
export async function http(
  stack: TestStack,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${stack.http}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
