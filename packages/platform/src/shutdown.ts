import type { Logger } from './logger.js';

type Hook = () => Promise<void> | void;

/**
 * Runs the hooks once, in reverse order of registration (stop taking work before closing what
 * the work needs), on SIGTERM or SIGINT, then exits. A second signal exits at once.
 */
export function onShutdown(logger: Logger, hooks: readonly Hook[]): void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) process.exit(1);
    started = true;
    logger.info({ signal }, 'shutting down');
    void (async () => {
      let code = 0;
      for (const hook of [...hooks].reverse()) {
        try {
          await hook();
        } catch (error) {
          code = 1;
          logger.error({ err: error }, 'shutdown step failed');
        }
      }
      process.exit(code);
    })();
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
