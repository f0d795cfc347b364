import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startImpact } from './start.js';

await runProcess({ name: 'impact', loadConfig, start: (config, logger) => startImpact(config, logger) });
