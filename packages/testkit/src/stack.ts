import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { components, natsReady, TEMPORAL_NAMESPACE, type ComponentName, type Ports } from './components.js';
import { freePort } from './ports.js';
import { ManagedProcess, stopForeign } from './process.js';
import { waitFor } from './wait.js';

/** Where tests and services find the infrastructure. */
export interface Endpoints {
  readonly natsUrl: string;
  readonly mongoUrl: string;
  readonly temporalAddress: string;
  readonly temporalNamespace: string;
  /** Only when this stack started Temporal with its Web UI. */
  readonly temporalUiUrl?: string;
}

export interface StackOptions {
  /** Data, logs and the state file of this stack. */
  readonly dir: string;
  /** `fixed`: the well-known ports (4222, 27017, 7233, UI 8233); `free`: any free ports. */
  readonly ports: 'fixed' | 'free';
  readonly ui: boolean;
  /** Where MONGO_URL, NATS_URL and TEMPORAL_ADDRESS are read from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readyTimeoutMs?: number;
  /**
   * Start each server this stack starts with no data: what earlier runs left is removed first.
   * For benchmarks, whose data is worth nothing afterwards: left in place, their streams grew
   * by gigabytes per run until JetStream refused to store more.
   */
  readonly fresh?: boolean;
  /**
   * NATS in operator mode (the local stack only): `config` is appended to the server's config
   * and the readiness probe connects as the user of `credsFile` instead of anonymously.
   */
  readonly natsAuth?: { readonly config: string; readonly credsFile: string };
}

export interface RunningStack {
  readonly endpoints: Endpoints;
  /** The processes this stack started (none for a server given by an environment variable). */
  readonly processes: Readonly<Partial<Record<ComponentName, ManagedProcess>>>;
  /** Milliseconds from launch to the first answered request, per component started here. */
  readonly startMs: Readonly<Partial<Record<ComponentName, number>>>;
  stop(): Promise<void>;
}

/** The well-known ports of the local stack's servers. */
export const FIXED_PORTS: Readonly<Record<ComponentName, Ports>> = {
  nats: { main: 4222, extra: [8222] },
  mongo: { main: 27017, extra: [] },
  temporal: { main: 7233, extra: [8233, 7243, 9233] },
};

export const ORDER: readonly ComponentName[] = ['nats', 'mongo', 'temporal'];

/** Starts on free ports that another process bound first before giving up. */
const PORT_CLASH_ATTEMPTS = 3;

interface StateFile {
  readonly endpoints: Endpoints;
  readonly pids: Partial<Record<ComponentName, { pid: number; commandLine: string }>>;
}

/**
 * Starts every component not given by an environment variable, in parallel, and waits until
 * each answers a real request (JetStream account info, a Mongo ping, a Temporal namespace
 * describe). On failure it stops what it started and names the component and its log file.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  mkdirSync(options.dir, { recursive: true });
  // Servers a killed run left would go on running over the files about to be removed.
  if (options.fresh) await stopRecordedStack(options.dir);
  const processes: Partial<Record<ComponentName, ManagedProcess>> = {};
  const startMs: Partial<Record<ComponentName, number>> = {};
  const urls: Partial<Record<ComponentName, string>> = {};
  let uiPort: number | undefined;

  const stop = async () => {
    // Reverse order: Temporal first, since its workers may still be talking to the others.
    for (const name of [...ORDER].reverse()) await processes[name]?.stop();
    rmSync(stateFile(options.dir), { force: true });
  };

  const results = await Promise.allSettled(
    ORDER.map(async (name) => {
      const component = components[name];
      const external = options.env[component.urlVariable];
      if (external) {
        await waitFor(() => component.ready(external), {
          what: `${name} at ${component.urlVariable}=${external}`,
          timeoutMs: 15_000,
        });
        urls[name] = external;
        return;
      }
      if (options.fresh) rmSync(join(options.dir, name), { recursive: true, force: true });
      const probe =
        name === 'nats' && options.natsAuth
          ? (url: string) => natsReady(url, options.natsAuth?.credsFile)
          : (url: string) => component.ready(url);
      const started = performance.now();
      // Free ports are only free until someone binds them: the Temporal dev server picks ports
      // for its own services too, and took one of ours under load. Such a clash is retried
      // on new ports; on the fixed ports it is a real conflict and reported.
      for (let attempt = 1; ; attempt++) {
        const ports = options.ports === 'fixed' ? FIXED_PORTS[name] : await freePorts(component.extraPorts);
        if (name === 'temporal' && options.ui) uiPort = ports.extra[0];
        const proc = new ManagedProcess(
          component.process(join(options.dir, name), ports, {
            ui: options.ui,
            ...(name === 'nats' && options.natsAuth ? { natsConfig: options.natsAuth.config } : {}),
          }),
        );
        proc.start();
        processes[name] = proc;
        const url = component.url(ports.main);
        try {
          await waitFor(() => probe(url), {
            what: `${name} (log: ${proc.spec.logFile})`,
            timeoutMs: options.readyTimeoutMs ?? 60_000,
            abortIf: () => proc.exitReason,
          });
          urls[name] = url;
          break;
        } catch (error) {
          const clash = options.ports === 'free' && /address already in use/i.test(proc.exitReason ?? '');
          if (!clash || attempt === PORT_CLASH_ATTEMPTS) throw error;
          await proc.stop();
        }
      }
      startMs[name] = Math.round(performance.now() - started);
    }),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) {
    await stop();
    throw new Error(`infrastructure did not start:\n${failures.join('\n')}`);
  }

  const endpoints: Endpoints = {
    natsUrl: urls.nats!,
    mongoUrl: urls.mongo!,
    temporalAddress: urls.temporal!,
    temporalNamespace: options.env['TEMPORAL_NAMESPACE'] ?? TEMPORAL_NAMESPACE,
    ...(uiPort === undefined ? {} : { temporalUiUrl: `http://127.0.0.1:${uiPort}` }),
  };
  const state: StateFile = {
    endpoints,
    pids: Object.fromEntries(
      Object.entries(processes).map(([name, p]) => [name, { pid: p.pid, commandLine: p.commandLine }]),
    ),
  };
  writeFileSync(stateFile(options.dir), JSON.stringify(state, null, 2));
  return { endpoints, processes, startMs, stop };
}

/** The stack recorded in `dir` by an earlier `startStack`, if its state file is there. */
export function recordedStack(dir: string): StateFile | undefined {
  const file = stateFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StateFile) : undefined;
}

/** Stops the processes an earlier run (maybe another process) recorded in `dir`. */
export async function stopRecordedStack(dir: string): Promise<void> {
  const state = recordedStack(dir);
  if (!state) return;
  await Promise.all(Object.values(state.pids).map(({ pid, commandLine }) => stopForeign(pid, commandLine)));
  rmSync(stateFile(dir), { force: true });
}

function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

/** A free main port and `extra` more. */
export async function freePorts(extra: number): Promise<Ports> {
  const ports = await Promise.all(Array.from({ length: extra + 1 }, () => freePort()));
  return { main: ports[0]!, extra: ports.slice(1) };
}
