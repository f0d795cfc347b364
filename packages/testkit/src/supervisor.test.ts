import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateIfLarge } from './log-rotation.js';
import { statusLines } from './stack-status.js';
import { DEFAULT_RESTART_POLICY, restartDelay, type SupervisorState } from './supervisor.js';

describe('restartDelay', () => {
  it('restarts a process that ran for a while at once', () => {
    expect(restartDelay(DEFAULT_RESTART_POLICY, 0)).toBe(0);
  });

  it('waits longer after each failed start, up to the cap, then gives up', () => {
    const waits = Array.from({ length: 9 }, (_, i) => restartDelay(DEFAULT_RESTART_POLICY, i + 1));
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, undefined, undefined]);
  });
});

describe('rotateIfLarge', () => {
  it('keeps every line written, in order, across rotations, and no more files than asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
    try {
      const file = join(dir, 'app.log');
      const lines: string[] = [];
      for (let i = 0; i < 40; i++) {
        const line = `line ${i} ${'x'.repeat(20)}\n`;
        lines.push(line);
        writeFileSync(file, line, { flag: 'a' });
        rotateIfLarge(file, { maxBytes: 100, keep: 3 });
      }
      const read = (name: string) => {
        try {
          return readFileSync(join(dir, name), 'utf8');
        } catch {
          return '';
        }
      };
      expect(read('app.log.4')).toBe('');
      const kept = read('app.log.3') + read('app.log.2') + read('app.log.1') + read('app.log');
      expect(lines.join('').endsWith(kept)).toBe(true);
      expect(read('app.log.1').length).toBeGreaterThan(100);
      expect(kept.length).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a small log alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
    try {
      writeFileSync(join(dir, 'app.log'), 'short\n');
      expect(rotateIfLarge(join(dir, 'app.log'), { maxBytes: 100, keep: 3 })).toBe(false);
      expect(readFileSync(join(dir, 'app.log'), 'utf8')).toBe('short\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('statusLines', () => {
  it('shows each process with its uptime, restarts, health and last exit', () => {
    const now = 1_000_000_000;
    const state: SupervisorState = {
      pid: 10,
      commandLine: 'node supervisor-main.js',
      startedAt: now - 3_700_000,
      units: [
        {
          name: 'nats',
          state: 'running',
          pid: 11,
          commandLine: 'nats-server',
          logFile: 'n.log',
          startedAt: now - 65_000,
          restarts: 0,
          healthy: true,
          checkedAt: now,
        },
        {
          name: 'intake',
          state: 'running',
          pid: 12,
          commandLine: 'node intake',
          logFile: 'i.log',
          startedAt: now - 9_000,
          restarts: 2,
          lastExit: { at: now - 10_000, status: 'SIGKILL' },
          lastRecoveryMs: 1_200,
          healthy: false,
          checkedAt: now,
        },
        {
          name: 'notify',
          state: 'crash-looping',
          commandLine: 'node notify',
          logFile: 'no.log',
          restarts: 8,
          healthy: false,
        },
      ],
    };
    const [head, , nats, intake, notify] = statusLines(state, now);
    expect(head).toBe('supervisor pid 10, up 1h 01m');
    expect(nats).toMatch(/^nats\s+running\s+11\s+1m 05s\s+0\s+healthy$/);
    expect(intake).toMatch(
      /^intake\s+running\s+12\s+9s\s+2\s+FAILING\s+last exit 10s ago \(SIGKILL\), serving again after 1\.2 s$/,
    );
    expect(notify).toMatch(/^notify\s+crash-looping\s+-\s+-\s+8\s+-$/);
  });
});
