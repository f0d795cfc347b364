import type { Logger } from './logger.js';

type Hook = () => Promise<void> | void;

/**
 * Runs the hooks once, in reverse order of registration (stop taking work before closing what
 * the work needs), on SIGTERM or SIGINT, then exits: 0, or 1 when a step failed. A second signal
 * exits at once. The returned function starts the same sequence from inside the process, for a
 * part that died and leaves the process useless (the workflows' Temporal worker); the process
 * then exits with `exitCode` (at least 1 when a step failed).
 */
export function onShutdown(
  logger: Logger,
  hooks: readonly Hook[],
): (exitCode: number, reason: string) => void {
  let started = false;
  const run = (exitCode: number) => {
    void (async () => {
      let code = exitCode;
      for (const hook of [...hooks].reverse()) {
        try {
          await hook();
        } catch (error) {
          code ||= 1;
          logger.error({ err: error }, 'shutdown step failed');
        }
      }
      process.exit(code);
    })();
  };
  const handler = (signal: NodeJS.Signals) => {
    if (started) process.exit(1);
    started = true;
    logger.info({ signal }, 'shutting down');
    run(0);
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  return (exitCode, reason) => {
    if (started) return;
    started = true;
    logger.info({ reason, exitCode }, 'shutting down');
    run(exitCode);
  };
}
