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

export interface DedicatedOptions {
  /** NATS only: appended to the server's config file, e.g. operator-mode auth for a permissions test. */
  readonly natsConfig?: string;
  /** Replaces the component's readiness probe, e.g. for a server that refuses anonymous clients. */
  readonly ready?: (url: string) => Promise<void>;
  /** The FerretDB launcher only: serve its profiles and command counts here (see components.ts). */
  readonly storeDebugAddress?: string;
}

/**
 * Starts a private instance of one component on free ports, with its own data directory under
 * .infra/test, for fault tests (kill -9, pause, restart) and for tests that need a server
 * configured differently from the shared one.
 */
export async function startDedicated(
  name: ComponentName,
  options: DedicatedOptions = {},
): Promise<DedicatedServer> {
  if (options.natsConfig !== undefined && name !== 'nats') {
    throw new Error(`natsConfig applies to a NATS server, not ${name}`);
  }
  const component = components[name];
  const probe = options.ready ?? ((url: string) => component.ready(url));
  const root = join(infraDir, 'test', 'dedicated');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  const [main, ...extra] = await Promise.all(
    Array.from({ length: component.extraPorts + 1 }, () => freePort()),
  );
  const proc = new ManagedProcess(
    component.process(
      dir,
      { main: main!, extra },
      {
        ui: false,
        natsConfig: options.natsConfig,
        storeDebugAddress: options.storeDebugAddress,
      },
    ),
  );
  const url = component.url(main!);
  const ready = (timeoutMs = 60_000) =>
    waitFor(() => probe(url), {
      what: `dedicated ${name} (log: ${proc.spec.logFile})`,
      timeoutMs,
      abortIf: () => proc.exitReason,
    });
  proc.start();
  try {
    await ready();
  } catch (error) {
    await proc.stop(); // a server that never answered must not outlive the test that started it
    throw error;
  }
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
