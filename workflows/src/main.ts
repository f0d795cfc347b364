import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startWorkflows } from './start.js';
import { installTemporalLogging } from './worker.js';

await runProcess({
  name: 'workflows',
  loadConfig,
  // A worker that dies even while the rest starts ends the process (exit 1) after the same
  // orderly stop as on SIGTERM: Kubernetes then starts a new one.
  endsItself: true,
  start: (config, logger, end) => {
    installTemporalLogging(logger, 'WARN', { metricsAddress: config.temporal.metricsAddress });
    return startWorkflows(config, logger, { onWorkerStopped: (verdict) => end(1, verdict.reason) });
  },
});
