import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ProcessSpec {
  /** Component name, used in messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr go here, appended across restarts. */
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A server process we started: stoppable, killable with any signal, pausable (SIGSTOP) and
 * restartable with the same arguments, for the fault tests. Runs in its own process group so
 * a Ctrl-C in the terminal does not kill it before the owner shuts it down in order.
 */
export class ManagedProcess {
  #child: ChildProcess | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #exitError: Error | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: ProcessSpec) {}

  /** The whole command line, as /proc shows it: what identifies this process later. */
  get commandLine(): string {
    return [this.spec.command, ...this.spec.args].join(' ');
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`${this.spec.name} is not running`);
    return pid;
  }

  /** Settles when the process started last has exited (at once if none was started). */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** How the process started last ended: its exit code or signal; undefined while it runs. */
  get exitStatus(): string | undefined {
    if (!this.#exit) return undefined;
    return this.#exit.signal ?? `code ${this.#exit.code}`;
  }

  /** Why the process is gone, or undefined while it runs. */
  get exitReason(): string | undefined {
    if (!this.#exit) return undefined;
    return `${this.spec.name} exited (${this.exitStatus}); log: ${this.spec.logFile}\n${this.logTail()}`;
  }

  start(): void {
    if (this.#child && !this.#exit) throw new Error(`${this.spec.name} is already running`);
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    const log = openSync(this.spec.logFile, 'a');
    try {
      const child = spawn(this.spec.command, this.spec.args, {
        stdio: ['ignore', log, log],
        detached: true,
        env: { ...process.env, ...this.spec.env },
      });
      this.#child = child;
      this.#exit = undefined;
      this.#exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.#exit = { code, signal };
          resolve();
        });
        child.once('error', (error) => {
          this.#exit = { code: -1, signal: null };
          this.#exitError = error;
          resolve();
        });
      });
      // The owner decides when the process ends; it must not keep the owner's event loop alive.
      child.unref();
    } finally {
      closeSync(log);
    }
  }

  /** Sends a signal; `SIGKILL` is the crash the fault tests simulate. */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** Kills with SIGKILL and waits until the kernel has reaped it. */
  async kill(): Promise<void> {
    if (this.#exit || !this.#child) return;
    this.signal('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exit || !this.#child) return;
    this.resume(); // a paused process cannot handle SIGTERM
    this.signal('SIGTERM');
    const stopped = await Promise.race([this.#exited.then(() => true), delay(graceMs, false)]);
    if (!stopped) await this.kill();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  logTail(lines = 20): string {
    if (this.#exitError) return this.#exitError.message;
    if (!existsSync(this.spec.logFile)) return '(no log)';
    return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}

/**
 * Whether a pid recorded by an earlier run still names one of our servers. Pids are reused, so
 * the whole command line must match: the binary alone could be any `node` on the machine.
 */
export function isOurProcess(pid: number, commandLine: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv.join(' ') === commandLine;
  } catch {
    return false;
  }
}

/** Stops a server started by another process (the `up` command): SIGTERM, then SIGKILL. */
export async function stopForeign(pid: number, commandLine: string, graceMs = 10_000): Promise<void> {
  if (!isOurProcess(pid, commandLine)) return;
  process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isOurProcess(pid, commandLine)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await delay(50);
  }
}
