/**
 * The local stack under one supervisor: NATS, the Mongo-wire store and Temporal, then the
 * identity provider, intake, impact, notify, victims, the workflows and the gateway, each kept
 * running by a detached supervisor process (`supervisor-main.ts`) that outlives the command
 * that started it. `make up`, `make status`, `make down` and the chaos test go through here.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { components, natsReady, TEMPORAL_NAMESPACE, type ComponentName, type Ports } from './components.js';
import { LOCAL_APPS, localAppSpecs } from './local-apps.js';
import { prepareLocalNatsAuth } from './local-nats-auth.js';
import { repoRoot } from './paths.js';
import { isOurProcess, stopForeign } from './process.js';
import { FIXED_PORTS, freePorts, ORDER, type Endpoints } from './stack.js';
import { readSupervisorState, type SupervisorState, type Unit } from './supervisor.js';

export interface SupervisedStackOptions {
  /** Data, logs, the state files and the ports chosen. */
  readonly dir: string;
  /** `fixed`: the well-known ports; `free`: picked once, then kept across restarts. */
  readonly ports: 'fixed' | 'free';
  readonly ui: boolean;
  /** The supervisor's environment (servers given by MONGO_URL, NATS_URL, TEMPORAL_ADDRESS are used, not run); this process's unless given. */
  readonly env?: NodeJS.ProcessEnv;
}

type AppPorts = { readonly [K in keyof typeof LOCAL_APPS]: number };

/** What the supervisor chose once and every later start reuses, so restarts keep addresses. */
interface Layout {
  readonly servers: Readonly<Partial<Record<ComponentName, Ports>>>;
  readonly apps: AppPorts;
  readonly endpoints: Endpoints;
}

const layoutFile = (dir: string) => join(dir, 'layout.json');
export const supervisorStateFile = (dir: string) => join(dir, 'supervisor.json');
/** The supervisor's log (its keeper's too), beside the processes' logs. */
export const supervisorLog = (dir: string) => join(dir, 'supervisor.log');
const keeperFile = (dir: string) => join(dir, 'keeper.json');
const stopMarker = (dir: string) => join(dir, 'supervisor.stop');
const SUPERVISOR_MAIN = join(repoRoot, 'packages/testkit/dist/src/supervisor-main.js');

/**
 * The local stack's layout, recorded for `ensureSupervisedStack`. Free ports are chosen on the
 * first start and read back on later ones; the fixed ones, and which servers the environment
 * names, are taken afresh each time.
 */
async function layout(options: SupervisedStackOptions, env: NodeJS.ProcessEnv): Promise<Layout> {
  if (options.ports === 'free' && existsSync(layoutFile(options.dir))) {
    return JSON.parse(readFileSync(layoutFile(options.dir), 'utf8')) as Layout;
  }
  const servers: Partial<Record<ComponentName, Ports>> = {};
  const urls = {} as Record<ComponentName, string>;
  for (const name of ORDER) {
    const external = env[components[name].urlVariable];
    if (external) {
      urls[name] = external;
      continue;
    }
    const ports =
      options.ports === 'fixed' ? FIXED_PORTS[name] : await freePorts(components[name].extraPorts);
    servers[name] = ports;
    urls[name] = components[name].url(ports.main);
  }
  const apps =
    options.ports === 'fixed'
      ? LOCAL_APPS
      : (Object.fromEntries(
          await Promise.all(Object.keys(LOCAL_APPS).map(async (key) => [key, (await freePorts(0)).main])),
        ) as AppPorts);
  const ui =
    options.ui && servers.temporal ? { temporalUiUrl: `http://127.0.0.1:${servers.temporal.extra[0]}` } : {};
  const chosen: Layout = {
    servers,
    apps,
    endpoints: {
      natsUrl: urls.nats,
      mongoUrl: urls.mongo,
      temporalAddress: urls.temporal,
      temporalNamespace: env['TEMPORAL_NAMESPACE'] ?? TEMPORAL_NAMESPACE,
      ...ui,
    },
  };
  mkdirSync(options.dir, { recursive: true });
  writeFileSync(layoutFile(options.dir), JSON.stringify(chosen, null, 2));
  return chosen;
}

/**
 * The supervisor's groups: the servers this stack runs (not one given by MONGO_URL, NATS_URL
 * or TEMPORAL_ADDRESS) together, then each Beacon process after the ones it calls.
 */
export async function supervisedUnits(
  options: SupervisedStackOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ groups: Unit[][]; endpoints: Endpoints }> {
  const chosen = await layout(options, env);
  // Operator mode only for a NATS this stack starts; one given by NATS_URL has its own auth.
  const natsAuth = chosen.servers.nats ? await prepareLocalNatsAuth(options.dir) : undefined;
  const servers: Unit[] = ORDER.flatMap((name) => {
    const ports = chosen.servers[name];
    if (!ports) return [];
    const url = components[name].url(ports.main);
    return [
      {
        process: components[name].process(join(options.dir, name), ports, {
          ui: options.ui,
          ...(name === 'nats' && natsAuth ? { natsConfig: natsAuth.config } : {}),
        }),
        ready: () =>
          name === 'nats' && natsAuth ? natsReady(url, natsAuth.adminCredsFile) : components[name].ready(url),
        readyTimeoutMs: 60_000,
      },
    ];
  });
  const { apps } = await localAppSpecs(options.dir, chosen.endpoints, natsAuth, { ports: chosen.apps });
  return { groups: [servers, ...apps.map((app) => [app])], endpoints: chosen.endpoints };
}

