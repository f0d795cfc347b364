import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createDevIssuer, createLogger, type DevIssuer, type Role } from '@beacon/platform';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Db } from 'mongodb';
import { eventsV1, intakeV1 } from '@beacon/proto';
import { testIdentity, waitFor, type Endpoints, type TestNames } from '@beacon/testkit';
import { NCISS_BASELINE, type Tlp } from '@beacon/domain';
import { loadConfig, startIntake, type RunningIntake } from '../src/index.js';

export interface TestIntake {
  readonly intake: RunningIntake;
  readonly issuer: DevIssuer;
  readonly client: intakeV1.IntakeServiceClient;
  readonly subjectRoot: string;
  readonly stream: string;
  readonly dbName: string;
  token(claims: { roles: Role[]; agencyId?: string; clearance?: Tlp; subject?: string }): Promise<string>;
  stop(): Promise<void>;
}

/** Intake in this process against the run's real servers, isolated by the test's names. */
export async function startTestIntake(
  infra: Endpoints,
  names: TestNames,
  env: Record<string, string> = {},
): Promise<TestIntake> {
  const issuer = await createDevIssuer({});
  const subjectRoot = names.subject('beacon.evt');
  const stream = names.stream('EVENTS');
  const dbName = names.database('intake');
  const config = loadConfig({
    MONGO_URL: infra.mongoUrl,
    INTAKE_DB: dbName,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: stream,
    EVENTS_SUBJECT_ROOT: subjectRoot,
    INTAKE_GRPC_PORT: '1',
    AUTH_ISSUER: issuer.issuer,
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
    ...env,
  });
  const intake = await startIntake(
    {
      ...config,
      grpc: { host: '127.0.0.1', port: 0 },
      auth: { ...config.auth, jwks: { keys: issuer.jwks } },
    },
    createLogger({ name: 'intake-test', level: 'silent' }),
  );
  const client = new intakeV1.IntakeServiceClient(`127.0.0.1:${intake.port}`, credentials.createInsecure());
  return {
    intake,
    issuer,
    client,
    subjectRoot,
    stream,
    dbName,
    token: ({ roles, agencyId, clearance = 'AMBER', subject }) =>
      issuer.mint({
        ...testIdentity(roles, agencyId, subject),
        roles,
        clearance,
        ...(agencyId ? { agencyId } : {}),
      }),
    stop: async () => {
      client.close();
      await intake.stop();
    },
  };
}

/** Request and response type of each IntakeService method. */
interface Methods {
  submitReport: [intakeV1.SubmitReportRequest, intakeV1.SubmitReportResponse];
  openIncident: [intakeV1.OpenIncidentRequest, intakeV1.OpenIncidentResponse];
  getIncident: [intakeV1.GetIncidentRequest, intakeV1.GetIncidentResponse];
  listIncidents: [intakeV1.ListIncidentsRequest, intakeV1.ListIncidentsResponse];
  transitionIncident: [intakeV1.TransitionIncidentRequest, intakeV1.TransitionIncidentResponse];
  updateSeverity: [intakeV1.UpdateSeverityRequest, intakeV1.UpdateSeverityResponse];
  assignAgency: [intakeV1.AssignAgencyRequest, intakeV1.AssignAgencyResponse];
  unassignAgency: [intakeV1.UnassignAgencyRequest, intakeV1.UnassignAgencyResponse];
  getTrends: [intakeV1.GetTrendsRequest, intakeV1.GetTrendsResponse];
  lookupIndicator: [intakeV1.LookupIndicatorRequest, intakeV1.LookupIndicatorResponse];
  exportIncidentStix: [intakeV1.ExportIncidentStixRequest, intakeV1.ExportIncidentStixResponse];
  verifyAuditChain: [intakeV1.VerifyAuditChainRequest, intakeV1.VerifyAuditChainResponse];
  updateIncidentFacts: [intakeV1.UpdateIncidentFactsRequest, intakeV1.UpdateIncidentFactsResponse];
  listPossibleRelations: [intakeV1.ListPossibleRelationsRequest, intakeV1.ListPossibleRelationsResponse];
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

/** Calls an IntakeService method as a promise, with a bearer token and extra metadata. */
export function rpc<M extends keyof Methods>(
  t: TestIntake,
  method: M,
  request: Methods[M][0],
  token: string | undefined,
  extra: Record<string, string> = {},
): Promise<Methods[M][1]> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) metadata.set(k, v);
  const fn = t.client[method] as unknown as UnaryMethod;
  return new Promise((resolve, reject) => {
    fn.call(t.client, request, metadata, { deadline: new Date(Date.now() + 10_000) }, (error, response) =>
      error ? reject(error) : resolve(response as Methods[M][1]),
    );
  });
}

/** A valid report; override what the test is about. */
export function report(overrides: Partial<intakeV1.SubmitReportRequest> = {}): intakeV1.SubmitReportRequest {
  return {
    title: 'Ransomware at a regional water utility',
    description: 'SCADA HMIs encrypted; manual operation in place.',
    tlp: 3, // AMBER
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE-BY'],
    observables: [{ type: 'domain', value: 'evil-c2.example' }],
    awareAt: new Date(Date.now() - 3_600_000),
    affectedAssets: [],
    ...overrides,
  };
}

/** A valid direct opening by a coordinator; override what the test is about. */
export function openRequest(
  overrides: Partial<intakeV1.OpenIncidentRequest> = {},
): intakeV1.OpenIncidentRequest {
  return {
    title: 'Grid disturbance after a control-system compromise',
    tlp: 3, // AMBER
    classification: { rsitClass: 'availability', rsitType: 'outage' },
    sectors: ['energy'],
    jurisdictions: ['DE'],
    observables: [],
    severityInputs: { ...NCISS_BASELINE },
    awareAt: new Date(Date.now() - 3_600_000),
    affectedAssets: [],
    ...overrides,
  };
}

/** Waits until every outbox is empty, then returns the events the stream holds, decoded. */
export async function publishedEvents(
  t: TestIntake,
  js: JetStreamClient,
  db: Db,
): Promise<eventsV1.Envelope[]> {
  await waitFor(
    async () => {
      const pending = await Promise.all(
        ['incidents', 'relations'].map((c) => db.collection(c).countDocuments({ outbox: { $ne: {} } })),
      );
      if (pending.some((n) => n > 0)) throw new Error(`outbox not empty: ${pending.join(', ')}`);
    },
    { what: 'outbox relay', timeoutMs: 15_000, intervalMs: 50 },
  );
  const consumer = await js.consumers.get(t.stream);
  const total = (await consumer.info()).num_pending;
  const events: eventsV1.Envelope[] = [];
  if (total === 0) return events;
  for await (const message of await consumer.fetch({ max_messages: total, expires: 5_000 })) {
    events.push(eventsV1.Envelope.decode(message.data));
    if (events.length === total) break;
  }
  return events;
}
