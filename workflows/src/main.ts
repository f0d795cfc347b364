import { createLogger, onShutdown } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startWorkflows } from './start.js';
import { installTemporalLogging } from './worker.js';

const config = loadConfig(process.env);
const logger = createLogger({ name: 'workflows', level: config.logLevel });
installTemporalLogging(logger, 'WARN', { metricsAddress: config.temporal.metricsAddress });
const workflows = await startWorkflows(config, logger);
onShutdown(logger, [() => workflows.stop()]);
