import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startGateway } from './start.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'gateway', env: process.env });
const logger = createLogger({ name: 'gateway', level: config.logLevel });
const gateway = await startGateway(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => gateway.stop()]);
