import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_LOG_ROTATION, rotateIfLarge, type LogRotation } from './log-rotation.js';
import { isOurProcess, ManagedProcess, stopForeign, type ProcessSpec } from './process.js';
import { waitFor } from './wait.js';

/** A process the supervisor keeps running, and how to tell it serves. */
export interface Unit {
  readonly process: ProcessSpec;
  /** Resolves once it serves; rejects with why not. */
  ready(): Promise<void>;
  readonly readyTimeoutMs: number;
}

/** When a process that exited is started again. */
export interface RestartPolicy {
  /** A run shorter than this counts as a failed start; a longer one clears the count. */
  readonly stableMs: number;
  /** The wait before the first restart after a failed start; it doubles with each one. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** This many failed starts in a row and the process is left down as crash-looping. */
  readonly crashLoopLimit: number;
}

/**
 * A process that ran for a while is started again at once; one that keeps dying on start waits
 * 0.5, 1, 2, 4, 8, 15, 15 s, and after eight such starts (about a minute) is left down.
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  stableMs: 10_000,
  firstDelayMs: 500,
  maxDelayMs: 15_000,
  crashLoopLimit: 8,
};

/**
 * How long to wait before the next start, given how many runs in a row (this one included)
 * were shorter than `stableMs`; undefined when the process is crash-looping.
 */
export function restartDelay(policy: RestartPolicy, failedStarts: number): number | undefined {
  if (failedStarts === 0) return 0;
  if (failedStarts >= policy.crashLoopLimit) return undefined;
  return Math.min(policy.firstDelayMs * 2 ** (failedStarts - 1), policy.maxDelayMs);
}

export type UnitState = 'starting' | 'running' | 'restarting' | 'crash-looping' | 'stopped';

/** What `make status` shows of a process. */
export interface UnitStatus {
  readonly name: string;
  readonly state: UnitState;
  readonly pid?: number;
  readonly commandLine: string;
  readonly logFile: string;
  /** When its current run began (epoch ms). */
  readonly startedAt?: number;
  readonly restarts: number;
  readonly lastExit?: { readonly at: number; readonly status: string };
  /** From the last health probe, taken every couple of seconds. */
  readonly healthy: boolean;
  readonly checkedAt?: number;
  /** Milliseconds from its last exit until it served again. */
  readonly lastRecoveryMs?: number;
}

export interface SupervisorState {
  readonly pid: number;
  readonly commandLine: string;
  readonly startedAt: number;
  readonly units: readonly UnitStatus[];
}

export interface SupervisorOptions {
  /** Started group by group: the units of a group together, each group once the one before serves. */
  readonly groups: readonly (readonly Unit[])[];
  /** Where the state is written (atomically) on every change, for `make status` and restarts. */
  readonly stateFile: string;
  readonly policy?: RestartPolicy;
  readonly rotation?: LogRotation;
  /** How often the logs' sizes are looked at; 5 s unless given. */
  readonly rotationIntervalMs?: number;
  /**
   * The supervisor's own log, rotated with the processes' (written through a descriptor its
   * starter opened for appending, as the processes' are).
   */
  readonly ownLog?: string;
  readonly probeIntervalMs?: number;
  /** Told of starts, exits and restarts. */
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** A process of an earlier supervisor, still running, watched by its pid. */
class Adopted {
  readonly exited: Promise<void>;
  #gone = false;

  constructor(
    readonly pid: number,
    readonly commandLine: string,
  ) {
    this.exited = (async () => {
      while (isOurProcess(pid, commandLine)) await delay(200);
      this.#gone = true;
    })();
  }

  get exitStatus(): string | undefined {
    return this.#gone ? 'exited (not a child of this supervisor: no status)' : undefined;
  }

  stop = () => stopForeign(this.pid, this.commandLine);
}

type Running = ManagedProcess | Adopted;

class Slot {
  running: Running | undefined;
  state: UnitState = 'starting';
  startedAt: number | undefined;
  restarts = 0;
  failedStarts = 0;
  lastExit: UnitStatus['lastExit'];
  healthy = false;
  checkedAt: number | undefined;
  lastRecoveryMs: number | undefined;
  /** While its start is being awaited; the probes leave it alone meanwhile. */
  awaiting = false;

