import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startNotify } from './start.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'notify', env: process.env });
const logger = createLogger({ name: 'notify', level: config.logLevel });
const notify = await startNotify(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => notify.stop()]);
