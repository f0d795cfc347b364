import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startIntake } from './start.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'intake', level: config.logLevel });
const intake = await startIntake(config, logger);
onShutdown(logger, [() => intake.stop()]);
