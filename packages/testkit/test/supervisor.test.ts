import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  freePort,
  ManagedProcess,
  repoRoot,
  Supervisor,
  waitFor,
  type Unit,
  type UnitStatus,
} from '@beacon/testkit';

/** A process that serves HTTP on `port` (or exits at once with `crash`), as a unit. */
function httpUnit(dir: string, name: string, port: number, crash = false): Unit {
  const script = crash
    ? 'process.exit(3)'
    : `require('node:http').createServer((_, r) => r.end('ok')).listen(${port}, '127.0.0.1')`;
  return {
    process: { name, command: process.execPath, args: ['-e', script], logFile: join(dir, `${name}.log`) },
    ready: async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      if (!response.ok) throw new Error(`answered ${response.status}`);
    },
    readyTimeoutMs: 10_000,
  };
}

async function supervise(units: Unit[][], policy?: ConstructorParameters<typeof Supervisor>[0]['policy']) {
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
  const supervisor = new Supervisor({
    groups: units,
    stateFile: join(dir, 'state.json'),
    probeIntervalMs: 100,
    ...(policy ? { policy } : {}),
  });
  onTestFinished(async () => {
    await supervisor.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    supervisor,
    dir,
    unit: (name: string): UnitStatus => supervisor.status().units.find((u) => u.name === name)!,
  };
}

describe('the local stack supervisor', () => {
  it('restarts a killed process at once and leaves the others alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { supervisor, unit } = await supervise([
      [httpUnit(dir, 'a', await freePort())],
      [httpUnit(dir, 'b', await freePort())],
    ]);
    await supervisor.start();
    const [a, b] = [unit('a'), unit('b')];
    expect([a.state, a.healthy, b.state, b.healthy]).toEqual(['running', true, 'running', true]);

    process.kill(a.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        if (unit('a').pid === a.pid || unit('a').state !== 'running') throw new Error(unit('a').state);
      },
      { what: 'a restarted', timeoutMs: 10_000 },
    );
    expect(unit('a')).toMatchObject({ restarts: 1, healthy: true, lastExit: { status: 'SIGKILL' } });
    expect(unit('a').lastRecoveryMs).toBeLessThan(5_000);
    expect(unit('b')).toMatchObject({ pid: b.pid, restarts: 0, state: 'running' });
  });

  it('leaves a process that keeps dying on start down, and starts it again when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { supervisor, unit } = await supervise([[httpUnit(dir, 'crashing', await freePort(), true)]], {
      stableMs: 10_000,
      firstDelayMs: 10,
      maxDelayMs: 50,
      crashLoopLimit: 3,
    });
    await supervisor.start();
    await waitFor(
      async () => {
        if (unit('crashing').state !== 'crash-looping') throw new Error(unit('crashing').state);
      },
      { what: 'crash-looping', timeoutMs: 10_000 },
    );
    expect(unit('crashing')).toMatchObject({ restarts: 2, healthy: false, lastExit: { status: 'code 3' } });

    supervisor.retryCrashLooping();
    await waitFor(
      async () => {
        if (unit('crashing').restarts < 4) throw new Error(`${unit('crashing').restarts} restarts`);
      },
      { what: 'started again', timeoutMs: 10_000 },
    );
  });
});

describe('a supervisor taking over from one that died', () => {
  it('counts a process the dead one was restarting as restarted, with the exit it recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const unit = httpUnit(dir, 'a', await freePort());
    const stateFile = join(dir, 'state.json');
    const lastExit = { at: Date.now() - 1_000, status: 'SIGKILL' };
    // What the dead supervisor last wrote: `a` exited and was waiting for its restart.
    writeFileSync(
      stateFile,
      JSON.stringify({
        pid: 1,
        commandLine: 'gone',
        startedAt: Date.now() - 60_000,
        units: [
          {
            name: 'a',
            state: 'restarting',
            commandLine: [unit.process.command, ...unit.process.args].join(' '),
            logFile: unit.process.logFile,
            startedAt: Date.now() - 30_000,
            restarts: 2,
            lastExit,
            healthy: false,
          },
        ],
      }),
    );
    const supervisor = new Supervisor({ groups: [[unit]], stateFile });
    onTestFinished(() => supervisor.stop());
    await supervisor.start();
    expect(supervisor.status().units[0]).toMatchObject({
      state: 'running',
      healthy: true,
      restarts: 3,
      lastExit,
    });
  });
});

describe('the supervisor’s own log', () => {
  it('is rotated by size with the processes’ logs, keeping what it held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    const ownLog = join(dir, 'supervisor.log');
    const held = 'started\n'.repeat(40);
    writeFileSync(ownLog, held);
    const supervisor = new Supervisor({
      groups: [[httpUnit(dir, 'web', await freePort())]],
      stateFile: join(dir, 'state.json'),
      ownLog,
      rotation: { maxBytes: 100, keep: 2 },
      rotationIntervalMs: 50,
    });
    onTestFinished(async () => {
      await supervisor.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    await supervisor.start();
    const rotated = await waitFor(async () => readFileSync(`${ownLog}.1`, 'utf8'), {
      what: 'the supervisor’s log rotated',
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    expect(rotated).toBe(held);
    expect(readFileSync(ownLog, 'utf8')).toBe('');
  });
});

describe('the one logger', () => {
  it('has every line it wrote in the log even when the process is killed the next instant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logger-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // The built logger, as the services run it.
    const platform = join(repoRoot, 'packages/platform/dist/src/index.js');
    const script = `import { createLogger } from ${JSON.stringify(platform)};
const logger = createLogger({ name: 'doomed' });
for (let i = 0; i < 2000; i++) logger.info({ i }, 'line');
process.kill(process.pid, 'SIGKILL');`;
    const proc = new ManagedProcess({
      name: 'doomed',
      command: process.execPath,
      args: ['--input-type=module', '-e', script],
      logFile: join(dir, 'doomed.log'),
    });
    proc.start();
    await proc.exited;
    expect(proc.exitStatus).toBe('SIGKILL');
    const lines = readFileSync(join(dir, 'doomed.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ name: 'doomed', i: 1999 });
  });
});
