import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startImpact } from './start.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'impact', level: config.logLevel });
const impact = await startImpact(config, logger);
onShutdown(logger, [() => impact.stop()]);
