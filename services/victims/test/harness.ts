import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { credentials, Metadata, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  createDevIssuer,
  createLogger,
  fieldViolations,
  type DevIssuer,
  type FieldViolation,
  type Role,
} from '@beacon/platform';
import { eventsV1, victimsV1 } from '@beacon/proto';
import { freePort, testIdentity, waitFor, type Endpoints, type TestNames } from '@beacon/testkit';
import { loadConfig as gatewayConfig, startGateway, type RunningGateway } from '@beacon/gateway';
import { loadConfig, startVictims, type CaseCipher, type RunningVictims } from '../src/index.js';

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;
type RequestOf<H> = H extends handleUnaryCall<infer Req, unknown> ? Req : never;
type ResponseOf<H> = H extends handleUnaryCall<never, infer Res> ? Res : never;
export type VictimsCall = <M extends keyof victimsV1.VictimsServiceServer & string>(
  method: M,
  request: RequestOf<victimsV1.VictimsServiceServer[M]>,
  metadata?: Record<string, string>,
) => Promise<ResponseOf<victimsV1.VictimsServiceServer[M]>>;

/** Promise form of the victims client's calls, as one caller (a bearer token). */
export function victimsCaller(client: victimsV1.VictimsServiceClient, token: string): VictimsCall {
  return (method, request, extra = {}) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(extra)) metadata.set(k, v);
    const fn = (client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) =>
      fn.call(client, request, metadata, { deadline: new Date(Date.now() + 30_000) }, (error, response) =>
        error ? reject(error) : resolve(response as never),
      ),
    );
  };
}

/** The status code of a failed call, its field violations, and their paths. */
export async function failure(
  call: Promise<unknown>,
): Promise<{ code: number; message: string; fields: string[]; violations: FieldViolation[] }> {
  try {
    await call;
  } catch (error) {
    const e = error as ServiceError;
    const violations = fieldViolations(e.metadata);
    return { code: e.code, message: e.details, fields: violations.map((v) => v.field), violations };
  }
  throw new Error('the call succeeded');
}

/** Victims (and optionally the gateway) in this process, against the run's real servers. */
export interface VictimsStack {
  readonly issuer: DevIssuer;
  victims: RunningVictims;
  client: victimsV1.VictimsServiceClient;
  readonly gateway: RunningGateway | undefined;
  /** Base URL of the gateway's REST door, when started. */
  readonly http: string;
  readonly stream: string;
  readonly subjectRoot: string;
  readonly db: string;
  /** Every log line written so far (level trace), as text. */
  readonly logs: string[];
  token(roles: Role[], agencyId?: string, subject?: string): Promise<string>;
  call(roles: Role[], agencyId?: string): Promise<VictimsCall>;
  /** Restarts victims on the same database and stream, with other key-encryption keys. */
  restart(keys?: { keks: string; current?: string }): Promise<void>;
  /** Every event on the test's stream, decoded (with its bytes as published), once `count` are there. */
  events(nats: NatsConnection, count: number): Promise<(eventsV1.Envelope & { raw: Uint8Array })[]>;
  stop(): Promise<void>;
}

export const kek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

