/** The intake service, for the gateway, tests and benchmarks to start in-process. */
export { loadConfig, type IntakeConfig } from './config.js';
export { startIntake, VERSION, type RunningIntake } from './start.js';
