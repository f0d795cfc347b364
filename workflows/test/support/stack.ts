import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevIssuer, createLogger, type DevIssuer, type Role } from '@beacon/platform';
import {
  freePort,
  infraDir,
  startLocalIdentityProvider,
  type Endpoints,
  type LocalServiceClient,
  type TestNames,
} from '@beacon/testkit';
import { loadConfig as gatewayConfig, startGateway, type RunningGateway } from '@beacon/gateway';
import { loadConfig as impactConfig, startImpact, type RunningImpact } from '@beacon/impact';
import { loadConfig as intakeConfig, startIntake, type RunningIntake } from '@beacon/intake';
import { loadConfig as notifyConfig, startNotify, type RunningNotify } from '@beacon/notify';
import { loadConfig as victimsConfig, startVictims, type RunningVictims } from '@beacon/victims';
import {
  loadConfig,
  startWorkflows,
  type RunningWorkflows,
  type StartOptions,
  type WorkflowsConfig,
} from '../../src/index.js';
import { quietTemporal } from './time-skipping.js';

/**
 * Intake, impact, notify, the gateway and the workflows (worker, starter, acknowledgement
 * consumer, response API) in this process, against the run's real NATS, Mongo-wire store and
 * Temporal dev server, isolated by the test's names (streams, subjects, databases, task queue).
 */
