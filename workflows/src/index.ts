/**
 * Beacon's response orchestration on Temporal: the workflows' contract (ids, signals, updates,
 * queries), the activities against the real services, the worker, the incident starter, the
 * acknowledgement consumer and the response API.
 */
export { loadConfig, type WorkflowsConfig } from './config.js';
export { startWorkflows, VERSION, type RunningWorkflows, type StartOptions } from './start.js';
export {
  bundleResponseWorkflows,
  createResponseWorker,
  installTemporalLogging,
  WORKFLOWS_PATH,
} from './worker.js';
export { createActivities, type ActivityDeps, type VictimsPort } from './activities/create-activities.js';
export type * from './activities/types.js';
export { IncidentStarter } from './events/incident-starter.js';
export { AcknowledgementSignaller } from './events/acknowledgement-signaller.js';
export { IncidentChangeSignaller } from './events/incident-change-signaller.js';
export { responseGrpc } from './api/response-grpc.js';
export { DEFAULT_POLICY, type ResponsePolicy } from './domain/policy.js';
export type { AgencyProfile, AgencyKind } from './domain/engagement.js';
export * from './workflows/definitions.js';