/** A supervisor recorded in `dir` that is still running, or undefined. */
export function runningSupervisor(dir: string): SupervisorState | undefined {
  const state = readSupervisorState(supervisorStateFile(dir));
  return state && isOurProcess(state.pid, state.commandLine) ? state : undefined;
}

/** Whether every process of the stack runs and answered its last probe. */
export const allServing = (state: SupervisorState): boolean =>
  state.units.length > 0 && state.units.every((u) => u.state === 'running' && u.healthy);

export interface SupervisedStack {
  readonly endpoints: Endpoints;
  readonly apps: AppPorts;
  /** Whether this call started the supervisor (false: one was running already). */
  readonly started: boolean;
  state(): SupervisorState;
}

/**
 * Starts the supervisor for `dir` unless one runs (then it is only asked to start again what it
 * left down as crash-looping), and resolves once every process serves.
 */
export async function ensureSupervisedStack(
  options: SupervisedStackOptions,
  timeoutMs = 180_000,
): Promise<SupervisedStack> {
  mkdirSync(options.dir, { recursive: true });
  const running = runningSupervisor(options.dir);
  if (running) process.kill(running.pid, 'SIGUSR2');
  // A keeper without a supervisor is about to start one again: it is waited for.
  else if (!runningKeeper(options.dir)) startKeeper(options);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = runningSupervisor(options.dir);
    if (state && allServing(state)) break;
    if (Date.now() > deadline) {
      const log = tail(supervisorLog(options.dir));
      // A stack this call started is not left restarting in the background.
      if (!running) await stopSupervisedStack(options.dir);
      throw new Error(`the local stack did not come up within ${timeoutMs} ms; see ${supervisorLog(options.dir)}:
${log}`);
    }
    await delay(200);
  }
  const chosen = JSON.parse(readFileSync(layoutFile(options.dir), 'utf8')) as Layout;
  return {
    endpoints: chosen.endpoints,
    apps: chosen.apps,
    started: !running,
    state: () => {
      const state = readSupervisorState(supervisorStateFile(options.dir));
      if (!state) throw new Error(`no supervisor state in ${options.dir}`);
      return state;
    },
  };
}

/**
 * Stops the supervisor of `dir`, which stops every process in order; then anything it left
 * (a supervisor killed earlier leaves its processes running).
 */
export async function stopSupervisedStack(dir: string, timeoutMs = 60_000): Promise<void> {
  // The keeper must not start the supervisor again once it has stopped.
  if (existsSync(dir)) writeFileSync(stopMarker(dir), '');
  const deadline = Date.now() + timeoutMs;
  const running = runningSupervisor(dir);
  if (running) {
    process.kill(running.pid, 'SIGTERM');
    while (isOurProcess(running.pid, running.commandLine) && Date.now() < deadline) await delay(100);
  }
  const keeper = runningKeeper(dir);
  if (keeper) await stopForeign(keeper.pid, keeper.commandLine);
  const state = readSupervisorState(supervisorStateFile(dir));
  for (const unit of [...(state?.units ?? [])].reverse()) {
    if (unit.pid !== undefined) await stopForeign(unit.pid, unit.commandLine);
  }
}

/**
 * The supervisor runs under a keeper, a shell loop that starts it again a second after it
 * exits, until `stopSupervisedStack` leaves the stop marker: a supervisor killed with SIGKILL
 * comes back by itself and adopts the processes it left running.
 */
function startKeeper(options: SupervisedStackOptions): void {
  rmSync(stopMarker(options.dir), { force: true });
  const script = 'until [ -e "$1" ]; do "$2" "$3" "$4" "$5" "$6"; [ -e "$1" ] || sleep 1; done';
  const args = [
    '-c',
    script,
    'beacon-keeper',
    stopMarker(options.dir),
    process.execPath,
    SUPERVISOR_MAIN,
    options.dir,
    options.ports,
    options.ui ? 'ui' : 'headless',
  ];
  const log = openSync(supervisorLog(options.dir), 'a');
  try {
    const child = spawn('/bin/sh', args, {
      stdio: ['ignore', log, log],
      detached: true,
      env: options.env ?? process.env,
    });
    child.unref();
    writeFileSync(
      keeperFile(options.dir),
      JSON.stringify({ pid: child.pid, commandLine: ['/bin/sh', ...args].join(' ') }),
    );
  } finally {
    closeSync(log);
  }
}

function runningKeeper(dir: string): { pid: number; commandLine: string } | undefined {
  if (!existsSync(keeperFile(dir))) return undefined;
  const keeper = JSON.parse(readFileSync(keeperFile(dir), 'utf8')) as { pid: number; commandLine: string };
  return isOurProcess(keeper.pid, keeper.commandLine) ? keeper : undefined;
}

function tail(file: string, lines = 20): string {
  return existsSync(file)
    ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    : '(no log)';
}