export interface ResponseStack {
  readonly issuer: DevIssuer;
  readonly intake: RunningIntake;
  readonly impact: RunningImpact;
  readonly notify: RunningNotify;
  readonly victims: RunningVictims;
  readonly gateway: RunningGateway;
  readonly workflows: RunningWorkflows;
  /** Base URL of the gateway's REST door. */
  readonly http: string;
  readonly events: { readonly stream: string; readonly root: string };
  readonly feeds: { readonly stream: string; readonly root: string };
  readonly ackRoot: string;
  /** Where the responses' timelines are kept. */
  readonly timeline: { readonly stream: string; readonly root: string };
  readonly taskQueue: string;
  /** The workflows' configuration, with the roles this process runs; for a child process, its environment. */
  readonly workflowsConfig: WorkflowsConfig;
  readonly workflowsEnv: Record<string, string>;
  /** What gives a Beacon process its identity from the stack's identity provider (client credentials). */
  identityEnv(process: LocalServiceClient): Record<string, string>;
  token(roles: Role[], agencyId?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startResponseStack(
  infra: Endpoints,
  names: TestNames,
  options: {
    readonly roles?: string;
    readonly workflowOptions?: StartOptions;
    /** More of notify's environment, e.g. NATS_ACCOUNT_SIGNER_FILE to issue feed credentials. */
    readonly notifyEnv?: Record<string, string>;
  } = {},
): Promise<ResponseStack> {
  quietTemporal();
  const issuer = await createDevIssuer({});
  const logger = createLogger({ name: 'workflows-test', level: 'silent' });
  // Logs of processes a test starts go here (fault tests); the files every call reads go to a
  // directory of the stack's own, which a test run starting meanwhile cannot clear.
  mkdirSync(join(infraDir, 'test', 'apps', `workflows-${names.id}`), { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), `beacon-workflows-${names.id}-`));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
  const auth = { AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: issuer.audience, AUTH_JWKS_FILE: jwksFile };
  const events = { stream: names.stream('EVENTS'), root: names.subject('beacon.evt') };
  const feeds = { stream: names.stream('FEEDS'), root: names.subject('beacon.feed') };
  const ackRoot = names.subject('beacon.ack');
  const timeline = { stream: names.stream('TIMELINE'), root: names.subject('beacon.timeline') };
  const shared = {
    ...auth,
    MONGO_URL: infra.mongoUrl,
    NATS_URL: infra.natsUrl,
    EVENTS_STREAM: events.stream,
    EVENTS_SUBJECT_ROOT: events.root,
  };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Impact and the worker fetch their own scoped tokens, as on the local stack.
    const { provider, identityEnv } = await startLocalIdentityProvider(dir, issuer);
    stops.push(() => provider.close());
    const ic = intakeConfig({
      ...shared,
      INTAKE_DB: names.database('intake'),
      CORRELATION_SECRET: 'x'.repeat(40),
    });
    const intake = await startIntake({ ...ic, grpc: { host: '127.0.0.1', port: 0 } }, logger);
    stops.push(() => intake.stop());
    const mc = impactConfig({
      ...shared,
      IMPACT_DB: names.database('impact'),
      IMPACT_CONSUMER: names.stream('impact'),
      INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
      ...identityEnv('impact'),
      // A registry change re-assesses the incidents it may move within a second.
      REASSESS_DELAY_MS: '500',
    });
    const impact = await startImpact({ ...mc, grpc: { host: '127.0.0.1', port: 0 } }, logger);
    stops.push(() => impact.stop());
    const nc = notifyConfig({
      ...shared,
      NOTIFY_DB: names.database('notify'),
      FEEDS_STREAM: feeds.stream,
      FEEDS_SUBJECT_ROOT: feeds.root,
      NOTIFY_FANOUT_CONSUMER: names.stream('fanout'),
      NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
      ACK_SUBJECT_ROOT: ackRoot,
      RECOVERY_SWEEP_SECONDS: '1',
      // The trust matrix reads one agency's feed as every one of its callers at once.
      FEED_STREAMS_PER_AGENCY: '100',
      ...options.notifyEnv,
    });
    const notify = await startNotify({ ...nc, grpc: { host: '127.0.0.1', port: 0 } }, logger);
    stops.push(() => notify.stop());
    const vc = victimsConfig({
      ...shared,
      VICTIMS_DB: names.database('victims'),
      VICTIMS_KEKS: `k1:${randomBytes(32).toString('base64')}`,
      VICTIMS_SEARCH_KEY: randomBytes(24).toString('base64'),
    });
    const victims = await startVictims({ ...vc, grpc: { host: '127.0.0.1', port: 0 } }, logger);
    stops.push(() => victims.stop());

    const taskQueue = names.taskQueue('response');
    const responsePort = await freePort();
    const workflowsEnv: Record<string, string> = {
      ...auth,
      NATS_URL: infra.natsUrl,
      EVENTS_STREAM: events.stream,
      EVENTS_SUBJECT_ROOT: events.root,
      TIMELINE_STREAM: timeline.stream,
      TIMELINE_SUBJECT_ROOT: timeline.root,
      TEMPORAL_ADDRESS: infra.temporalAddress,
      TEMPORAL_NAMESPACE: infra.temporalNamespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
      NOTIFY_ADDRESS: `127.0.0.1:${notify.port}`,
      IMPACT_ADDRESS: `127.0.0.1:${impact.port}`,
      VICTIMS_ADDRESS: `127.0.0.1:${victims.port}`,
      ...identityEnv('workflows'),
      WORKFLOWS_STARTER_CONSUMER: names.stream('starter'),
      WORKFLOWS_ACK_CONSUMER: names.stream('acks'),
      WORKFLOWS_CHANGES_CONSUMER: names.stream('changes'),
      RESPONSE_GRPC_PORT: String(responsePort),
      LOG_LEVEL: 'info',
    };
    const gc = gatewayConfig({
      ...auth,
      INTAKE_ADDRESS: `127.0.0.1:${intake.port}`,
      IMPACT_ADDRESS: `127.0.0.1:${impact.port}`,
      NOTIFY_ADDRESS: `127.0.0.1:${notify.port}`,
      RESPONSE_ADDRESS: `127.0.0.1:${responsePort}`,
      VICTIMS_ADDRESS: `127.0.0.1:${victims.port}`,
      // Every person of these suites calls from 127.0.0.1: one address for a whole organisation.
      ADDRESS_RATE_PER_SECOND: '100000',
      ADDRESS_RATE_BURST: '100000',
    });
    const gateway = await startGateway({ ...gc, grpcPort: 0, httpPort: 0 }, logger);
    stops.push(() => gateway.stop());

    const workflowsConfig = loadConfig({
      ...workflowsEnv,
      ...(options.roles ? { WORKFLOWS_ROLES: options.roles } : {}),
    });
    const workflows = await startWorkflows(workflowsConfig, logger, options.workflowOptions);
    stops.push(() => workflows.stop());
    return {
      issuer,
      intake,
      impact,
      notify,
      victims,
      gateway,
      workflows,
      http: `http://127.0.0.1:${gateway.httpPort}`,
      events,
      feeds,
      ackRoot,
      timeline,
      taskQueue,
      workflowsConfig,
      workflowsEnv,
      identityEnv,
      token: (roles, agencyId) =>
        issuer.mint({
          subject: `${agencyId ?? 'cc'}-${roles.join('+')}`,
          roles,
          clearance: 'RED',
          ...(agencyId ? { agencyId } : {}),
        }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** One REST call through the gateway; the body is parsed whatever the status. */
export async function rest(
  stack: Pick<ResponseStack, 'http'>,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
