import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startVictims } from './start.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'victims', env: process.env });
const logger = createLogger({ name: 'victims', level: config.logLevel });
const victims = await startVictims(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => victims.stop()]);
