/**
 * What each Beacon process may do (trust model, "Principals"): a service identity holds no
 * powers of a role, only the scopes its token carries (RFC 9068 `scope`), one per operation its
 * own job needs. Each service asks `hasScope` for the operation at hand; a service identity
 * without the scope is refused as any other caller would be.
 */
export const SERVICE_SCOPES = {
  'incidents:read': 'read and list incidents as the coordination centre does, within its clearance',
  'incidents:transition': "move an incident through its lifecycle (the response's triage and closing)",
  'incidents:severity': 'record a new severity score on an incident',
  'incidents:engage': 'assign and unassign agencies on an incident',
  'impact:assess': "assess an incident's cascade over the whole dependency registry",
  'agencies:read': 'read the agency registry: remit, clearance, contacts',
  'engagements:notify': 'send an agency the notice that it is engaged on an incident',
  'victims:follow-up':
    "list an incident's victim cases by id and status, read and record their follow-up; no personal data, no screening",
  'victims:rewrap-keys': "re-wrap the victims' data keys under the current key-encryption key",
} as const;
export type ServiceScope = keyof typeof SERVICE_SCOPES;

/** The scopes each Beacon process's identity is issued: its job, nothing more. */
export const PROCESS_SCOPES = {
  /** The response worker: triage, engagement, escalation, victim follow-up. */
  workflows: [
    'incidents:read',
    'incidents:transition',
    'incidents:severity',
    'incidents:engage',
    'impact:assess',
    'agencies:read',
    'engagements:notify',
    'victims:follow-up',
  ],
  /** Impact feeds the cascade's severity back to intake. */
  impact: ['incidents:read', 'incidents:severity'],
  /** An operator's key-rotation job. */
  'key-rotation': ['victims:rewrap-keys'],
} as const satisfies Record<string, readonly ServiceScope[]>;
export type BeaconProcess = keyof typeof PROCESS_SCOPES;

export function isServiceScope(value: string): value is ServiceScope {
  return Object.hasOwn(SERVICE_SCOPES, value);
}

/** The parts of a verified caller a scope check looks at. */
export interface ScopedCaller {
  readonly roles: readonly string[];
  /** The token's scopes; only a service identity's count. */
  readonly scopes?: readonly string[] | undefined;
}

/**
 * Whether the caller is a Beacon service identity holding `scope`. A person's token never
 * passes, whatever `scope` claim its issuer added (OpenID Connect puts `openid profile` there).
 */
export function hasScope(caller: ScopedCaller, scope: ServiceScope): boolean {
  return caller.roles.includes('service') && (caller.scopes ?? []).includes(scope);
}
