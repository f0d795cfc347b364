/**
 * The local stack's supervisor process: `node supervisor-main.js <dir> fixed|free ui|headless`.
 * Started detached by `make up` (or a test); runs until SIGTERM or SIGINT, then stops every
 * process in order. SIGUSR2 starts again what it left down as crash-looping.
 */
import { createLogger } from '@beacon/platform';
import { supervisedUnits, supervisorLog, supervisorStateFile } from './supervised-stack.js';
import { Supervisor } from './supervisor.js';

const [dir, ports, ui] = process.argv.slice(2);
if (!dir || (ports !== 'fixed' && ports !== 'free')) {
  console.error('usage: supervisor-main <dir> fixed|free ui|headless');
  process.exit(2);
}

const logger = createLogger({ name: 'supervisor' });
const log = (message: string, fields: Record<string, unknown> = {}) => logger.info(fields, message);

const { groups } = await supervisedUnits({ dir, ports, ui: ui === 'ui' }, process.env);
const supervisor = new Supervisor({
  groups,
  stateFile: supervisorStateFile(dir),
  ownLog: supervisorLog(dir),
  log,
});

let stopping: Promise<void> | undefined;
const stop = (signal: string) => {
  stopping ??= (async () => {
    log('stopping every process', { signal });
    await supervisor.stop();
    log('stopped');
    process.exit(0);
  })();
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGUSR2', () => {
  log('asked to start what is down');
  supervisor.retryCrashLooping();
});

log('supervisor started', { dir, ports });
await supervisor.start();
log('every process started');
