import { hasScope, type Principal } from '@beacon/domain';

/** The parts of a verified caller that authorisation looks at: the domain's principal. */
export type Caller = Principal;

const has = (caller: Caller, ...roles: string[]) => caller.roles.some((r) => roles.includes(r));
const own = (caller: Caller, agencyId: string) =>
  caller.agencyId !== undefined && caller.agencyId === agencyId;

/** Registering agencies, their clearance and remit, is the coordination centre's call. */
export function canRegisterAgencies(caller: Caller): boolean {
  return has(caller, 'coordinator');
}

/**
 * The registry: coordinators and a Beacon process whose job reads it (scope `agencies:read`)
 * all of it; an agency its own record.
 */
export function canReadAgency(caller: Caller, agencyId: string): boolean {
  return canListAgencies(caller) || (has(caller, 'agency_admin', 'agency_analyst') && own(caller, agencyId));
}

export function canListAgencies(caller: Caller): boolean {
  return has(caller, 'coordinator') || hasScope(caller, 'agencies:read');
}

/** Subscriptions, feed credentials: an agency's admin for its own agency, or the coordination centre. */
export function canManageAgency(caller: Caller, agencyId: string): boolean {
  return has(caller, 'coordinator') || (has(caller, 'agency_admin') && own(caller, agencyId));
}

/**
 * Reading an agency's feed and deliveries, acknowledging for it: the agency's own people. The
 * coordination centre reads any agency's deliveries but never acknowledges for one.
 */
export function canActForAgency(caller: Caller, agencyId: string): boolean {
  return has(caller, 'agency_admin', 'agency_analyst') && own(caller, agencyId);
}

export function canReadDeliveries(caller: Caller, agencyId: string): boolean {
  return has(caller, 'coordinator') || canActForAgency(caller, agencyId);
}

/**
 * Engagement notices are sent by the response worker (scope `engagements:notify`) or, by hand,
 * by a coordinator; never by an agency, which could otherwise page another agency's staff.
 */
export function canSendEngagementNotices(caller: Caller): boolean {
  return has(caller, 'coordinator') || hasScope(caller, 'engagements:notify');
}
