import { NCISS_BASELINE } from '@beacon/domain';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createDevIssuer, createLogger, type DevIssuer, type Role } from '@beacon/platform';
import { intakeV1, notifyV1 } from '@beacon/proto';
import { freePort, testIdentity, type Endpoints, type TestNames } from '@beacon/testkit';
import { loadConfig as gatewayConfig, startGateway, type RunningGateway } from '@beacon/gateway';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { loadConfig, startNotify, type RunningNotify } from '../src/index.js';

/** The acknowledgement links' key in tests. */
export const ACK_SECRET = 'test-ack-link-secret-0123456789abcdef';

/** Intake, notify and the gateway in this process, against the run's real servers. */
export interface Stack {
  readonly issuer: DevIssuer;
  readonly intake: RunningIntake;
  notify: RunningNotify;
  readonly intakeClient: intakeV1.IntakeServiceClient;
  notifyClient: notifyV1.NotifyServiceClient;
  readonly gateway: RunningGateway;
  /** Base URL of the gateway's REST door. */
  readonly http: string;
  /** A client for notify's contract at the gateway's gRPC door. */
  readonly gatewayNotify: notifyV1.NotifyServiceClient;
  readonly feeds: { readonly stream: string; readonly root: string };
  /** Where agencies acknowledge by NATS request. */
  readonly ackRoot: string;
  readonly events: { readonly stream: string; readonly root: string };
  token(roles: Role[], agencyId?: string): Promise<string>;
  /** The durable the running notify fans out with. */
  fanOutConsumer: string;
  /** Restarts notify with a fresh fan-out consumer: it handles every event again. */
  replayNotify(): Promise<void>;
}

export async function startStack(
  infra: Endpoints,
  names: TestNames,
  /** Extra environment for notify, e.g. `WEBHOOK_ALLOW_CIDRS`. */
  notifyEnv: Record<string, string> = {},
  /** Extra environment for intake, e.g. a NATS server of the test's own and its credentials. */
  intakeEnv: Record<string, string> = {},
): Promise<Stack & { stop(): Promise<void> }> {
  const issuer = await createDevIssuer({});
  const auth = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URL: 'http://127.0.0.1:9/unused' };
  const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
  const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
  const ackRoot = names.subject('beacon.ack');
  const shared = {
    ...auth,
    MONGO_URL: infra.mongoUrl,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: events.stream,
    EVENTS_SUBJECT_ROOT: events.root,
  };
  const logger = createLogger({ name: 'notify-test', level: 'silent' });
  const keys = { jwks: { keys: issuer.jwks } };
  const ic = intakeConfig({
    ...shared,
    INTAKE_DB: names.database('intake'),
    CORRELATION_SECRET: 'x'.repeat(40),
    ...intakeEnv,
  });
  const intake = await startIntake(
    { ...ic, grpc: { host: '127.0.0.1', port: 0 }, auth: { ...ic.auth, ...keys } },
    logger,
  );
  let generation = 0;
  const consumerName = () => `${names.stream('fanout')}_${generation}`;
  const start = () => {
    const nc = loadConfig({
      ...shared,
      NOTIFY_DB: names.database('notify'),
      FEEDS_STREAM: feeds.stream,
      FEEDS_SUBJECT_ROOT: feeds.root,
      NOTIFY_FANOUT_CONSUMER: consumerName(),
      NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
      ACK_LINK_SECRET: ACK_SECRET,
      ACK_SUBJECT_ROOT: ackRoot,
      // Not the fixed default: another test file or clone may hold it.
      NOTIFY_HTTP_PORT: String(httpPort),
      ...notifyEnv,
    });
    return startNotify({ ...nc, grpc: { host: '127.0.0.1', port }, auth: { ...nc.auth, ...keys } }, logger);
  };
  const port = await freePort();
  const httpPort = await freePort();
  const connect = (port: number) =>
    new notifyV1.NotifyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const notify = await start();
  const gc = gatewayConfig({
    ...auth,
    INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
    NOTIFY_ADDRESS: `127.0.0.1:${port}`,
  });
  const gateway = await startGateway(
    { ...gc, grpcPort: 0, httpPort: 0, auth: { ...gc.auth, ...keys } },
    logger,
  );
  const stack = {
    gateway,
    http: `http://127.0.0.1:${gateway.httpPort}`,
    gatewayNotify: new notifyV1.NotifyServiceClient(
      `127.0.0.1:${gateway.grpcPort}`,
      credentials.createInsecure(),
    ),
    issuer,
    intake,
    notify,
    intakeClient: new intakeV1.IntakeServiceClient(`127.0.0.1:${intake.port}`, credentials.createInsecure()),
    notifyClient: connect(notify.port),
    feeds,
    ackRoot,
    events,
    fanOutConsumer: consumerName(),
    token: (roles: Role[], agencyId?: string) =>
      issuer.mint({
        ...testIdentity(roles, agencyId),
        roles,
        clearance: 'RED',
        ...(agencyId ? { agencyId } : {}),
      }),
    replayNotify: async () => {
      stack.notifyClient.close();
      await stack.notify.stop();
      generation++;
      stack.fanOutConsumer = consumerName();
      stack.notify = await start();
      stack.notifyClient = connect(stack.notify.port);
    },
    stop: async () => {
      stack.notifyClient.close();
      stack.intakeClient.close();
      stack.gatewayNotify.close();
      await gateway.stop();
      await stack.notify.stop();
      await intake.stop();
    },
  };
  return stack;
}

