import { compareTlp, mayReceive, type Tlp } from '@beacon/domain';
import type { Incident } from './incident.js';

/** The parts of a verified caller that authorisation looks at. */
export interface Caller {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly agencyId: string | undefined;
  readonly clearance: Tlp;
}

const SEES_ALL = ['coordinator', 'auditor', 'service'];
const FILES_REPORTS = ['coordinator', 'agency_analyst', 'agency_admin'];
const COORDINATES = ['coordinator', 'service'];

const hasAny = (caller: Caller, roles: readonly string[]) => caller.roles.some((r) => roles.includes(r));

/**
 * Whether the caller may see the incident. Coordinators, auditors and Beacon services see every
 * incident. An agency sees one when it is a named recipient — the source whose report opened
 * it, or engaged by the coordinator — and cleared for its label, or when the label is CLEAR or
 * GREEN (the Beacon community) and within its clearance. Filing a correlated report does not
 * name an agency: under TLP the source and the coordinator choose recipients, not a match.
 */
export function canReadIncident(
  caller: Caller,
  incident: Pick<Incident, 'tlp' | 'engagedAgencyIds' | 'sourceAgencyId'>,
): boolean {
  if (hasAny(caller, SEES_ALL)) return true;
  const agency = caller.agencyId;
  if (!agency) return false;
  const named = incident.sourceAgencyId === agency || incident.engagedAgencyIds.includes(agency);
  if (!mayReceive(incident.tlp, { clearance: caller.clearance, named })) return false;
  return named || compareTlp(incident.tlp, 'GREEN') <= 0;
}

/** The same rule as `canReadIncident`, as a description a repository turns into a query. */
export type IncidentScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'agency'; readonly agencyId: string; readonly clearance: Tlp };

export function incidentScope(caller: Caller): IncidentScope {
  if (hasAny(caller, SEES_ALL)) return { kind: 'all' };
  if (!caller.agencyId) return { kind: 'none' };
  return { kind: 'agency', agencyId: caller.agencyId, clearance: caller.clearance };
}

export function canSubmitReport(caller: Caller): boolean {
  return (
    hasAny(caller, FILES_REPORTS) && (caller.agencyId !== undefined || caller.roles.includes('coordinator'))
  );
}

/** Opening, transitioning, re-scoring and engaging agencies are the coordination centre's calls. */
export function canCoordinate(caller: Caller): boolean {
  return hasAny(caller, COORDINATES);
}

/** Verifying the audit chain is for auditors and the coordination centre. */
export function canVerifyAudit(caller: Caller): boolean {
  return hasAny(caller, ['auditor', 'coordinator']);
}