  constructor(readonly unit: Unit) {}

  get commandLine(): string {
    return [this.unit.process.command, ...this.unit.process.args].join(' ');
  }

  status(): UnitStatus {
    return {
      name: this.unit.process.name,
      state: this.state,
      ...(this.running && !this.running.exitStatus ? { pid: this.running.pid } : {}),
      commandLine: this.commandLine,
      logFile: this.unit.process.logFile,
      ...(this.startedAt === undefined ? {} : { startedAt: this.startedAt }),
      restarts: this.restarts,
      ...(this.lastExit ? { lastExit: this.lastExit } : {}),
      healthy: this.healthy,
      ...(this.checkedAt === undefined ? {} : { checkedAt: this.checkedAt }),
      ...(this.lastRecoveryMs === undefined ? {} : { lastRecoveryMs: this.lastRecoveryMs }),
    };
  }
}

/**
 * Owns a set of processes: starts them in order, restarts any that exits (at once after a
 * stable run, with growing waits while it keeps failing, never once it is crash-looping),
 * never touches one that runs, probes each for health, rotates their logs by size, and
 * records all of it in a state file. Processes a previous supervisor left running (same
 * command line, same pid) are adopted, not restarted.
 */
export class Supervisor {
  readonly #slots: Slot[][];
  readonly #policy: RestartPolicy;
  readonly #startedAt = Date.now();
  #stopping = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(readonly options: SupervisorOptions) {
    this.#slots = options.groups.map((group) => group.map((unit) => new Slot(unit)));
    this.#policy = options.policy ?? DEFAULT_RESTART_POLICY;
  }

  /** Starts (or adopts) every group in order; resolves once all serve. */
  async start(): Promise<void> {
    const earlier = readSupervisorState(this.options.stateFile);
    for (const group of this.#slots) {
      await Promise.all(
        group.map(async (slot) => {
          const was = earlier?.units.find((u) => u.name === slot.unit.process.name);
          if (
            was?.pid !== undefined &&
            was.commandLine === slot.commandLine &&
            isOurProcess(was.pid, was.commandLine)
          ) {
            this.#adopt(slot, was);
          } else {
            // One an earlier supervisor ran (not stopped by `make down`) that is gone now counts
            // as a restart, also when that supervisor died while restarting it.
            if (was && was.state !== 'stopped' && was.startedAt !== undefined) {
              slot.restarts = was.restarts + 1;
              slot.lastExit = was.lastExit ?? {
                at: Date.now(),
                status: 'found gone when the supervisor started',
              };
            }
            this.#launch(slot);
          }
          await this.#untilReady(slot);
        }),
      );
    }
    const every = this.options.probeIntervalMs ?? 2_000;
    this.#timers.push(setInterval(() => void this.#probeAll(), every));
    const rotation = this.options.rotation ?? DEFAULT_LOG_ROTATION;
    const { ownLog } = this.options;
    this.#timers.push(
      setInterval(() => {
        for (const slot of this.#all()) rotateIfLarge(slot.unit.process.logFile, rotation);
        if (ownLog) rotateIfLarge(ownLog, rotation);
      }, this.options.rotationIntervalMs ?? 5_000),
    );
  }

  /** Starts again what was left down as crash-looping (`make up` on a running stack). */
  retryCrashLooping(): void {
    for (const slot of this.#all().filter((s) => s.state === 'crash-looping')) {
      slot.failedStarts = 0;
      this.#launch(slot);
      void this.#untilReady(slot);
    }
  }

