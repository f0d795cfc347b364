import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_SCOPES } from '@beacon/domain';
import {
  createDevIssuer,
  DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  type DevIssuer,
} from '@beacon/platform';
import {
  LOCAL_SERVICE_CLIENTS,
  localServiceClients,
  serviceIdentityEnv,
  type LocalServiceClient,
} from './dev-identity.js';
import { grpcServing } from './health.js';
import {
  NATS_SERVICE_USERS,
  natsAuthDir,
  prepareLocalNatsAuth,
  type LocalNatsAuth,
  type NatsServiceUser,
} from './local-nats-auth.js';
import { repoRoot } from './paths.js';
import { ManagedProcess, stopForeign, type ProcessSpec } from './process.js';
import type { Endpoints } from './stack.js';
import { waitFor } from './wait.js';

/** Where the local stack's services listen. */
export const LOCAL_APPS = {
  intakeGrpc: 50061,
  impactGrpc: 50062,
  notifyGrpc: 50063,
  victimsGrpc: 50064,
  /** The workflows' response API (the Temporal worker, starter and acknowledgement consumer run beside it). */
  responseGrpc: 50065,
  gatewayGrpc: 50051,
  gatewayHttp: 8080,
  /** Prometheus `/metrics` of each process (deployments use 9464 in each container). */
  gatewayMetrics: 9464,
  intakeMetrics: 9465,
  impactMetrics: 9466,
  notifyMetrics: 9467,
  victimsMetrics: 9468,
  workflowsMetrics: 9469,
  /** The Temporal core's exporter in the workflows process, merged into its `/metrics`. */
  workflowsTemporalCore: 9470,
  /** The development identity provider's token endpoint (`/token`), loopback only. */
  identityProvider: 9480,
} as const;

/**
 * The development token issuer of a local stack, kept on disk so tokens stay valid across
 * restarts and the CLI can mint more (`beacon token`). Never used outside a developer machine.
 */
