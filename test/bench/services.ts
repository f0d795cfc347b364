/** Beacon's services as OS processes of their own, for benchmarks that must not share a loop. */
import { join } from 'node:path';
import {
  freePort,
  grpcServing,
  infraDir,
  ManagedProcess,
  repoRoot,
  startStack,
  waitFor,
  type RunningStack,
  type StackOptions,
} from '@beacon/testkit/infra';

/**
 * The servers a bench runs against, in `.infra/bench`, started with no data left from earlier
 * runs; a server `env` names (MONGO_URL, NATS_URL, TEMPORAL_ADDRESS) is used instead.
 * `natsAuth`: NATS in operator mode, as `make up` runs it.
 */
export function startBenchStack(
  env: Readonly<Record<string, string | undefined>> = process.env,
  natsAuth?: StackOptions['natsAuth'],
): Promise<RunningStack> {
  return startStack({
    dir: join(infraDir, 'bench'),
    ports: 'free',
    ui: false,
    fresh: true,
    env,
    ...(natsAuth ? { natsAuth } : {}),
  });
}

export interface ServiceProcess {
  readonly component: string;
  readonly process: ManagedProcess;
  readonly address: string;
}

/**
 * Starts a service from source (its `main.ts`) on a free gRPC port, logging to `dir`, and waits
 * until its health check says it serves. `profileDir`: write V8 CPU profiles there.
 */
export async function startService(
  service: 'intake' | 'notify',
  label: string,
  env: Record<string, string>,
  dir: string,
  profileDir?: string,
): Promise<ServiceProcess> {
  const port = await freePort();
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, service)}`] : [];
  const proc = new ManagedProcess({
    name: label,
    command: process.execPath,
    args: [
      ...profile,
      '--conditions=source',
      '--import',
      'tsx',
      join(repoRoot, `services/${service}/src/main.ts`),
    ],
    logFile: join(dir, `${label}.log`),
    env: { ...env, [`${service.toUpperCase()}_GRPC_PORT`]: String(port), LOG_LEVEL: 'warn' },
  });
  const address = `127.0.0.1:${port}`;
  proc.start();
  await waitFor(() => grpcServing(address), {
    what: `${label} (log: ${proc.spec.logFile})`,
    timeoutMs: 60_000,
    abortIf: () => proc.exitReason,
  });
  return { component: service, process: proc, address };
}
