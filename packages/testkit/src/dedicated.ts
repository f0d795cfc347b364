import { mkdtempSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { components, type ComponentName } from './components.js';
import { infraDir } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

/** A server of a test's own, which it may kill, pause and restart without disturbing others. */
export interface DedicatedServer {
  readonly url: string;
  readonly process: ManagedProcess;
  /** Resolves once the server answers again (after a start, restart or resume). */
  ready(timeoutMs?: number): Promise<void>;
  /** Starts it again on the same port and data directory, and waits until it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private instance of one component on free ports, with its own data directory under
 * .infra/test, for fault tests: kill -9, pause, restart.
 */
export async function startDedicated(name: ComponentName): Promise<DedicatedServer> {
  const component = components[name];
  const root = join(infraDir, 'test', 'dedicated');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  const [main, ...extra] = await Promise.all(
    Array.from({ length: component.extraPorts + 1 }, () => freePort()),
  );
  const proc = new ManagedProcess(component.process(dir, { main: main!, extra }, { ui: false }));
  const url = component.url(main!);
  const ready = (timeoutMs = 60_000) =>
    waitFor(() => component.ready(url), {
      what: `dedicated ${name} (log: ${proc.spec.logFile})`,
      timeoutMs,
      abortIf: () => proc.exitReason,
    });
  proc.start();
  await ready();
  return {
    url,
    process: proc,
    ready,
    restart: async () => {
      await proc.restart();
      await ready();
    },
    stop: () => proc.stop(),
  };
}