export async function startVictimsStack(
  infra: Endpoints,
  names: TestNames,
  options: { gateway?: boolean; keks?: string; current?: string; cipher?: CaseCipher } = {},
): Promise<VictimsStack> {
  const issuer = await createDevIssuer({});
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  // Everything the service may ever log, down to trace, goes where the test can read it.
  const logger = createLogger({ name: 'victims-test', level: 'trace', destination: sink });
  const stream = names.stream('EVENTS');
  const subjectRoot = names.subject('beacon.evt');
  const db = names.database('victims');
  const port = await freePort();
  let keys = { keks: options.keks ?? kek('k1'), current: options.current };
  const searchKey = randomBytes(24).toString('base64');
  const start = () => {
    const config = loadConfig({
      MONGO_URL: infra.mongoUrl,
      NATS_URL: infra.natsUrl,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_ROOT: subjectRoot,
      VICTIMS_DB: db,
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      VICTIMS_KEKS: keys.keks,
      ...(keys.current ? { VICTIMS_KEK_CURRENT: keys.current } : {}),
      VICTIMS_SEARCH_KEY: searchKey,
      RECOVERY_SWEEP_SECONDS: '1',
    });
    return startVictims(
      { ...config, grpc: { host: '127.0.0.1', port }, auth: { ...config.auth, jwks: { keys: issuer.jwks } } },
      logger,
      options.cipher ? { cipher: options.cipher } : {},
    );
  };
  const connect = () => new victimsV1.VictimsServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const victims = await start();
  let gateway: RunningGateway | undefined;
  if (options.gateway) {
    const gc = gatewayConfig({
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      // The gateway's readiness asks intake; these tests do not need it.
      INTAKE_ADDRESS: '127.0.0.1:9',
      VICTIMS_ADDRESS: `127.0.0.1:${port}`,
    });
    gateway = await startGateway(
      { ...gc, grpcPort: 0, httpPort: 0, auth: { ...gc.auth, jwks: { keys: issuer.jwks } } },
      createLogger({ name: 'gateway-test', level: 'trace', destination: sink }),
    );
  }
  const token = (roles: Role[], agencyId?: string, subject?: string) =>
    issuer.mint({
      ...testIdentity(roles, agencyId, subject),
      roles,
      clearance: 'AMBER',
      ...(agencyId ? { agencyId } : {}),
    });
  const stack: VictimsStack = {
    issuer,
    victims,
    client: connect(),
    gateway,
    http: gateway ? `http://127.0.0.1:${gateway.httpPort}` : '',
    stream,
    subjectRoot,
    db,
    logs,
    token,
    call: async (roles, agencyId) => victimsCaller(stack.client, await token(roles, agencyId)),
    restart: async (next) => {
      if (next) keys = { keks: next.keks, current: next.current };
      stack.client.close();
      await stack.victims.stop();
      stack.victims = await start();
      stack.client = connect();
    },
    events: async (nats, count) =>
      waitFor(
        async () => {
          const consumer = await jetstream(nats).consumers.get(stream);
          const pending = (await consumer.info()).num_pending;
          if (pending < count) throw new Error(`${pending} of ${count} events published`);
          const found: (eventsV1.Envelope & { raw: Uint8Array })[] = [];
          for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
            found.push({ ...eventsV1.Envelope.decode(m.data), raw: m.data });
            if (found.length === pending) break;
          }
          return found;
        },
        { what: `${count} events on ${stream}`, timeoutMs: 30_000, intervalMs: 50 },
      ),
    stop: async () => {
      stack.client.close();
      await gateway?.stop();
      await stack.victims.stop();
    },
  };
  return stack;
}

/** Fixed once, so the same case built twice is the same request (idempotency compares them). */
const PAID_AT = new Date(Date.now() - 2 * 86_400_000);

/** A valid new case; override what the test is about. */
export function newCase(overrides: Partial<victimsV1.NewCase> = {}): victimsV1.NewCase {
  return {
    incidentIds: ['inc_campaign1'],
    reportIds: [],
    jurisdiction: 'DE-BY',
    language: 'de',
    victim: {
      kind: victimsV1.VictimKind.VICTIM_KIND_PERSON,
      displayName: 'Jana Nováková',
      organisationName: '',
      email: 'jana.novakova@example.org',
      phone: '+49 151 2345 6789',
      preferredChannel: victimsV1.ContactChannel.CONTACT_CHANNEL_PHONE,
      notes: 'Called the hotline after the fake bank SMS.',
    },
    needs: [
      {
        detail: {
          $case: 'financialLoss',
          value: {
            amountMinor: '185000',
            currency: 'EUR',
            paymentMethod: victimsV1.PaymentMethod.PAYMENT_METHOD_SEPA_CREDIT_TRANSFER,
            paidAt: PAID_AT,
          },
        },
      },
      {
        detail: {
          $case: 'psychologicalDistress',
          value: { instrument: victimsV1.ScreeningInstrument.SCREENING_INSTRUMENT_PHQ4, score: 7 },
        },
      },
    ],
    riskFlags: [],
    consents: [
      consent(victimsV1.ConsentPurpose.CONSENT_PURPOSE_CONTACT),
      consent(victimsV1.ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT),
    ],
    ...overrides,
  };
}

export function consent(purpose: victimsV1.ConsentPurpose, granted = true): victimsV1.ConsentInput {
  return { purpose, granted, wordingVersion: 'v2026-01' };
}

/** A support organisation in Bavaria or Germany; override what the test is about. */
export function organisation(
  id: string,
  overrides: Partial<victimsV1.SupportOrganisation> = {},
): victimsV1.SupportOrganisation {
  return {
    id,
    name: `Org ${id}`,
    jurisdictions: ['DE'],
    languages: ['de', 'en'],
    needsCovered: [victimsV1.NeedKind.NEED_KIND_FINANCIAL_LOSS],
    crisisCapable: false,
    capacity: 100,
    accepting: true,
    activeReferrals: 0,
    version: 0,
    ...overrides,
  };
}
