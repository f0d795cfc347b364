import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startNotify } from './start.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'notify', level: config.logLevel });
const notify = await startNotify(config, logger);
onShutdown(logger, [() => notify.stop()]);
