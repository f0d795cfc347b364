import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { createDevIssuer, createLogger, type DevIssuer, type Role } from '@beacon/platform';
import { impactV1, intakeV1 } from '@beacon/proto';
import { freePort, type Endpoints, type TestNames } from '@beacon/testkit';
import { PROCESS_SCOPES, type Tlp } from '@beacon/domain';
import { loadConfig as gatewayConfig, startGateway, type RunningGateway } from '@beacon/gateway';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { loadConfig, startImpact, type RunningImpact } from '../src/index.js';

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

type RequestOf<H> = H extends handleUnaryCall<infer Req, unknown> ? Req : never;
type ResponseOf<H> = H extends handleUnaryCall<never, infer Res> ? Res : never;

/** Promise form of a generated client's unary methods (typed by its server interface), with a bearer token. */
export function caller<S extends object>(client: object, token: string | undefined) {
  return <M extends keyof S & string>(method: M, request: RequestOf<S[M]>): Promise<ResponseOf<S[M]>> => {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    const fn = (client as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) =>
      fn.call(client, request, metadata, { deadline: new Date(Date.now() + 15_000) }, (error, response) =>
        error ? reject(error) : resolve(response as ResponseOf<S[M]>),
      ),
    );
  };
}

export const impactCaller = (client: impactV1.ImpactServiceClient, token: string | undefined) =>
  caller<impactV1.ImpactServiceServer>(client, token);
export const intakeCaller = (client: intakeV1.IntakeServiceClient, token: string | undefined) =>
  caller<intakeV1.IntakeServiceServer>(client, token);

/** Intake and impact in this process against the run's real servers, isolated by the test's names. */
export interface TestStack {
  readonly issuer: DevIssuer;
  readonly intake: RunningIntake;
  impact: RunningImpact;
  readonly gateway: RunningGateway;
  /** Base URL of the gateway's REST door. */
  readonly http: string;
  readonly intakeClient: intakeV1.IntakeServiceClient;
  impactClient: impactV1.ImpactServiceClient;
  readonly stream: string;
  readonly subjectRoot: string;
  readonly impactDb: string;
  token(claims: { roles: Role[]; agencyId?: string; clearance?: Tlp }): Promise<string>;
  /** Stops impact and starts it again on the same database and consumer. */
  restartImpact(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestStack(infra: Endpoints, names: TestNames): Promise<TestStack> {
  const issuer = await createDevIssuer({});
  const subjectRoot = names.subject('beacon.evt');
  const stream = names.stream('EVENTS');
  const impactDb = names.database('impact');
  const auth = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URL: 'http://127.0.0.1:9/unused' };
  const shared = {
    MONGO_URL: infra.mongoUrl,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: stream,
    EVENTS_SUBJECT_ROOT: subjectRoot,
  };
  const logger = createLogger({ name: 'impact-test', level: 'silent' });

  const ic = intakeConfig({
    ...shared,
    ...auth,
    INTAKE_DB: names.database('intake'),
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
  });
  const intake = await startIntake(
    { ...ic, grpc: { host: '127.0.0.1', port: 0 }, auth: { ...ic.auth, jwks: { keys: issuer.jwks } } },
    logger,
  );

  const dir = await mkdtemp(join(tmpdir(), 'beacon-impact-'));
  const tokenFile = join(dir, 'service-token');
  await writeFile(
    tokenFile,
    await issuer.mint({
      subject: 'impact',
      roles: ['service'],
      scopes: PROCESS_SCOPES.impact,
      clearance: 'RED',
    }),
    {
      mode: 0o600,
    },
  );
  const config = loadConfig({
    ...shared,
    ...auth,
    IMPACT_DB: impactDb,
    IMPACT_CONSUMER: names.stream('impact'),
    INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
    SERVICE_TOKEN_FILE: tokenFile,
    RECOVERY_SWEEP_SECONDS: '1',
    // Long enough that one test's burst of registry changes shares one re-assessment.
    REASSESS_DELAY_MS: '1500',
  });
  // A fixed port, so the gateway still reaches impact after a restart.
  const port = await freePort();
  const start = () =>
    startImpact(
      {
        ...config,
        grpc: { host: '127.0.0.1', port },
        auth: { ...config.auth, jwks: { keys: issuer.jwks } },
      },
      logger,
    );
  const connect = (port: number) =>
    new impactV1.ImpactServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());

  const impact = await start();
  const gc = gatewayConfig({
    ...auth,
    INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
    IMPACT_ADDRESS: `127.0.0.1:${port}`,
  });
  const gateway = await startGateway(
    { ...gc, grpcPort: 0, httpPort: 0, auth: { ...gc.auth, jwks: { keys: issuer.jwks } } },
    logger,
  );
  const stack: TestStack = {
    gateway,
    http: `http://127.0.0.1:${gateway.httpPort}`,
    issuer,
    intake,
    impact,
    intakeClient: new intakeV1.IntakeServiceClient(`127.0.0.1:${intake.port}`, credentials.createInsecure()),
    impactClient: connect(impact.port),
    stream,
    subjectRoot,
    impactDb,
    token: ({ roles, agencyId, clearance = 'AMBER' }) =>
      issuer.mint({
        subject: `${agencyId ?? 'cc'}-${roles.join('+')}`,
        roles,
        clearance,
        ...(agencyId ? { agencyId } : {}),
      }),
    restartImpact: async () => {
      stack.impactClient.close();
      await stack.impact.stop();
      stack.impact = await start();
      stack.impactClient = connect(stack.impact.port);
    },
    stop: async () => {
      stack.impactClient.close();
      stack.intakeClient.close();
      await gateway.stop();
      await stack.impact.stop();
      await intake.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** A valid asset; override what the test is about. */
export function asset(id: string, overrides: Partial<impactV1.Asset> = {}): impactV1.Asset {
  return {
    id,
    name: `Asset ${id}`,
    operatorId: 'op-grid',
    sector: 'energy',
    jurisdiction: 'DE-BY',
    location: { lat: 48.14, lon: 11.58 },
    populationServed: 10_000,
    criticality: 3,
    services: [],
    tlp: 2, // GREEN
    version: 0,
    ...overrides,
  };
}

export function dependency(
  dependentId: string,
  providerId: string,
  overrides: Partial<impactV1.Dependency> = {},
): impactV1.Dependency {
  return {
    dependentId,
    providerId,
    kind: 'power',
    timeToImpactHours: 1,
    degradation: 1,
    backupHours: 0,
    ...overrides,
  };
}