type Unary = (
  req: unknown,
  md: Metadata,
  opts: { deadline: Date },
  cb: (e: ServiceError | null, r: unknown) => void,
) => unknown;
/** A unary call as a promise, with a bearer token. */
export function call<R>(client: object, method: string, request: unknown, token: string): Promise<R> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const fn = (client as Record<string, Unary>)[method]!;
  return new Promise((resolve, reject) =>
    fn.call(client, request, md, { deadline: new Date(Date.now() + 15_000) }, (e, r) =>
      e ? reject(e) : resolve(r as R),
    ),
  );
}

export const TLP = { CLEAR: 1, GREEN: 2, AMBER: 3, 'AMBER+STRICT': 4, RED: 5 } as const;

/** A valid agency; override what the test is about. */
export function agency(
  id: string,
  clearance: keyof typeof TLP,
  overrides: Partial<notifyV1.Agency> = {},
): notifyV1.Agency {
  return {
    id,
    name: `Agency ${id}`,
    kind: notifyV1.AgencyKind.AGENCY_KIND_CSIRT,
    jurisdictions: ['DE'],
    sectors: ['energy'],
    clearance: TLP[clearance],
    contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@agency.example', phone: '' }],
    version: 0,
    ...overrides,
  };
}

export function subscription(
  agencyId: string,
  id: string,
  filters: Partial<notifyV1.Subscription> = {},
): notifyV1.Subscription {
  return {
    id,
    agencyId,
    eventTypes: [],
    rsitClasses: [],
    sectors: [],
    jurisdictions: [],
    minNcissLevel: 0,
    incidentIds: [],
    reach: notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_UNSPECIFIED,
    ...filters,
  };
}

/** Opens an incident in intake as the coordinator (an outage in Bavarian energy unless told). */
export async function openIncident(
  t: Pick<Stack, 'intakeClient'>,
  token: string,
  tlp: keyof typeof TLP,
  overrides: Partial<intakeV1.OpenIncidentRequest> = {},
): Promise<intakeV1.Incident> {
  const { incident } = await call<intakeV1.OpenIncidentResponse>(
    t.intakeClient,
    'openIncident',
    {
      title: `A ${tlp} incident`,
      tlp: TLP[tlp],
      classification: { rsitClass: 'availability', rsitType: 'outage' },
      sectors: ['energy'],
      jurisdictions: ['DE-BY'],
      observables: [],
      severityInputs: { ...NCISS_BASELINE },
      affectedAssets: [],
      awareAt: new Date(Date.now() - 3_600_000),
      ...overrides,
    },
    token,
  );
  return incident!;
}

/** Engages an agency on an incident, as the coordinator does. */
export async function engage(
  t: Pick<Stack, 'intakeClient'>,
  token: string,
  incidentId: string,
  agencyId: string,
) {
  await call(t.intakeClient, 'assignAgency', { incidentId, agencyId, expectedVersion: 0 }, token);
}
