import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startGateway } from './start.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'gateway', level: config.logLevel });
const gateway = await startGateway(config, logger);
onShutdown(logger, [() => gateway.stop()]);
