import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startNotify } from './start.js';

await runProcess({ name: 'notify', loadConfig, start: (config, logger) => startNotify(config, logger) });
