import { runProcess } from '@beacon/platform';
import { loadConfig } from './config.js';
import { startIntake } from './start.js';

await runProcess({ name: 'intake', loadConfig, start: (config, logger) => startIntake(config, logger) });
