import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createDevIssuer, createLogger, type DevIssuer, type Logger, type Role } from '@beacon/platform';
import { impactV1, intakeV1, notifyV1 } from '@beacon/proto';
import type { TestNames } from '@beacon/testkit';
import { loadConfig as impactConfig, startImpact, type RunningImpact } from '@beacon/impact';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { loadConfig as notifyConfig, startNotify, type RunningNotify } from '@beacon/notify';

/** One running instance of a service, with a gRPC client pointed at it. */
export interface Instance<S, C> {
  readonly running: S;
  readonly client: C;
}

/**
 * Several instances each of intake, notify and impact in this process, sharing one Mongo-wire
 * server and one NATS server or cluster, as replicas behind a load balancer do: each with its
 * own connections, relay and consumers, sharing databases, streams and durable consumer names.
 * Isolated from other tests by the test's names.
 */
export interface ScaleOutStack {
  readonly issuer: DevIssuer;
  readonly intakes: Instance<RunningIntake, intakeV1.IntakeServiceClient>[];
  readonly notifies: Instance<RunningNotify, notifyV1.NotifyServiceClient>[];
  readonly impacts: Instance<RunningImpact, impactV1.ImpactServiceClient>[];
  readonly events: { readonly stream: string; readonly root: string };
  readonly feeds: { readonly stream: string; readonly root: string };
  readonly databases: { readonly intake: string; readonly notify: string; readonly impact: string };
  readonly durables: { readonly fanOut: string; readonly impact: string };
  /** Starts one more instance; `logger` replaces the stack's for it. */
  addIntake(logger?: Logger): Promise<void>;
  addNotify(logger?: Logger): Promise<void>;
  addImpact(logger?: Logger): Promise<void>;
  token(roles: Role[], agencyId?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ScaleOutOptions {
  readonly mongoUrl: string;
  readonly natsServers: readonly string[];
  /** Replicas of the streams the services declare (3 on a three-node cluster). */
  readonly replicas: number;
  readonly names: TestNames;
  readonly logger?: Logger;
}

export async function startScaleOutStack(options: ScaleOutOptions): Promise<ScaleOutStack> {
  const { names } = options;
  const logger = options.logger ?? createLogger({ name: 'scale-out-test', level: 'silent' });
  const issuer = await createDevIssuer({});
  const keys = { jwks: { keys: issuer.jwks } };
  const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
  const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
  const databases = {
    intake: names.database('intake'),
    notify: names.database('notify'),
    impact: names.database('impact'),
  };
  const durables = { fanOut: names.stream('fanout'), impact: names.stream('impact') };
  const shared = {
    AUTH_ISSUER: issuer.issuer,
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    MONGO_URL: options.mongoUrl,
    NATS_URL: options.natsServers.join(','),
    NATS_STREAM_REPLICAS: String(options.replicas),
    EVENTS_STREAM: events.stream,
    EVENTS_SUBJECT_ROOT: events.root,
    RECOVERY_SWEEP_SECONDS: '1',
  };
  const grpc = { host: '127.0.0.1', port: 0 };
  const stack: ScaleOutStack = {
    issuer,
    intakes: [],
    notifies: [],
    impacts: [],
    events,
    feeds,
    databases,
    durables,
    addIntake: async (own = logger) => {
      const config = intakeConfig({
        ...shared,
        INTAKE_DB: databases.intake,
        CORRELATION_SECRET: 'scale-out-correlation-secret-0123456789',
      });
      const running = await startIntake({ ...config, grpc, auth: { ...config.auth, ...keys } }, own);
      stack.intakes.push({
        running,
        client: new intakeV1.IntakeServiceClient(`127.0.0.1:${running.port}`, credentials.createInsecure()),
      });
    },
    addNotify: async (own = logger) => {
      const config = notifyConfig({
        ...shared,
        NOTIFY_DB: databases.notify,
        FEEDS_STREAM: feeds.stream,
        FEEDS_SUBJECT_ROOT: feeds.root,
        NOTIFY_FANOUT_CONSUMER: durables.fanOut,
        NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
        ACK_SUBJECT_ROOT: names.subject('beacon.ack'),
      });
      const running = await startNotify({ ...config, grpc, auth: { ...config.auth, ...keys } }, own);
      stack.notifies.push({
        running,
        client: new notifyV1.NotifyServiceClient(`127.0.0.1:${running.port}`, credentials.createInsecure()),
      });
    },
    addImpact: async (own = logger) => {
      const config = impactConfig({
        ...shared,
        IMPACT_DB: databases.impact,
        IMPACT_CONSUMER: durables.impact,
      });
      const running = await startImpact({ ...config, grpc, auth: { ...config.auth, ...keys } }, own);
      stack.impacts.push({
        running,
        client: new impactV1.ImpactServiceClient(`127.0.0.1:${running.port}`, credentials.createInsecure()),
      });
    },
    token: (roles, agencyId) =>
      issuer.mint({
        subject: `${agencyId ?? 'cc'}-${roles.join('+')}`,
        roles,
        clearance: 'RED',
        ...(agencyId ? { agencyId } : {}),
      }),
    stop: async () => {
      const all = [...stack.intakes, ...stack.notifies, ...stack.impacts];
      for (const { client } of all) (client as { close(): void }).close();
      // Consumers first, then the producers whose relays they read from.
      await Promise.all(stack.notifies.map((i) => i.running.stop()));
      await Promise.all(stack.impacts.map((i) => i.running.stop()));
      await Promise.all(stack.intakes.map((i) => i.running.stop()));
    },
  };
  return stack;
}

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

/** A unary call as a promise, with a bearer token. */
export function call<R>(client: object, method: string, request: unknown, token: string): Promise<R> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const fn = (client as Record<string, Unary>)[method]!;
  return new Promise((resolve, reject) =>
    fn.call(client, request, metadata, { deadline: new Date(Date.now() + 15_000) }, (error, response) =>
      error ? reject(error) : resolve(response as R),
    ),
  );
}

/** A report of an outage in Bavarian energy, each with observables of its own (no correlation). */
export function report(
  i: number,
  id: string,
  overrides: Partial<intakeV1.SubmitReportRequest> = {},
): intakeV1.SubmitReportRequest {
  return {
    title: `Substation outage ${i}`,
    description: 'Protection relays tripped after a remote login.',
    tlp: 2, // GREEN
    classification: { rsitClass: 'availability', rsitType: 'outage' },
    sectors: ['energy'],
    jurisdictions: ['DE-BY'],
    observables: [{ type: 'domain', value: `burst-${i}.${id}.example` }],
    awareAt: new Date(Date.now() - 3_600_000),
    affectedAssets: [],
    ...overrides,
  };
}

/** Registers an agency of everything in Germany with one subscription to all events. */
export async function registerWatcher(
  client: notifyV1.NotifyServiceClient,
  token: string,
  agencyId: string,
): Promise<void> {
  await call(
    client,
    'putAgency',
    {
      agency: {
        id: agencyId,
        name: `Agency ${agencyId}`,
        kind: notifyV1.AgencyKind.AGENCY_KIND_CSIRT,
        jurisdictions: ['DE'],
        sectors: ['energy'],
        clearance: 5, // RED
        contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@agency.example', phone: '' }],
        version: 0,
      },
      expectedVersion: 0,
    },
    token,
  );
  await call(
    client,
    'putSubscription',
    {
      subscription: notifyV1.Subscription.fromPartial({ id: 'all', agencyId }),
    },
    token,
  );
}