export async function devIssuer(
  dir: string,
): Promise<{ issuer: DevIssuer; jwksFile: string; issuerFile: string }> {
  const issuerFile = join(dir, 'dev-issuer.json');
  const jwksFile = join(dir, 'dev-jwks.json');
  const saved = existsSync(issuerFile)
    ? (JSON.parse(readFileSync(issuerFile, 'utf8')) as { privateJwk: DevIssuer['privateJwk'] })
    : undefined;
  const issuer = await createDevIssuer(saved ? { privateJwk: saved.privateJwk } : {});
  writeFileSync(
    issuerFile,
    JSON.stringify(
      {
        issuer: issuer.issuer,
        audience: issuer.audience,
        serviceAudience: issuer.serviceAudience,
        privateJwk: issuer.privateJwk,
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  writeFileSync(jwksFile, JSON.stringify(issuer.jwks, null, 2));
  return { issuer, jwksFile, issuerFile };
}

/** The services `startLocalApps` may leave out: intake and the gateway always run. */
export type LocalApp = 'impact' | 'notify' | 'victims' | 'workflows';

export interface LocalAppsOptions {
  /** Where they listen: {@link LOCAL_APPS} unless given (a benchmark takes free ports). */
  readonly ports?: { readonly [K in keyof typeof LOCAL_APPS]: number };
  /** Which of the other services to start besides intake and the gateway: all unless given. */
  readonly apps?: readonly LocalApp[];
  /** Set for every process, after the defaults (a benchmark's rate limits, database names). */
  readonly env?: Readonly<Record<string, string>>;
}

const upstream = (name: string, address: string | undefined): Record<string, string> =>
  address ? { [name]: address } : {};

/** One of the local stack's processes: how to run it and how to tell it serves. */
export interface LocalAppSpec {
  readonly process: ProcessSpec;
  /** Resolves once it serves; rejects with why not. */
  ready(): Promise<void>;
  readonly readyTimeoutMs: number;
}

/**
 * The development identity provider, intake, impact, notify, victims, the workflows (Temporal
 * worker, incident starter, response API) and the gateway, run from their built output
 * (`tsc --build` first) against the given servers, in the order they must start: each after
 * the ones it calls. `options` may leave services out, move the ports and add to the
 * environment (benchmarks).
 */
export async function localAppSpecs(
  dir: string,
  endpoints: Endpoints,
  natsAuth?: LocalNatsAuth,
  options: LocalAppsOptions = {},
): Promise<{ issuer: DevIssuer; issuerFile: string; apps: readonly LocalAppSpec[] }> {
  const ports = options.ports ?? LOCAL_APPS;
  const wanted = (app: LocalApp) => options.apps?.includes(app) ?? true;
  const address = (app: LocalApp, port: number) => (wanted(app) ? `127.0.0.1:${port}` : undefined);
  const { issuer, jwksFile, issuerFile } = await devIssuer(dir);
  // Impact and the workflows fetch and renew their own tokens from the identity provider.
  const clients = localServiceClients(dir);
  const tokenUrl = `http://127.0.0.1:${ports.identityProvider}/token`;
  const identityProvider: ProcessSpec = {
    name: 'identity-provider',
    command: process.execPath,
    args: [
      join(repoRoot, 'packages/testkit/dist/src/dev-identity-provider-main.js'),
      dir,
      String(ports.identityProvider),
    ],
    logFile: join(dir, 'apps', 'identity-provider.log'),
    env: {},
  };
  // With NATS in operator mode each process connects as a user of its own.
  const natsCreds = (name: NatsServiceUser): Record<string, string> =>
    natsAuth ? { NATS_CREDS_FILE: natsAuth.serviceCredsFiles[name] } : {};
  const notifySigner: Record<string, string> = natsAuth
    ? { NATS_ACCOUNT_SIGNER_FILE: natsAuth.signerFile }
    : {};
  const common = {
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_SERVICE_AUDIENCE: issuer.serviceAudience,
    AUTH_JWKS_FILE: jwksFile,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const intake: ProcessSpec = {
    name: 'intake',
    command: process.execPath,
    args: [join(repoRoot, 'services/intake/dist/src/main.js')],
    logFile: join(dir, 'apps', 'intake.log'),
    env: {
      ...common,
      MONGO_URL: endpoints.mongoUrl,
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('intake'),
      INTAKE_GRPC_PORT: String(ports.intakeGrpc),
      METRICS_PORT: String(ports.intakeMetrics),
      CORRELATION_SECRET: correlationSecret(dir),
    },
  };
  const impact: ProcessSpec = {
    name: 'impact',
    command: process.execPath,
    args: [join(repoRoot, 'services/impact/dist/src/main.js')],
    logFile: join(dir, 'apps', 'impact.log'),
    env: {
      ...common,
      MONGO_URL: endpoints.mongoUrl,
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('impact'),
      IMPACT_GRPC_PORT: String(ports.impactGrpc),
      METRICS_PORT: String(ports.impactMetrics),
      // Impact raises incidents' severity in intake with its own identity.
      INTAKE_ADDRESS: `127.0.0.1:${ports.intakeGrpc}`,
      ...serviceIdentityEnv(clients, 'impact', tokenUrl),
    },
  };
  const notify: ProcessSpec = {
    name: 'notify',
    command: process.execPath,
    args: [join(repoRoot, 'services/notify/dist/src/main.js')],
    logFile: join(dir, 'apps', 'notify.log'),
    env: {
      ...common,
      MONGO_URL: endpoints.mongoUrl,
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('notify'),
      // Mints agencies' feed credentials (IssueFeedCredentials).
      ...notifySigner,
      NOTIFY_GRPC_PORT: String(ports.notifyGrpc),
      METRICS_PORT: String(ports.notifyMetrics),
      // Demo agencies' webhooks may point at a receiver on this machine.
      WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
    },
  };
  const victims: ProcessSpec = {
    name: 'victims',
    command: process.execPath,
    args: [join(repoRoot, 'services/victims/dist/src/main.js')],
    logFile: join(dir, 'apps', 'victims.log'),
    env: {
      ...common,
      MONGO_URL: endpoints.mongoUrl,
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('victims'),
      VICTIMS_GRPC_PORT: String(ports.victimsGrpc),
      METRICS_PORT: String(ports.victimsMetrics),
      VICTIMS_KEKS_FILE: devSecret(dir, 'victims-keks', () => `dev-1:${randomBytes(32).toString('base64')}`),
      VICTIMS_SEARCH_KEY_FILE: devSecret(dir, 'victims-search-key', () => randomBytes(32).toString('hex')),
    },
  };
  const workflows: ProcessSpec = {
    name: 'workflows',
    command: process.execPath,
    args: [join(repoRoot, 'workflows/dist/src/main.js')],
    logFile: join(dir, 'apps', 'workflows.log'),
    env: {
      ...common,
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('workflows'),
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      INTAKE_ADDRESS: `127.0.0.1:${ports.intakeGrpc}`,
      IMPACT_ADDRESS: `127.0.0.1:${ports.impactGrpc}`,
      NOTIFY_ADDRESS: `127.0.0.1:${ports.notifyGrpc}`,
      VICTIMS_ADDRESS: `127.0.0.1:${ports.victimsGrpc}`,
      // The worker calls intake, impact, notify and victims with its own identity.
      ...serviceIdentityEnv(clients, 'workflows', tokenUrl),
      RESPONSE_GRPC_PORT: String(ports.responseGrpc),
      METRICS_PORT: String(ports.workflowsMetrics),
      TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${ports.workflowsTemporalCore}`,
    },
  };
  const gateway: ProcessSpec = {
    name: 'gateway',
    command: process.execPath,
    args: [join(repoRoot, 'services/gateway/dist/src/main.js')],
    logFile: join(dir, 'apps', 'gateway.log'),
    env: {
      ...common,
      INTAKE_ADDRESS: `127.0.0.1:${ports.intakeGrpc}`,
      // Without a service the gateway does not serve its calls.
      ...upstream('IMPACT_ADDRESS', address('impact', ports.impactGrpc)),
      ...upstream('NOTIFY_ADDRESS', address('notify', ports.notifyGrpc)),
      ...upstream('VICTIMS_ADDRESS', address('victims', ports.victimsGrpc)),
      ...upstream('RESPONSE_ADDRESS', address('workflows', ports.responseGrpc)),
      // Shares its rate limits with any other gateway on this NATS, as its own narrow user.
      NATS_URL: endpoints.natsUrl,
      ...natsCreds('gateway'),
      GATEWAY_GRPC_PORT: String(ports.gatewayGrpc),
      GATEWAY_HTTP_PORT: String(ports.gatewayHttp),
      METRICS_PORT: String(ports.gatewayMetrics),
    },
  };
  // Ready: the service by name reports SERVING, which it does only while its store and NATS answer.
  const grpc = (port: number, service = '', readyTimeoutMs = 30_000) => ({
    ready: () => grpcServing(`127.0.0.1:${port}`, service),
    readyTimeoutMs,
  });
  const apps: LocalAppSpec[] = [
    {
      process: identityProvider,
      // Up when it answers; a request without credentials is refused (401).
      ready: async () => {
        const response = await fetch(tokenUrl, { method: 'POST' });
        if (response.status !== 401 && response.status !== 400)
          throw new Error(`answered ${response.status}`);
      },
      readyTimeoutMs: 30_000,
    },
    { process: intake, ...grpc(ports.intakeGrpc, 'beacon.intake.v1.IntakeService') },
    ...(wanted('impact')
      ? [{ process: impact, ...grpc(ports.impactGrpc, 'beacon.impact.v1.ImpactService') }]
      : []),
    ...(wanted('notify')
      ? [{ process: notify, ...grpc(ports.notifyGrpc, 'beacon.notify.v1.NotifyService') }]
      : []),
    ...(wanted('victims')
      ? [{ process: victims, ...grpc(ports.victimsGrpc, 'beacon.victims.v1.VictimsService') }]
      : []),
    // Bundling the workflow code takes a while on a busy machine.
    ...(wanted('workflows')
      ? [{ process: workflows, ...grpc(ports.responseGrpc, 'beacon.response.v1.ResponseService', 60_000) }]
      : []),
    {
      process: gateway,
      ready: async () => {
        const response = await fetch(`http://127.0.0.1:${ports.gatewayHttp}/readyz`);
        if (!response.ok) throw new Error(`readyz answered ${response.status}`);
      },
      readyTimeoutMs: 30_000,
    },
  ];
  return { issuer, issuerFile, apps };
}

/**
 * Starts {@link localAppSpecs}' processes one after another, each once the one before serves,
 * and records their pids in `apps.json` in `dir`; on a failure it stops what it started.
 */
export async function startLocalApps(
  dir: string,
  endpoints: Endpoints,
  natsAuth?: LocalNatsAuth,
  options: LocalAppsOptions = {},
): Promise<{ issuer: DevIssuer; issuerFile: string; processes: readonly ManagedProcess[] }> {
  const { issuer, issuerFile, apps } = await localAppSpecs(dir, endpoints, natsAuth, options);
  const started: ManagedProcess[] = [];
  const record = () =>
    writeFileSync(
      join(dir, 'apps.json'),
      JSON.stringify(started.map((p) => ({ name: p.spec.name, pid: p.pid, commandLine: p.commandLine }))),
    );
  try {
    for (const app of apps) {
      const proc = new ManagedProcess(app.process);
      proc.start();
      started.push(proc);
      record();
      await waitFor(() => app.ready(), {
        what: `${app.process.name} (log: ${app.process.logFile})`,
        timeoutMs: app.readyTimeoutMs,
        abortIf: () => proc.exitReason,
      });
    }
  } catch (error) {
    for (const p of started.reverse()) await p.stop();
    rmSync(join(dir, 'apps.json'), { force: true });
    throw error;
  }
  return { issuer, issuerFile, processes: started };
}

/**
 * Writes a service identity's token for the compose stack: the internal audience (the gateway
 * refuses it), the process's own scopes, the longest lifetime the services accept (12 hours),
 * owner-only. The processes read the file on each call.
 */
export async function writeServiceToken(
  dir: string,
  issuer: DevIssuer,
  subject: LocalServiceClient,
): Promise<string> {
  const file = join(dir, `${subject}-service-token`);
  const token = await issuer.mint({
    subject,
    roles: ['service'],
    scopes: PROCESS_SCOPES[subject],
    clearance: 'RED',
    ttlSeconds: DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  });
  writeFileSync(file, token, { mode: 0o600 });
  // `mode` applies only to a new file; one an older version left readable is narrowed too.
  chmodSync(file, 0o600);
  return file;
}

/**
 * The local stack's correlation key: random, kept beside the dev issuer (mode 0600) so
 * correlation survives restarts. A deployment takes it from its secret store.
 */
function correlationSecret(dir: string): string {
  const file = join(dir, 'correlation-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * A development secret kept beside the dev issuer (mode 0600), made once: the victims
 * service's key-encryption key and search key, so its data stays readable across restarts.
 * Returns the file's path, which the service reads itself. A deployment mounts real secrets.
 */
function devSecret(dir: string, name: string, make: () => string): string {
  const file = join(dir, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return file;
}

/**
 * Development secrets for the Beacon services in `infra/compose/compose.yaml`, made once in
 * `dir` (`pnpm infra compose-secrets`): the dev issuer (for `beacon token --issuer-file`) and
 * its key set, impact's and the workflows' service tokens (12 hours: run it again to renew
 * them), intake's correlation key, victims' KEK and search key, and NATS in operator mode as
 * `make up` runs it ({@link prepareLocalNatsAuth}): the server's config, each process's user
 * (`nats-auth/<process>.creds`, freshly minted each time; the gateway's may only share rate
 * limits) and notify's account signing key. The containers run as the files' owner (BEACON_UID,
 * 1000 by default) and read them through bind mounts, so tokens, credentials and keys are
 * owner-only; the rest (key set, KEKs, search key, correlation key, the NATS config of public
 * JWTs) is readable inside a directory only its owner may enter. Never for production.
 * Returns the files written, relative to `dir`.
 */
export async function writeComposeSecrets(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const { issuer } = await devIssuer(dir);
  for (const subject of LOCAL_SERVICE_CLIENTS) await writeServiceToken(dir, issuer, subject);
  devSecret(dir, 'victims-keks', () => `dev-1:${randomBytes(32).toString('base64')}`);
  devSecret(dir, 'victims-search-key', () => randomBytes(32).toString('hex'));
  const intakeEnv = join(dir, 'intake.env');
  if (!existsSync(intakeEnv)) {
    writeFileSync(intakeEnv, `CORRELATION_SECRET=${randomBytes(32).toString('hex')}\n`);
  }
  const nats = await prepareLocalNatsAuth(dir);
  writeFileSync(join(natsAuthDir(dir), COMPOSE_NATS_CONFIG), nats.config);
  const readable = [
    'dev-jwks.json',
    'victims-keks',
    'victims-search-key',
    'intake.env',
    `nats-auth/${COMPOSE_NATS_CONFIG}`,
  ];
  for (const name of readable) chmodSync(join(dir, name), 0o644);
  const natsFiles = [
    ...NATS_SERVICE_USERS.map((name) => nats.serviceCredsFiles[name]),
    nats.signerFile,
    nats.adminCredsFile,
    nats.systemCredsFile,
  ].map((file) => file.slice(dir.length + 1));
  return [...readable, 'impact-service-token', 'workflows-service-token', ...natsFiles];
}

/** The NATS server's operator-mode config in the compose stack's `nats-auth/`. */
export const COMPOSE_NATS_CONFIG = 'operator.conf';

/** Stops the services an earlier `startLocalApps` recorded. */
export async function stopLocalApps(dir: string): Promise<void> {
  const file = join(dir, 'apps.json');
  if (!existsSync(file)) return;
  const apps = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; commandLine: string }[];
  for (const app of apps.reverse()) await stopForeign(app.pid, app.commandLine);
  rmSync(file, { force: true });
}
