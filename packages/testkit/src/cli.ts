/**
 * `pnpm infra up|down|status`: the local stack for development and demos, on the well-known
 * ports, with data and logs in .infra/dev. `up` starts a supervisor that keeps every server and
 * service running and returns once all serve (on a running stack it only starts what is down);
 * `status` shows each process, its uptime, restarts and health; `down` stops them all.
 * `down-test` stops servers a crashed test run left behind.
 * `compose-secrets` makes the development secrets the compose file's Beacon services read.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DevIssuer } from '@beacon/platform';
import { seedDemo } from './demo.js';
import { whenSettled } from './settled.js';
import { devIssuer, LOCAL_APPS, stopLocalApps, writeComposeSecrets } from './local-apps.js';
import { localNatsAdminCreds } from './local-nats-auth.js';
import { infraDir, repoRoot } from './paths.js';
import { stopRecordedStack, type Endpoints } from './stack.js';
import { printStatus } from './stack-status.js';
import {
  allServing,
  ensureSupervisedStack,
  runningSupervisor,
  stopSupervisedStack,
} from './supervised-stack.js';

const dir = join(infraDir, 'dev');

const STACK = { dir, ports: 'fixed', ui: true } as const;

async function up(): Promise<void> {
  // A stack the pre-supervisor `make up` started is stopped first; the supervisor takes over.
  await stopLocalApps(dir);
  await stopRecordedStack(dir);
  const started = performance.now();
  const stack = await ensureSupervisedStack(STACK);
  if (!stack.started) {
    console.log('The local stack was running: its supervisor started whatever was down.');
    printStatus(stack.state());
    print(stack.endpoints);
    return;
  }
  console.log(
    `  Every process serves, ${Math.round(performance.now() - started)} ms after the supervisor started.`,
  );
  printStatus(stack.state());
  const { issuer, issuerFile } = await devIssuer(dir);
  const restUrl = `http://127.0.0.1:${LOCAL_APPS.gatewayHttp}`;
  const demo = await seedDemo(restUrl, issuer, () => seedRegion(restUrl, issuer));
  print(stack.endpoints);
  const adminCreds = localNatsAdminCreds(dir);
  if (adminCreds && !process.env['NATS_URL']) {
    console.log(`  NATS runs in operator mode: anonymous clients are refused. Admin credentials:
  ${adminCreds}
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
  A supervisor keeps every process running: \`make status\` shows them, \`make down\` stops them.
`);
}

async function status(): Promise<void> {
  const state = runningSupervisor(dir);
  if (!state) {
    console.log('The local stack is not running (start it with `make up`).');
    process.exitCode = 1;
    return;
  }
  printStatus(state);
  if (!allServing(state)) process.exitCode = 1;
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
    await stopSupervisedStack(dir);
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
