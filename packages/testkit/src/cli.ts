/**
 * `pnpm infra up|down|status`: the local stack for development and demos, on the well-known
 * ports, with data and logs in .infra/dev. `up` returns once every server answers and leaves
 * them running; `down` stops them. `down-test` stops servers a crashed test run left behind.
 * `compose-secrets` makes the development secrets the compose file's Beacon services read.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DevIssuer } from '@beacon/platform';
import { components, natsReady, type ComponentName } from './components.js';
import { seedDemo } from './demo.js';
import { whenSettled } from './settled.js';
import { LOCAL_APPS, startLocalApps, stopLocalApps, writeComposeSecrets } from './local-apps.js';
import { localNatsAdminCreds, prepareLocalNatsAuth } from './local-nats-auth.js';
import { infraDir, repoRoot } from './paths.js';
import { recordedStack, startStack, stopRecordedStack, type Endpoints } from './stack.js';
import { isOurProcess } from './process.js';

const dir = join(infraDir, 'dev');

async function up(): Promise<void> {
  const existing = recordedStack(dir);
  if (existing && Object.values(existing.pids).every((p) => isOurProcess(p.pid, p.commandLine))) {
    console.log('The local stack is already running.');
    print(existing.endpoints);
    return;
  }
  await stopLocalApps(dir);
  await stopRecordedStack(dir);
  // Operator mode only for a NATS this stack starts; one given by NATS_URL has its own auth.
  const natsAuth = process.env['NATS_URL'] ? undefined : await prepareLocalNatsAuth(dir);
  const stack = await startStack({
    dir,
    ports: 'fixed',
    ui: true,
    env: process.env,
    ...(natsAuth ? { natsAuth: { config: natsAuth.config, credsFile: natsAuth.adminCredsFile } } : {}),
  });
  for (const [name, proc] of Object.entries(stack.processes)) {
    const ms = stack.startMs[name as ComponentName];
    console.log(`  ${name.padEnd(9)} ready in ${ms} ms (log: ${proc.spec.logFile})`);
  }
  const started = performance.now();
  const { issuer, issuerFile } = await startLocalApps(dir, stack.endpoints, natsAuth);
  console.log(
    `  intake, impact, notify, victims, workflows and gateway ready in ${Math.round(performance.now() - started)} ms (logs: ${join(dir, 'apps')})`,
  );
  const restUrl = `http://127.0.0.1:${LOCAL_APPS.gatewayHttp}`;
  const demo = await seedDemo(restUrl, issuer, () => seedRegion(restUrl, issuer));
  print(stack.endpoints);
  if (natsAuth) {
    console.log(`  NATS runs in operator mode: anonymous clients are refused. Admin credentials:
  ${natsAuth.adminCredsFile}  (system account: ${natsAuth.systemCredsFile})
`);
  }
  console.log(`  Gateway REST: ${restUrl}  (OpenAPI: ${restUrl}/openapi.json)
  Gateway gRPC: 127.0.0.1:${LOCAL_APPS.gatewayGrpc}
  Demo: a region of ${demo.region.assets} assets and ${demo.region.dependencies} dependencies, ${demo.incidents} incidents and ${demo.victimCases} victim cases seeded.
  A coordinator token (8 h):

  export BEACON_TOKEN=${demo.coordinatorToken}
  curl -s -H "Authorization: Bearer $BEACON_TOKEN" ${restUrl}/v1/incidents
${demo.assessedIncidentId ? `  curl -s -H "Authorization: Bearer $BEACON_TOKEN" ${restUrl}/v1/assessments/incident-${demo.assessedIncidentId}\n  curl -s -H "Authorization: Bearer $BEACON_TOKEN" ${restUrl}/v1/responses/${demo.assessedIncidentId}\n\n  Its response, engaging agencies and keeping the NIS2 clocks, in the Temporal UI:\n  ${temporalUi(stack.endpoints)}/namespaces/${stack.endpoints.temporalNamespace}/workflows/incident-${demo.assessedIncidentId}\n` : ''}
  Mint more with the CLI (dev issuer: ${issuerFile}).
`);
}

async function status(): Promise<void> {
  const state = recordedStack(dir);
  if (!state) {
    console.log('The local stack is not running (start it with `make up`).');
    process.exitCode = 1;
    return;
  }
  const urls: Record<ComponentName, string> = {
    nats: state.endpoints.natsUrl,
    mongo: state.endpoints.mongoUrl,
    temporal: state.endpoints.temporalAddress,
  };
  // A stack that started NATS in operator mode is probed as its admin user.
  const natsCreds = localNatsAdminCreds(dir);
  for (const [name, url] of Object.entries(urls) as [ComponentName, string][]) {
    try {
      await (name === 'nats' ? natsReady(url, natsCreds) : components[name].ready(url));
      console.log(`  ${name.padEnd(9)} up     ${url}`);
    } catch (error) {
      console.log(`  ${name.padEnd(9)} DOWN   ${url}: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
}

/** Where the Temporal UI is, for links into it. */
function temporalUi(e: Endpoints): string {
  return (e.temporalUiUrl ?? 'http://localhost:8233').replace('127.0.0.1', 'localhost');
}

function print(endpoints: Endpoints): void {
  console.log(`
  NATS_URL=${endpoints.natsUrl}
  MONGO_URL=${endpoints.mongoUrl}
  TEMPORAL_ADDRESS=${endpoints.temporalAddress}  (namespace ${endpoints.temporalNamespace})
  Temporal UI: ${endpoints.temporalUiUrl ?? '(not started here)'}
`);
}

const commands: Record<string, () => Promise<void>> = {
  up,
  down: async () => {
    await stopLocalApps(dir);
    await stopRecordedStack(dir);
    console.log('The local stack is stopped.');
  },
  status,
  'down-test': () => stopRecordedStack(join(infraDir, 'test')),
  'compose-secrets': async () => {
    const secrets = join(repoRoot, 'infra/compose/secrets');
    await writeComposeSecrets(secrets);
    console.log(`Development secrets for the compose file's Beacon services are in ${secrets}.
  NATS runs in operator mode (anonymous clients refused); each process's credentials are in
  ${join(secrets, 'nats-auth')}/<process>.creds (admin.creds for your own tools).
  docker compose -f infra/compose/compose.yaml --profile apps up -d --build
  export BEACON_TOKEN=$(pnpm -s beacon token --issuer-file ${join(secrets, 'dev-issuer.json')} --roles coordinator --clearance RED)`);
  },
};

const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error('usage: infra up|down|status|down-test|compose-secrets');
  process.exit(2);
}
await command();

/**
 * Loads the demo region through the gateway with the demo package's seed script (built output),
 * so the test kit needs no compile-time dependency on it (it builds on impact's model, and
 * impact's tests build on the test kit).
 */
async function seedRegion(
  restUrl: string,
  issuer: DevIssuer,
): Promise<{ assets: number; dependencies: number }> {
  const token = await issuer.mint({ subject: 'ncc-seed', roles: ['coordinator'], clearance: 'RED' });
  // The seed rewrites the same rows each time: run again while the stack settles (a 502-504
  // from the gateway, or no gateway yet).
  const { stdout } = await whenSettled(
    () =>
      promisify(execFile)(process.execPath, [join(repoRoot, 'packages/demo/dist/src/seed.js')], {
        env: { ...process.env, BEACON_URL: restUrl, BEACON_TOKEN: token },
      }),
    (error) => /answered 50[234]|fetch failed/.test(String((error as { stderr?: string }).stderr ?? error)),
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { assets: number; dependencies: number };
}
