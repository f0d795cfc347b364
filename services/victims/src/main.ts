import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startVictims } from './start.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'victims', level: config.logLevel });
const victims = await startVictims(config, logger);
onShutdown(logger, [() => victims.stop()]);
