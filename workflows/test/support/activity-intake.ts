import { credentials, type Interceptor } from '@grpc/grpc-js';
import { NCISS_BASELINE } from '@beacon/domain';
import { notifyV1, intakeV1 } from '@beacon/proto';
import { createDevIssuer, createLogger, type DevIssuer } from '@beacon/platform';
import { testIdentity, type Endpoints, type TestNames } from '@beacon/testkit';
import { loadConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { createActivities } from '../../src/activities/create-activities.js';
import { grpcCall } from '../../src/adapters/grpc-call.js';

/**
 * A real intake for the worker's intake activities, isolated by the test's names: the worker's
 * and a coordinator's tokens, a client (with interceptors, to see or step into the calls) and
 * the activities against it.
 */
export interface ActivityIntake {
  readonly issuer: DevIssuer;
  readonly intake: RunningIntake;
  /** A RED-cleared coordinator's token. */
  readonly coordinator: string;
  /** A client with the given interceptors; closed by `stop`. */
  client(interceptors?: Interceptor[]): intakeV1.IntakeServiceClient;
  /** The response's activities, as the worker, through `client`. */
  activities(client: intakeV1.IntakeServiceClient): ReturnType<typeof createActivities>;
  /** A call as the coordinator, through a plain client. */
  call<T>(start: CoordinatorCall<T>): Promise<T>;
  /** Opens an AMBER incident directly, as the coordinator. */
  open(): Promise<intakeV1.Incident>;
  stop(): Promise<void>;
}

type CoordinatorCall<T> = (
  client: intakeV1.IntakeServiceClient,
  ...rest: Parameters<Parameters<typeof grpcCall<T>>[2]>
) => void;

export async function startActivityIntake(infra: Endpoints, names: TestNames): Promise<ActivityIntake> {
  const issuer = await createDevIssuer({});
  const config = loadConfig({
    MONGO_URL: infra.mongoUrl,
    INTAKE_DB: names.database('intake'),
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    INTAKE_GRPC_PORT: '1',
    AUTH_ISSUER: issuer.issuer,
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
  });
  const intake = await startIntake(
    {
      ...config,
      grpc: { host: '127.0.0.1', port: 0 },
      auth: { ...config.auth, jwks: { keys: issuer.jwks } },
    },
    createLogger({ name: 'activity-intake', level: 'silent' }),
  );
  const clients: intakeV1.IntakeServiceClient[] = [];
  const client = (interceptors: Interceptor[] = []) => {
    const made = new intakeV1.IntakeServiceClient(`127.0.0.1:${intake.port}`, credentials.createInsecure(), {
      interceptors,
    });
    clients.push(made);
    return made;
  };
  const plain = client();
  const worker = await issuer.mint({
    ...testIdentity(['service'], undefined, 'workflows'),
    roles: ['service'],
    clearance: 'RED',
  });
  const coordinator = await issuer.mint({ subject: 'cc', roles: ['coordinator'], clearance: 'RED' });
  const call = <T>(start: CoordinatorCall<T>) =>
    grpcCall<T>(
      async () => coordinator,
      10_000,
      (md, o, done) => start(plain, md, o, done),
    );
  return {
    issuer,
    intake,
    coordinator,
    client,
    call,
    activities: (via) =>
      createActivities({
        intake: via,
        // Not called by intake's activities.
        notify: new notifyV1.NotifyServiceClient('127.0.0.1:9', credentials.createInsecure()),
        publish: () => Promise.reject(new Error('not used here')),
        timeline: { append: () => Promise.reject(new Error('not used here')) },
        token: async () => worker,
      }),
    open: async () =>
      (
        await call<intakeV1.OpenIncidentResponse>((c, md, o, done) =>
          c.openIncident(
            {
              title: 'Wiper on a water utility',
              tlp: 3,
              classification: { rsitClass: 'availability', rsitType: 'sabotage' },
              sectors: ['water-and-wastewater'],
              jurisdictions: ['DE'],
              observables: [],
              severityInputs: { ...NCISS_BASELINE },
              awareAt: new Date(Date.now() - 3_600_000),
              affectedAssets: [],
            },
            md,
            o,
            done,
          ),
        )
      ).incident!,
    stop: async () => {
      for (const c of clients) c.close();
      await intake.stop();
    },
  };
}
