import type { SupervisorState, UnitStatus } from './supervisor.js';

/** `3h 05m`, `4m 12s`, `9s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line per process: what `make status` prints. */
export function statusLines(state: SupervisorState, now = Date.now()): string[] {
  const row = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd([18, 14, 8, 9, 9, 10][i] ?? 0))
      .join(' ')
      .trimEnd();
  const health = (u: UnitStatus) =>
    u.checkedAt === undefined ? '-' : `${u.healthy ? 'healthy' : 'FAILING'}`;
  const exit = (u: UnitStatus) =>
    u.lastExit
      ? `last exit ${duration(now - u.lastExit.at)} ago (${u.lastExit.status})${u.lastRecoveryMs === undefined ? '' : `, serving again after ${(u.lastRecoveryMs / 1000).toFixed(1)} s`}`
      : '';
  return [
    `supervisor pid ${state.pid}, up ${duration(now - state.startedAt)}`,
    row(['PROCESS', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'HEALTH', '']),
    ...state.units.map((u) =>
      row([
        u.name,
        u.state,
        u.pid === undefined ? '-' : String(u.pid),
        u.startedAt === undefined || u.pid === undefined ? '-' : duration(now - u.startedAt),
        String(u.restarts),
        health(u),
        exit(u),
      ]),
    ),
  ];
}

export function printStatus(state: SupervisorState): void {
  console.log(
    statusLines(state)
      .map((line) => `  ${line}`)
      .join('\n'),
  );
}
