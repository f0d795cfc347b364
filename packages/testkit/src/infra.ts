/**
 * The parts of the test kit that work outside vitest (benchmarks, the local stack): starting
 * and breaking servers, names, waiting. `@beacon/testkit` adds the vitest fixtures.
 */
export {
  components,
  natsReady,
  TEMPORAL_NAMESPACE,
  TEMPORAL_SEARCH_ATTRIBUTES,
  type Component,
  type ComponentName,
  type ProcessOptions,
} from './components.js';
export { createTestCertificates, type TestCertificates } from './certificates.js';
export { startDedicated, type DedicatedOptions, type DedicatedServer } from './dedicated.js';
export {
  assertReplicasCurrent,
  startNatsCluster,
  type NatsCluster,
  type NatsClusterNode,
  type NatsClusterOptions,
} from './nats-cluster.js';
export {
  localNatsAdminCreds,
  localOperatorSetup,
  NATS_SERVICE_USERS,
  natsAuthDir,
  prepareLocalNatsAuth,
  type LocalNatsAuth,
  type NatsServiceUser,
} from './local-nats-auth.js';
export {
  COMPOSE_NATS_CONFIG,
  devIssuer,
  LOCAL_APPS,
  startLocalApps,
  stopLocalApps,
  writeComposeSecrets,
  type LocalApp,
  type LocalAppsOptions,
} from './local-apps.js';
export { testNames, type TestNames } from './names.js';
export { testIdentity } from './identities.js';
export { tokenCrafter, type CraftOptions, type TokenCrafter } from './crafted-tokens.js';
export {
  LOCAL_SERVICE_CLIENTS,
  localServiceClients,
  serviceIdentityEnv,
  startLocalIdentityProvider,
  type LocalServiceClient,
} from './dev-identity.js';
export { infraDir, installedBinary, repoRoot } from './paths.js';
export { grpcServing } from './health.js';
export { recordingLogger, type RecordedLine } from './recording-logger.js';
export { freePort } from './ports.js';
export { ManagedProcess, type ProcessSpec } from './process.js';
export { startStack, type Endpoints, type RunningStack, type StackOptions } from './stack.js';
export { waitFor, type WaitOptions } from './wait.js';
export {
  allServing,
  ensureSupervisedStack,
  runningSupervisor,
  stopSupervisedStack,
  type SupervisedStack,
  type SupervisedStackOptions,
} from './supervised-stack.js';
export {
  DEFAULT_RESTART_POLICY,
  restartDelay,
  Supervisor,
  type RestartPolicy,
  type SupervisorState,
  type Unit,
  type UnitStatus,
} from './supervisor.js';
export { DEFAULT_LOG_ROTATION, rotateIfLarge, type LogRotation } from './log-rotation.js';
export { timeSkippingEnvironment } from './temporal.js';
export { parsePrometheusText, Scrape, scrapeMetrics, type Sample } from './scrape.js';
export { NCISS_HIGH, NCISS_LOW } from './severity.js';
