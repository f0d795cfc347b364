import { hasScope, isCoordinationCentre, mayEditOrganisation, type Principal } from '@beacon/domain';

/**
 * The parts of a verified caller that authorisation looks at: the trust model's principal.
 * A victim case's personal data carries no TLP label (trust model, "Labels"): it belongs to the
 * support organisations the case is assigned to, so clearance plays no part here, and no role
 * outside those organisations' victim officers reads it, whatever its clearance.
 */
export type Caller = Principal;

const has = (caller: Caller, ...roles: string[]) => caller.roles.some((r) => roles.includes(r));

/** The organisation a victim officer works for, or undefined for anyone else. */
export function officerOrganisation(caller: Caller): string | undefined {
  return has(caller, 'victim_officer') ? caller.agencyId : undefined;
}

/**
 * What a caller may do with one case, decided in two steps so that nothing leaks:
 *
 * - `refuse`: the caller's roles never allow this, whatever the case (PERMISSION_DENIED,
 *   answered before the case is even looked up, so it says nothing about whether it exists);
 * - `hidden`: a victim officer of an organisation the case is not assigned to (NOT_FOUND,
 *   the same answer as for a case that does not exist);
 * - `allow`.
 */
export type Decision = 'allow' | 'refuse' | 'hidden';

/** The case facts access depends on. */
export interface CaseAccessFacts {
  readonly ownerOrgId: string;
  readonly assignedOrgIds: readonly string[];
}

/** Reading and changing a case, personal data included: its assigned organisations' officers only. */
export function caseWorkAccess(caller: Caller, facts: CaseAccessFacts | undefined): Decision {
  const org = officerOrganisation(caller);
  if (!org) return 'refuse';
  return facts && facts.assignedOrgIds.includes(org) ? 'allow' : 'hidden';
}

/** Closing and erasing are for the organisation that opened the case (its controller). */
export function caseOwnerAccess(caller: Caller, facts: CaseAccessFacts | undefined): Decision {
  const org = officerOrganisation(caller);
  if (!org) return 'refuse';
  if (!facts || !facts.assignedOrgIds.includes(org)) return 'hidden';
  return facts.ownerOrgId === org ? 'allow' : 'refuse';
}

/**
 * The follow-up schedule and check-ins carry no personal data: the response worker (scope
 * `victims:follow-up`) reaches every case; officers their own.
 */
export function followUpAccess(caller: Caller, facts: CaseAccessFacts | undefined): Decision {
  if (hasScope(caller, 'victims:follow-up')) return 'allow';
  return caseWorkAccess(caller, facts);
}

/**
 * Whose cases a caller lists: an officer their organisation's; the response worker (scope
 * `victims:follow-up`, following up an incident's victims) every organisation's cases of one
 * incident, shown as `followUpSummary` — which cases and when they are due, nothing of the
 * victim, their needs or their screening. Anyone else none.
 */
export function caseListScope(
  caller: Caller,
  incidentId: string | undefined,
): { readonly org: string } | { readonly incident: string } | undefined {
  const org = officerOrganisation(caller);
  if (org) return { org };
  if (hasScope(caller, 'victims:follow-up') && incidentId) return { incident: incidentId };
  return undefined;
}

/**
 * How much of a listed case a caller sees: an officer the summary of its organisation's cases;
 * the response worker the follow-up view only — which case, its status and when it is due.
 */
export function caseListView(caller: Caller): 'summary' | 'follow-up' {
  return officerOrganisation(caller) ? 'summary' : 'follow-up';
}

/** Only a victim officer opens cases, always for their own organisation. */
export function canOpenCase(caller: Caller): boolean {
  return officerOrganisation(caller) !== undefined;
}

/**
 * Statistics: counts and needs, never identities, every small count suppressed
 * (`releaseStats`). The coordination centre (coordinators and auditors) counts every
 * case; a victim officer their organisation's. Statistics are all the centre sees of victims.
 */
export type StatsScope = { readonly kind: 'all' } | { readonly kind: 'organisation'; readonly orgId: string };

export function statsScope(caller: Caller): StatsScope | undefined {
  if (isCoordinationCentre(caller)) return { kind: 'all' };
  const org = officerOrganisation(caller);
  return org ? { kind: 'organisation', orgId: org } : undefined;
}

/** Registering support organisations is the coordination centre's call. */
export function canRegisterOrganisation(caller: Caller): boolean {
  return has(caller, 'coordinator');
}

/**
 * Coordinators, and an organisation's own admins; which fields each may change is the trust
 * policy's `mayChangeOrganisationField` (admins never the vetting ones).
 */
export function canUpdateOrganisation(caller: Caller, orgId: string): boolean {
  return mayEditOrganisation(caller, orgId);
}

export function canListOrganisations(caller: Caller): boolean {
  return has(caller, 'coordinator', 'victim_officer', 'agency_admin');
}

/** An organisation's referral inbox: its own victim officers. */
export function canReadReferralsOf(caller: Caller, orgId: string): boolean {
  return officerOrganisation(caller) === orgId;
}

/** Re-wrapping keys is an operator's key-rotation job, run with its own service identity. */
export function canRewrapKeys(caller: Caller): boolean {
  return hasScope(caller, 'victims:rewrap-keys');
}

export function canVerifyAudit(caller: Caller): boolean {
  return has(caller, 'auditor', 'coordinator');
}

export function canListAudit(caller: Caller): boolean {
  return has(caller, 'auditor');
}

/**
 * The status lookup reveals only a status, to whoever holds the reference: any
 * authenticated caller (a victim portal calls with its service identity).
 */
export function canLookupStatus(_caller: Caller): boolean {
  return true;
}
