// Every workflow of the response, for the worker's `workflowsPath`: one bundle, one task queue.
export { incidentResponse } from './incident-response.js';
export { agencyEngagement } from './agency-engagement.js';
export { regulatoryClock } from './regulatory-clock.js';
export { victimFollowUp } from './victim-follow-up.js';
export { victimFollowUps } from './victim-follow-ups.js';
