/**
 * Beacon's trust model (shared/TRUST-MODEL.md) as one pure policy: who may see and change
 * what, across agencies, over time. Every service, the gateway, the feeds, the exports and the
 * statistics ask these functions; none writes its own "may this caller see this".
 *
 * Every answer is computed from the caller and the object as they are *now*: an agency removed
 * from an incident, or whose clearance dropped, is answered by its current standing, whatever
 * it was shown before.
 */
import { hasScope, type ServiceScope } from './service-scopes.js';
import { compareTlp, mostRestrictive, TLP_LEVELS, type Tlp } from './tlp.js';

/** The roles a verified token may carry. */
export const PRINCIPAL_ROLES = [
  'coordinator',
  'agency_analyst',
  'agency_admin',
  'victim_officer',
  'auditor',
  /** A Beacon process acting on its own behalf (internal network only). */
  'service',
] as const;
export type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];

/** The parts of a verified caller the policy looks at. */
export interface Principal {
  readonly subject: string;
  readonly roles: readonly string[];
  /** The caller's agency or organisation; absent for the coordination centre and services. */
  readonly agencyId: string | undefined;
  /** The highest label the caller is cleared for. It bounds every role. */
  readonly clearance: Tlp;
  /** A service identity's scopes (`service-scopes.ts`); a person's count for nothing. */
  readonly scopes?: readonly string[] | undefined;
}

/** Who an object above GREEN is shared with, besides the coordination centre. */
export interface Recipients {
  readonly tlp: Tlp;
  /** The agency whose report opened the incident, if an agency's. */
  readonly sourceAgencyId?: string | undefined;
  /** The agencies engaged on the incident now. */
  readonly engagedAgencyIds: readonly string[];
}

const hasRole = (caller: Principal, ...roles: readonly PrincipalRole[]) =>
  caller.roles.some((r) => (roles as readonly string[]).includes(r));

/** Within the caller's clearance: the first test of every read, for every role. */
export function withinClearance(caller: Pick<Principal, 'clearance'>, tlp: Tlp): boolean {
  return compareTlp(tlp, caller.clearance) <= 0;
}

/** CLEAR and GREEN: the Beacon community, not named recipients only. */
export function isCommunityLabel(tlp: Tlp): boolean {
  return compareTlp(tlp, 'GREEN') <= 0;
}

/**
 * The coordination centre's people read every incident within their clearance: coordinators
 * and auditors (who read to check, and change nothing).
 */
export function isCoordinationCentre(caller: Principal): boolean {
  return hasRole(caller, 'coordinator', 'auditor');
}

/** Reads as the centre does: its people, and a Beacon process whose job needs it. */
function readsAsCentre(caller: Principal): boolean {
  return isCoordinationCentre(caller) || hasScope(caller, 'incidents:read');
}

/** Whether the caller's agency is named on the object now: its source, or engaged on it. */
export function isNamedAgency(agencyId: string | undefined, object: Omit<Recipients, 'tlp'>): boolean {
  if (agencyId === undefined) return false;
  return object.sourceAgencyId === agencyId || object.engagedAgencyIds.includes(agencyId);
}

/**
 * The reading rule: clearance at least the object's label, and either a community label
 * (CLEAR, GREEN) or a named recipient now (the source agency, an engaged agency, the
 * coordination centre). A caller with neither an agency nor a centre role reads nothing.
 */
export function mayRead(caller: Principal, object: Recipients): boolean {
  if (!withinClearance(caller, object.tlp)) return false;
  if (readsAsCentre(caller)) return true;
  if (caller.agencyId === undefined) return false;
  return isCommunityLabel(object.tlp) || isNamedAgency(caller.agencyId, object);
}

/** The same rule for an agency as a recipient of pushed data (feeds, webhooks, e-mail). */
export function agencyMayReceive(
  agency: { readonly id: string; readonly clearance: Tlp },
  object: Recipients,
): boolean {
  return mayRead(
    { subject: agency.id, roles: ['agency_analyst'], agencyId: agency.id, clearance: agency.clearance },
    object,
  );
}

/**
 * `mayRead` as a description a repository turns into a query:
 * - `none`: nothing;
 * - `centre`: every object whose label is one of `labels`;
 * - `agency`: objects whose label is one of `labels` and either one of `communityLabels` or
 *   naming `agencyId` as source or engaged agency.
 */
