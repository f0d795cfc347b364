/**
 * Runs the images' contents without Docker: each process from its `pnpm deploy` output (what
 * infra/docker/Dockerfile copies into the runtime image), against real NATS, FerretDB and
 * Temporal started here on free ports; waits until each reports SERVING, makes a call through
 * the gateway, prints start-up time and resident memory, then stops each with SIGTERM and
 * prints how long it took to exit. Not part of `make test` (it needs a build and six deploys):
 *
 *   pnpm -s build
 *   for s in gateway intake impact notify victims workflows; do
 *     pnpm --filter @beacon/$s deploy --prod --legacy /tmp/beacon-deploy/$s; done
 *   pnpm exec tsx --conditions=source test/deploy/smoke.ts /tmp/beacon-deploy
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROCESS_SCOPES } from '@beacon/domain';
import { createDevIssuer } from '@beacon/platform';
import { freePort, grpcServing, startStack, waitFor } from '@beacon/testkit/infra';

const deployed = resolve(process.argv[2] ?? '/tmp/beacon-deploy');
const dir = mkdtempSync(join(tmpdir(), 'beacon-smoke-'));
mkdirSync(join(dir, 'secrets'));
const secret = (name: string, value: string) => {
  const file = join(dir, 'secrets', name);
  writeFileSync(file, value, { mode: 0o600 });
  return file;
};

const stack = await startStack({ dir, ports: 'free', ui: false, env: {} });
const { endpoints } = stack;
const issuer = await createDevIssuer({});
/** Each process's own identity, with its own scopes. */
const serviceToken = async (process: 'impact' | 'workflows') =>
  secret(
    `${process}-service-token`,
    await issuer.mint({
      subject: process,
      roles: ['service'],
      scopes: PROCESS_SCOPES[process],
      clearance: 'RED',
      ttlSeconds: 3600,
    }),
  );
const port = {
  intake: await freePort(),
  impact: await freePort(),
  notify: await freePort(),
  victims: await freePort(),
  workflows: await freePort(),
  gateway: await freePort(),
  gatewayHttp: await freePort(),
};
const at = (p: number) => `127.0.0.1:${p}`;
const common = {
  AUTH_ISSUER: issuer.issuer,
  AUTH_AUDIENCE: issuer.audience,
  AUTH_JWKS_FILE: secret('jwks.json', JSON.stringify(issuer.jwks)),
  NODE_ENV: 'production',
};
const stores = { MONGO_URL: endpoints.mongoUrl, NATS_URL: endpoints.natsUrl };
const services = {
  INTAKE_ADDRESS: at(port.intake),
  IMPACT_ADDRESS: at(port.impact),
  NOTIFY_ADDRESS: at(port.notify),
  VICTIMS_ADDRESS: at(port.victims),
};
const processes: [name: keyof typeof port, env: Record<string, string>][] = [
  [
    'intake',
    {
      ...stores,
      INTAKE_GRPC_PORT: String(port.intake),
      CORRELATION_SECRET: randomBytes(32).toString('hex'),
    },
  ],
  [
    'impact',
    {
      ...stores,
      IMPACT_GRPC_PORT: String(port.impact),
      INTAKE_ADDRESS: at(port.intake),
      SERVICE_TOKEN_FILE: await serviceToken('impact'),
    },
  ],
  ['notify', { ...stores, NOTIFY_GRPC_PORT: String(port.notify) }],
  [
    'victims',
    {
      ...stores,
      VICTIMS_GRPC_PORT: String(port.victims),
      VICTIMS_KEKS_FILE: secret('keks', `k1:${randomBytes(32).toString('base64')}`),
      VICTIMS_SEARCH_KEY_FILE: secret('search-key', randomBytes(32).toString('hex')),
    },
  ],
  [
    'workflows',
    {
      NATS_URL: endpoints.natsUrl,
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      ...services,
      SERVICE_TOKEN_FILE: await serviceToken('workflows'),
      RESPONSE_GRPC_PORT: String(port.workflows),
    },
  ],
  [
    'gateway',
    {
      ...services,
      RESPONSE_ADDRESS: at(port.workflows),
      GATEWAY_GRPC_PORT: String(port.gateway),
      GATEWAY_HTTP_PORT: String(port.gatewayHttp),
    },
  ],
];

const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);

const running: [string, ChildProcess][] = [];
try {
  for (const [name, env] of processes) {
    const started = performance.now();
    const child = spawn(process.execPath, ['--enable-source-maps', 'dist/src/main.js'], {
      cwd: join(deployed, name),
      env: { ...common, ...env, PATH: process.env['PATH'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(dir, `${name}.log`));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    running.push([name, child]);
    await waitFor(() => grpcServing(at(port[name])), {
      what: `${name} (log: ${join(dir, `${name}.log`)})`,
      timeoutMs: 120_000,
      abortIf: () => (child.exitCode === null ? undefined : `exited with ${child.exitCode}`),
    });
    console.log(
      `${name.padEnd(9)} SERVING after ${Math.round(performance.now() - started)} ms, RSS ${rssMiB(child.pid!)} MiB`,
    );
  }
  const ready = await fetch(`http://${at(port.gatewayHttp)}/readyz`);
  const coordinator = await issuer.mint({ subject: 'smoke', roles: ['coordinator'], clearance: 'RED' });
  const list = await fetch(`http://${at(port.gatewayHttp)}/v1/incidents`, {
    headers: { authorization: `Bearer ${coordinator}` },
  });
  console.log(`gateway   /readyz ${ready.status}, GET /v1/incidents ${list.status}`);
} finally {
  for (const [name, child] of running.reverse()) {
    const stopping = performance.now();
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
    console.log(
      `${name.padEnd(9)} exit code ${child.exitCode} ${Math.round(performance.now() - stopping)} ms after SIGTERM`,
    );
  }
  await stack.stop();
}
