/**
 * The REST face of each RPC: one table drives the HTTP router and the OpenAPI document, so the
 * two cannot disagree. Paths follow Google's API design guide (custom methods after a colon).
 */
export interface Route {
  /** Fully qualified service and method, e.g. `beacon.intake.v1.IntakeService/SubmitReport`. */
  readonly service: string;
  readonly rpc: string;
  readonly method: 'GET' | 'POST';
  /** Path with `{field}` placeholders naming request fields (proto names). */
  readonly path: string;
  /** Whether the request body carries the rest of the request (POST) or the query does (GET). */
  readonly body: boolean;
  /** 201 for calls that create; 200 otherwise. */
  readonly created?: boolean;
  /** Honours the `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  readonly summary: string;
}

const INTAKE = 'beacon.intake.v1.IntakeService';
const IMPACT = 'beacon.impact.v1.ImpactService';
const NOTIFY = 'beacon.notify.v1.NotifyService';

export const ROUTES: readonly Route[] = [
  {
    service: INTAKE,
    rpc: 'SubmitReport',
    method: 'POST',
    path: '/v1/reports',
    body: true,
    created: true,
    idempotent: true,
    summary: 'File a report; it opens an incident or joins a correlated one',
  },
  {
    service: INTAKE,
    rpc: 'OpenIncident',
    method: 'POST',
    path: '/v1/incidents',
    body: true,
    created: true,
    idempotent: true,
    summary: 'Open an incident (coordinators)',
  },
  {
    service: INTAKE,
    rpc: 'ListIncidents',
    method: 'GET',
    path: '/v1/incidents',
    body: false,
    summary: 'Incidents the caller may see, newest first',
  },
  {
    service: INTAKE,
    rpc: 'GetIncident',
    method: 'GET',
    path: '/v1/incidents/{incident_id}',
    body: false,
    summary: 'One incident',
  },
  {
    service: INTAKE,
    rpc: 'TransitionIncident',
    method: 'POST',
    path: '/v1/incidents/{incident_id}:transition',
    body: true,
    summary: 'Move an incident along its lifecycle',
  },
  {
    service: INTAKE,
    rpc: 'UpdateSeverity',
    method: 'POST',
    path: '/v1/incidents/{incident_id}:updateSeverity',
    body: true,
    summary: 'Replace the severity inputs and recompute the score',
  },
  {
    service: INTAKE,
    rpc: 'AssignAgency',
    method: 'POST',
    path: '/v1/incidents/{incident_id}:assignAgency',
    body: true,
    summary: 'Engage an agency on an incident',
  },
  {
    service: INTAKE,
    rpc: 'GetTrends',
    method: 'GET',
    path: '/v1/trends',
    body: false,
    summary: 'Incidents opened per day or week by RSIT class, sector or jurisdiction',
  },
  {
    service: INTAKE,
    rpc: 'LookupIndicator',
    method: 'POST',
    path: '/v1/indicators:lookup',
    body: true,
    summary: 'Sightings of one indicator across incidents (the watchlist)',
  },
  {
    service: INTAKE,
    rpc: 'ExportIncidentStix',
    method: 'GET',
    path: '/v1/incidents/{incident_id}:exportStix',
    body: false,
    summary: 'The incident as a STIX 2.1 bundle',
  },
  {
    service: INTAKE,
    rpc: 'VerifyAuditChain',
    method: 'POST',
    path: '/v1/audit:verify',
    body: true,
    summary: 'Verify the hash-chained audit log (auditors)',
  },
  {
    service: IMPACT,
    rpc: 'PutAsset',
    method: 'POST',
    path: '/v1/assets',
    body: true,
    summary: 'Register an asset, or replace it at its current version (operators: their own)',
  },
  {
    service: IMPACT,
    rpc: 'ListAssets',
    method: 'GET',
    path: '/v1/assets',
    body: false,
    summary: 'Assets the caller may see, by id',
  },
  {
    service: IMPACT,
    rpc: 'GetAsset',
    method: 'GET',
    path: '/v1/assets/{asset_id}',
    body: false,
    summary: 'One asset and what it depends on',
  },
  {
    service: IMPACT,
    rpc: 'DeleteAsset',
    method: 'POST',
    path: '/v1/assets/{asset_id}:delete',
    body: true,
    summary: 'Remove an asset and every dependency naming it',
  },
  {
    service: IMPACT,
    rpc: 'PutDependency',
    method: 'POST',
    path: '/v1/dependencies',
    body: true,
    summary: 'Record that one asset depends on another',
  },
  {
    service: IMPACT,
    rpc: 'DeleteDependency',
    method: 'POST',
    path: '/v1/dependencies:delete',
    body: true,
    summary: 'Remove a dependency',
  },
  {
    service: IMPACT,
    rpc: 'ImportRegistry',
    method: 'POST',
    path: '/v1/registry:import',
    body: true,
    summary: 'Import one batch of assets and dependencies; bad rows are reported by number and field',
  },
  {
    service: IMPACT,
    rpc: 'ExportRegistry',
    method: 'GET',
    path: '/v1/registry:export',
    body: false,
    summary: 'The registry the caller may see, page by page',
  },
  {
    service: IMPACT,
    rpc: 'AssessImpact',
    method: 'POST',
    path: '/v1/assessments',
    body: true,
    created: true,
    summary: 'Assess the cascade of an incident or of a set of affected assets (coordinators)',
  },
  {
    service: IMPACT,
    rpc: 'GetAssessment',
    method: 'GET',
    path: '/v1/assessments/{assessment_id}',
    body: false,
    summary: 'One assessment',
  },
  {
    service: NOTIFY,
    rpc: 'PutAgency',
    method: 'POST',
    path: '/v1/agencies',
    body: true,
    summary: 'Register an agency or replace it at its version (coordinators)',
  },
  {
    service: NOTIFY,
    rpc: 'ListAgencies',
    method: 'GET',
    path: '/v1/agencies',
    body: false,
    summary: 'Registered agencies, by id',
  },
  {
    service: NOTIFY,
    rpc: 'GetAgency',
    method: 'GET',
    path: '/v1/agencies/{agency_id}',
    body: false,
    summary: 'One agency (coordinators, or the agency itself)',
  },
  {
    service: NOTIFY,
    rpc: 'PutSubscription',
    method: 'POST',
    path: '/v1/subscriptions',
    body: true,
    summary: 'Create or replace one of an agency’s subscriptions',
  },
  {
    service: NOTIFY,
    rpc: 'ListSubscriptions',
    method: 'GET',
    path: '/v1/agencies/{agency_id}/subscriptions',
    body: false,
    summary: 'An agency’s subscriptions',
  },
  {
    service: NOTIFY,
    rpc: 'DeleteSubscription',
    method: 'POST',
    path: '/v1/agencies/{agency_id}/subscriptions/{subscription_id}:delete',
    body: true,
    summary: 'Remove a subscription',
  },
  {
    service: NOTIFY,
    rpc: 'IssueFeedCredentials',
    method: 'POST',
    path: '/v1/agencies/{agency_id}:issueFeedCredentials',
    body: true,
    summary: 'NATS credentials that read only the agency’s own feed (shown once)',
  },
  {
    service: NOTIFY,
    rpc: 'Acknowledge',
    method: 'POST',
    path: '/v1/agencies/{agency_id}/incidents/{incident_id}:acknowledge',
    body: true,
    summary: 'The agency acknowledges its engagement on an incident',
  },
  {
    service: NOTIFY,
    rpc: 'ListDeliveries',
    method: 'GET',
    path: '/v1/agencies/{agency_id}/incidents/{incident_id}/deliveries',
    body: false,
    summary: 'Every delivery attempt to the agency for the incident',
  },
];