export type ReadScope =
  | { readonly kind: 'none' }
  | { readonly kind: 'centre'; readonly labels: readonly Tlp[] }
  | {
      readonly kind: 'agency';
      readonly agencyId: string;
      readonly labels: readonly Tlp[];
      readonly communityLabels: readonly Tlp[];
    };

export function readScope(caller: Principal): ReadScope {
  const labels = TLP_LEVELS.filter((tlp) => withinClearance(caller, tlp));
  if (readsAsCentre(caller)) return { kind: 'centre', labels };
  if (caller.agencyId === undefined) return { kind: 'none' };
  return {
    kind: 'agency',
    agencyId: caller.agencyId,
    labels,
    communityLabels: labels.filter(isCommunityLabel),
  };
}

/** Whether an object is inside a scope: `mayRead`, answered from the scope alone. */
export function inScope(scope: ReadScope, object: Recipients): boolean {
  switch (scope.kind) {
    case 'none':
      return false;
    case 'centre':
      return scope.labels.includes(object.tlp);
    case 'agency':
      return (
        scope.labels.includes(object.tlp) &&
        (scope.communityLabels.includes(object.tlp) || isNamedAgency(scope.agencyId, object))
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Changing

/**
 * The coordinator commands on an incident. Coordinators issue every one; a Beacon process only
 * those its scopes name (the response worker moves, rescores and engages; nothing else).
 */
export type IncidentCommand = 'open' | 'revise' | 'transition' | 'severity' | 'engage' | 'respond';

const COMMAND_SCOPES: Partial<Record<IncidentCommand, ServiceScope>> = {
  transition: 'incidents:transition',
  severity: 'incidents:severity',
  engage: 'incidents:engage',
};

/**
 * Whether the caller may ever issue this command, whatever the incident: the role half of
 * `mayCommand`, for refusing a caller outright before any incident is looked at.
 */
export function mayIssueCommands(caller: Principal, command: IncidentCommand): boolean {
  if (hasRole(caller, 'coordinator')) return true;
  const scope = COMMAND_SCOPES[command];
  return scope !== undefined && hasScope(caller, scope);
}

/** A coordinator command on an incident it may read (`IncidentCommand`). */
export function mayCommand(caller: Principal, incident: Recipients, command: IncidentCommand): boolean {
  return mayIssueCommands(caller, command) && mayRead(caller, incident);
}

/** Verifying the audit chain: auditors, who check, and coordinators. It reveals no content. */
export function mayVerifyAudit(caller: Principal): boolean {
  return hasRole(caller, 'auditor', 'coordinator');
}

/**
 * Whether the caller may ever acknowledge this agency's engagements, whatever the incident: the
 * agency's own analysts and admins, or a coordinator on its behalf. The role half of
 * `mayAcknowledge`, for refusing a caller outright before any incident is looked at.
 */
export function mayAcknowledgeFor(caller: Principal, agencyId: string): boolean {
  if (hasRole(caller, 'coordinator')) return true;
  return hasRole(caller, 'agency_analyst', 'agency_admin') && caller.agencyId === agencyId;
}

/**
 * Acknowledging an agency's engagement on an incident: `mayAcknowledgeFor`, on an incident the
 * caller may read now. An agency removed from an incident, or no longer cleared for it, answers
 * for it no more.
 */
export function mayAcknowledge(caller: Principal, agencyId: string, incident: Recipients): boolean {
  return mayAcknowledgeFor(caller, agencyId) && mayRead(caller, incident);
}

/**
 * Whether the caller may ever read a response (an incident's engagements, deadlines and
 * timeline), whatever the incident: the coordination centre, and agencies' analysts and admins
 * (on an incident their agency is engaged on: `mayReadResponse`). The role half, for refusing
 * a caller outright before any incident is looked at.
 */
export function mayReadResponses(caller: Principal): boolean {
  if (isCoordinationCentre(caller)) return true;
  return hasRole(caller, 'agency_analyst', 'agency_admin') && caller.agencyId !== undefined;
}

/**
 * Reading an incident's response: the coordination centre within its clearance; an agency's
 * analysts and admins while their agency is engaged on the incident now and they may read it.
 * A response tells who else is engaged, every deadline and every step taken, which is the
 * engaged agencies' business, not the community's: a GREEN incident's response is not shown to
 * an agency that merely may read the incident. Commands stay the coordinators' (`mayCommand`).
 */
export function mayReadResponse(caller: Principal, incident: Recipients): boolean {
  if (!mayReadResponses(caller) || !mayRead(caller, incident)) return false;
  if (isCoordinationCentre(caller)) return true;
  return caller.agencyId !== undefined && incident.engagedAgencyIds.includes(caller.agencyId);
}

/**
 * Whether the caller may list this agency's engagements (which incidents engage it, how far
 * each stands): the agency's own analysts and admins, and the coordination centre for any
 * agency. Decided by role and agency alone, the same for every agency id, so a refusal tells
 * nothing; each engagement listed is then shown only if the caller may read its incident now.
 */
export function mayListEngagementsOf(caller: Principal, agencyId: string): boolean {
  if (isCoordinationCentre(caller)) return true;
  return hasRole(caller, 'agency_analyst', 'agency_admin') && caller.agencyId === agencyId;
}

/** Filing reports: coordinators, and agencies' analysts and admins for their own agency. */
export function mayFileReports(caller: Principal): boolean {
  if (hasRole(caller, 'coordinator')) return true;
  return hasRole(caller, 'agency_analyst', 'agency_admin') && caller.agencyId !== undefined;
}

/**
 * Whether a report may join a matching incident. Only when its reporter may read the incident
 * and the report is not labelled more restrictively: a report never changes an incident its
 * reporter cannot read, nor hides it from anyone who could read it before. Otherwise the
 * report opens an incident of its own, related to this one (`possibleRelation`).
 */
export function mayJoin(reporter: Principal, reportTlp: Tlp, incident: Recipients): boolean {
  return mayFileReports(reporter) && mayRead(reporter, incident) && labelAllowsJoin(reportTlp, incident.tlp);
}

/**
 * The label half of `mayJoin`: a report joins only an incident labelled at least as
 * restrictively, so joining never narrows who may read it. Checked again when a planned join is
 * carried out, since a coordinator may have relabelled the incident meanwhile.
 */
export function labelAllowsJoin(reportTlp: Tlp, incidentTlp: Tlp): boolean {
  return compareTlp(reportTlp, incidentTlp) <= 0;
}

/**
 * Whether a joining report may revise the incident's own facts (awareness time, label,
 * severity inputs): only when it is the source agency's own report. Anyone else's report keeps
 * its awareness time and label to itself; a coordinator revises them by command.
 */
export function reportRevisesIncident(reporter: Principal, incident: Recipients): boolean {
  return reporter.agencyId !== undefined && reporter.agencyId === incident.sourceAgencyId;
}

/**
 * Whether a severity change may be recorded as impact's cascade rather than as a person's
 * judgement: only from a Beacon process allowed to change severity (impact itself, or the
 * response worker passing on impact's assessment). A person's change is always recorded as
 * theirs, so the incident's record of where each input came from cannot be dressed up.
 */
export function mayRecordCascade(caller: Principal): boolean {
  return hasScope(caller, 'incidents:severity');
}

// ---------------------------------------------------------------------------------------------
// Possible relations and merges

/** The label a relation between two incidents carries: the more restrictive of theirs. */
export function relationLabel(a: Tlp, b: Tlp): Tlp {
  return mostRestrictive(a, b);
}

/**
 * A possible relation between two incidents (they share indicators across a boundary) is shown
 * only to coordinators cleared for both.
 */
export function mayReadRelation(caller: Principal, labels: readonly [Tlp, Tlp]): boolean {
  return hasRole(caller, 'coordinator') && labels.every((tlp) => withinClearance(caller, tlp));
}

/**
 * Whether the caller's role may ever merge incidents, whatever they are: the role half of
 * `mayMerge`, for refusing a caller outright (PERMISSION_DENIED) before any incident is looked at.
 */
export function mayIssueMerges(caller: Principal): boolean {
  return hasRole(caller, 'coordinator');
}

/** Merging is a coordinator's command over two incidents it may both read. */
export function mayMerge(caller: Principal, survivor: Recipients, merged: Recipients): boolean {
  return mayIssueMerges(caller) && mayRead(caller, survivor) && mayRead(caller, merged);
}

/**
 * The agencies a merge takes access from: those among `candidates` that could receive either
 * incident before it and cannot receive the survivor after it (its label rose above their
 * clearance, or they were named only on the merged incident). Computed with the reading rule
 * itself, so the notice they get is exactly as wide as the access they lost.
 */
export function agenciesLosingAccess(
  candidates: readonly { readonly id: string; readonly clearance: Tlp }[],
  before: readonly Recipients[],
  after: Recipients,
): string[] {
  return candidates
    .filter((agency) => before.some((object) => agencyMayReceive(agency, object)))
    .filter((agency) => !agencyMayReceive(agency, after))
    .map((agency) => agency.id);
}

// ---------------------------------------------------------------------------------------------
// Labelled collections (assessments)

/** The label of something that names several labelled objects: the most restrictive of them. */
export function combinedLabel(labels: readonly Tlp[], floor: Tlp = 'CLEAR'): Tlp {
  return mostRestrictive(floor, ...labels);
}

/**
 * Splits labelled items into those within the caller's clearance and how many were left out,
 * so a view can be honest about what it does not show.
 */
export function partitionByClearance<T extends { readonly tlp: Tlp }>(
  caller: Pick<Principal, 'clearance'>,
  items: readonly T[],
): { readonly shown: T[]; readonly withheld: number } {
  const shown = items.filter((item) => withinClearance(caller, item.tlp));
  return { shown, withheld: items.length - shown.length };
}

// ---------------------------------------------------------------------------------------------
// Statistics about people

/** No count of people below this is ever shown, whatever a deployment configures. */
export const MIN_DISCLOSURE_THRESHOLD = 5;

/** A count as released: the number, or suppressed because it is too small to be safe. */
export type ReleasedCount =
  { readonly suppressed: false; readonly count: number } | { readonly suppressed: true };

/** The threshold a deployment asked for, never below the minimum. */
export function disclosureThreshold(configured: number = MIN_DISCLOSURE_THRESHOLD): number {
  return Math.max(MIN_DISCLOSURE_THRESHOLD, Math.ceil(configured));
}

/**
 * Suppresses a count of people under the threshold (zero is released: it singles nobody out).
 */
export function releaseCount(count: number, threshold: number = MIN_DISCLOSURE_THRESHOLD): ReleasedCount {
  return count > 0 && count < disclosureThreshold(threshold)
    ? { suppressed: true }
    : { suppressed: false, count };
}

/**
 * Releases counts that partition a whole (each person in exactly one part, e.g. cases by
 * status), so that no suppressed part can be recovered by subtracting the others from the
 * whole: when exactly one non-zero part would be suppressed, the smallest other non-zero part
 * is suppressed with it. `forced` marks parts already suppressed elsewhere (a count shared by
 * several partitions must be suppressed in all of them or in none).
 */
export function releasePartition(
  parts: readonly number[],
  threshold: number = MIN_DISCLOSURE_THRESHOLD,
  forced: readonly boolean[] = [],
): ReleasedCount[] {
  const released = parts.map((count, i): ReleasedCount =>
    forced[i] && count > 0 ? { suppressed: true } : releaseCount(count, threshold),
  );
  if (released.filter((r) => r.suppressed).length !== 1) return released;
  let smallest: number | undefined;
  released.forEach((r, i) => {
    if (!r.suppressed && r.count > 0 && (smallest === undefined || r.count < parts[smallest]!)) smallest = i;
  });
  if (smallest !== undefined) released[smallest] = { suppressed: true };
  return released;
}

// ---------------------------------------------------------------------------------------------
// Organisations' registry records

/**
 * What makes an organisation trusted, and so what referrals, engagements and labelled data are
 * routed to it: the coordination centre's to set (TRUST-MODEL "People's data"). By the names the
 * registries use: the name it was vetted under, its kind, its remit (`needsCovered` for a
 * support organisation, `sectors` for an agency), whether it takes victims at risk, where it
 * serves, how many referrals it holds, and its clearance.
 */
export const VETTING_FIELDS = [
  'name',
  'kind',
  'crisisCapable',
  'needsCovered',
  'sectors',
  'jurisdictions',
  'capacity',
  'clearance',
] as const;
export type VettingField = (typeof VETTING_FIELDS)[number];

export function isVettingField(field: string): field is VettingField {
  return (VETTING_FIELDS as readonly string[]).includes(field);
}

/** Whether the caller may edit an organisation's record at all: coordinators, or its own admins. */
export function mayEditOrganisation(caller: Principal, orgId: string): boolean {
  return hasRole(caller, 'coordinator') || (hasRole(caller, 'agency_admin') && caller.agencyId === orgId);
}

/**
 * Whether the caller may change one field of an organisation's record: coordinators any field;
 * the organisation's own admins only what is not vetting (its contacts, people, languages and
 * whether it is taking referrals now), never what would make it look more trusted than the
 * centre judged it.
 */
export function mayChangeOrganisationField(caller: Principal, orgId: string, field: string): boolean {
  if (hasRole(caller, 'coordinator')) return true;
  return mayEditOrganisation(caller, orgId) && !isVettingField(field);
}
