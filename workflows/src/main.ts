import { createLogger, onShutdown, startTracing } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startWorkflows } from './start.js';
import { installTemporalLogging } from './worker.js';

const config = loadConfig(process.env);
// First: clients and servers made from here on are traced when OTEL_* asks for it.
const tracing = startTracing({ serviceName: 'workflows', env: process.env });
const logger = createLogger({ name: 'workflows', level: config.logLevel });
installTemporalLogging(logger, 'WARN', { metricsAddress: config.temporal.metricsAddress });
let stopWorkflows: () => Promise<void> = async () => {};
// Registered first, so a worker that dies even while the rest starts ends the process (exit 1)
// after the same orderly stop as on SIGTERM: Kubernetes then starts a new one.
const shutdown = onShutdown(logger, [() => tracing.shutdown(), () => stopWorkflows()]);
const workflows = await startWorkflows(config, logger, {
  onWorkerStopped: (verdict) => shutdown(1, verdict.reason),
});
stopWorkflows = () => workflows.stop();
