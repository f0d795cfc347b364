import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startWorkflows } from './start.js';
import { installTemporalLogging } from './worker.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'workflows', env: process.env });
const logger = createLogger({ name: 'workflows', level: config.logLevel });
installTemporalLogging(logger, 'WARN', { metricsAddress: config.temporal.metricsAddress });
const workflows = await startWorkflows(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => workflows.stop()]);
