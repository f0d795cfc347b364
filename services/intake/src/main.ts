import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startIntake } from './start.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'intake', env: process.env });
const logger = createLogger({ name: 'intake', level: config.logLevel });
const intake = await startIntake(config, logger);
onShutdown(logger, [() => tracing.shutdown(), () => intake.stop()]);
