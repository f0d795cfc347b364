import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startVictims } from './start.js';

await runProcess({ name: 'victims', loadConfig, start: (config, logger) => startVictims(config, logger) });
