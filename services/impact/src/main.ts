import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startImpact } from './start.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'impact', env: process.env });
const logger = createLogger({ name: 'impact', level: config.logLevel });
const impact = await startImpact(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => impact.stop()]);
