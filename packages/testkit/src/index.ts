/**
 * Real infrastructure for Beacon's tests, benchmarks and local runs: start and stop NATS,
 * the Mongo-wire store and Temporal as local processes (or containers), hand each test
 * isolated names, and break servers on purpose for fault tests.
 */
export {
  components,
  TEMPORAL_NAMESPACE,
  TEMPORAL_SEARCH_ATTRIBUTES,
  type Component,
  type ComponentName,
} from './components.js';
export { startDedicated, type DedicatedServer } from './dedicated.js';
export { test } from './fixtures.js';
export { testNames, type TestNames } from './names.js';
export { infraDir, installedBinary, repoRoot } from './paths.js';
export { freePort } from './ports.js';
export { ManagedProcess, type ProcessSpec } from './process.js';
export { startStack, type Endpoints, type RunningStack, type StackOptions } from './stack.js';
export { waitFor, type WaitOptions } from './wait.js';
export { timeSkippingEnvironment } from './temporal.js';