  /** Stops every process, the last group first, and removes the state file. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const group of [...this.#slots].reverse()) {
      await Promise.all(group.map(async (slot) => slot.running?.stop()));
      for (const slot of group) slot.state = 'stopped';
    }
    this.#write();
  }

  status(): SupervisorState {
    return {
      pid: process.pid,
      commandLine: process.argv.join(' '),
      startedAt: this.#startedAt,
      units: this.#all().map((slot) => slot.status()),
    };
  }

  #all(): Slot[] {
    return this.#slots.flat();
  }

  #adopt(slot: Slot, was: UnitStatus): void {
    const adopted = new Adopted(was.pid!, was.commandLine);
    slot.running = adopted;
    slot.restarts = was.restarts;
    slot.startedAt = was.startedAt ?? Date.now();
    slot.state = 'starting';
    this.options.log?.('adopted a running process', {
      process: slot.unit.process.name,
      processPid: adopted.pid,
    });
    void adopted.exited.then(() => this.#exited(slot, adopted));
    this.#write();
  }

  #launch(slot: Slot): void {
    const proc = new ManagedProcess(slot.unit.process);
    proc.start();
    slot.running = proc;
    slot.startedAt = Date.now();
    slot.state = 'starting';
    slot.healthy = false;
    this.options.log?.('started', { process: slot.unit.process.name, processPid: proc.pid });
    void proc.exited.then(() => this.#exited(slot, proc));
    this.#write();
  }

  async #untilReady(slot: Slot): Promise<void> {
    const running = slot.running;
    slot.awaiting = true;
    try {
      await waitFor(() => slot.unit.ready(), {
        what: `${slot.unit.process.name} (log: ${slot.unit.process.logFile})`,
        timeoutMs: slot.unit.readyTimeoutMs,
        intervalMs: 50,
        abortIf: () => running?.exitStatus,
      });
    } catch (error) {
      // Not serving in time: the probes go on; a process that died is restarted by #exited.
      this.options.log?.('not ready in time', { process: slot.unit.process.name, err: String(error) });
      return;
    } finally {
      slot.awaiting = false;
    }
    if (slot.running !== running || this.#stopping) return;
    slot.state = 'running';
    slot.healthy = true;
    slot.checkedAt = Date.now();
    if (slot.lastExit) slot.lastRecoveryMs = Date.now() - slot.lastExit.at;
    this.#write();
  }

  async #exited(slot: Slot, running: Running): Promise<void> {
    if (this.#stopping || slot.running !== running) return;
    const at = Date.now();
    const ranMs = at - (slot.startedAt ?? at);
    slot.lastExit = { at, status: running.exitStatus ?? 'exited' };
    slot.healthy = false;
    slot.failedStarts = ranMs < this.#policy.stableMs ? slot.failedStarts + 1 : 0;
    const wait = restartDelay(this.#policy, slot.failedStarts);
    const name = slot.unit.process.name;
    if (wait === undefined) {
      slot.state = 'crash-looping';
      this.options.log?.('crash-looping: left down', { process: name, exit: slot.lastExit.status });
      this.#write();
      return;
    }
    slot.state = 'restarting';
    this.options.log?.('exited; restarting', { process: name, exit: slot.lastExit.status, waitMs: wait });
    this.#write();
    if (wait > 0) await delay(wait);
    if (this.#stopping || slot.running !== running) return;
    slot.restarts++;
    this.#launch(slot);
    await this.#untilReady(slot);
  }

  async #probeAll(): Promise<void> {
    const probes = this.#all()
      .filter((slot) => (slot.state === 'running' || slot.state === 'starting') && !slot.awaiting)
      .map(async (slot) => {
        const probed = slot.running;
        const healthy = await Promise.race([
          slot.unit.ready().then(
            () => true,
            () => false,
          ),
          delay(2_000, false),
        ]);
        // A process restarted meanwhile is not judged by its predecessor's answer.
        if (slot.running !== probed) return;
        slot.healthy = healthy;
        slot.checkedAt = Date.now();
        // One that was slow to start serves at last.
        if (healthy && slot.state === 'starting') slot.state = 'running';
      });
    await Promise.all(probes);
    if (!this.#stopping) this.#write();
  }

  #write(): void {
    const file = this.options.stateFile;
    writeFileSync(`${file}.tmp`, JSON.stringify(this.status(), null, 2));
    renameSync(`${file}.tmp`, file);
  }
}

/** The state a supervisor last wrote to `file`, if any. */
export function readSupervisorState(file: string): SupervisorState | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SupervisorState) : undefined;
}
