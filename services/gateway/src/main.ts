import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startGateway } from './start.js';

await runProcess({ name: 'gateway', loadConfig, start: (config, logger) => startGateway(config, logger) });
