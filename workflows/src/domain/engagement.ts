/**
 * Which agencies an incident's response engages, and how each engagement escalates when
 * nobody answers. Pure and free of Node built-ins: the response workflow runs these rules.
 */
import {
  classification,
  isCriminal,
  isWithin,
  mayReceive,
  parseJurisdiction,
  type Tlp,
} from '@beacon/domain';

export const AGENCY_KINDS = ['csirt', 'law-enforcement', 'regulator', 'operator', 'victim-support'] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

/** What the response knows of a registered agency (from notify's registry). */
export interface AgencyProfile {
  readonly id: string;
  readonly name: string;
  readonly kind: AgencyKind;
  readonly jurisdictions: readonly string[];
  readonly sectors: readonly string[];
  readonly clearance: Tlp;
  /** The escalation chain, first contact first (duty officer, deputy, head, national SPOC). */
  readonly contacts: readonly { readonly role: string; readonly name: string }[];
}

/** What the engagement rules look at. */
export interface EngagementFacts {
  readonly rsitClass: string;
  readonly rsitType: string;
  /** Sectors the incident names. */
  readonly sectors: readonly string[];
  /** Sectors its cascade reaches beyond those (from the impact assessment). */
  readonly sectorsReached: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly ncissLevel: number;
  readonly tlp: Tlp;
  /** Agencies the coordinator already engaged in intake. */
  readonly engagedAgencyIds: readonly string[];
}

export interface EngagementDecision {
  readonly agencyId: string;
  readonly reasons: readonly string[];
}

export interface Decisions {
  readonly engage: readonly EngagementDecision[];
  /** Agencies the rules would engage but whose clearance is below the incident's label. */
  readonly notCleared: readonly EngagementDecision[];
}

/**
 * The levels at which the rules reach further: sector regulators from a significant incident
 * (Medium, 2: when NIS2 reporting starts), operators in affected sectors from High (3), when a
 * cascade is plausible enough to warn them.
 */
export const ENGAGEMENT_THRESHOLDS = { regulatorLevel: 2, operatorLevel: 3 } as const;

/** RSIT classes whose incidents usually have members of the public as victims. */
const PUBLIC_VICTIM_CLASSES: ReadonlySet<string> = new Set([
  'fraud',
  'abusive-content',
  'information-content-security',
]);

/**
 * The agencies to engage, each with the reasons, in id order:
 * - any agency the coordinator engaged;
 * - CSIRTs whose remit covers a jurisdiction of the incident (`DE` covers `DE-BY`);
 * - law enforcement in remit when the classification suggests a crime;
 * - regulators in remit for a named or reached sector, from a significant incident on;
 * - operators in remit in a named or reached sector, from a high-level incident on;
 * - victim support in remit when the public is likely to be harmed.
 * An agency not cleared for the incident's label is never engaged (it could not read it).
 */
export function decideEngagements(facts: EngagementFacts, agencies: readonly AgencyProfile[]): Decisions {
  const incidentJurisdictions = facts.jurisdictions.flatMap((j) => {
    const parsed = parseJurisdiction(j);
    return parsed ? [parsed] : [];
  });
  const sectors = new Set([...facts.sectors, ...facts.sectorsReached]);
  const classified = classification(facts.rsitClass, facts.rsitType);
  const criminal = classified !== undefined && isCriminal(classified);
  const engage: EngagementDecision[] = [];
  const notCleared: EngagementDecision[] = [];

  for (const agency of [...agencies].sort((a, b) => a.id.localeCompare(b.id))) {
    const remit = incidentJurisdictions.filter((j) =>
      agency.jurisdictions.some((a) => {
        const outer = parseJurisdiction(a);
        return outer !== undefined && isWithin(j, outer);
      }),
    );
    const sharedSectors = agency.sectors.filter((s) => sectors.has(s));
    const reasons: string[] = [];
    if (facts.engagedAgencyIds.includes(agency.id)) reasons.push('engaged by the coordinator');
    if (remit.length > 0) {
      const where = remit.join(', ');
      switch (agency.kind) {
        case 'csirt':
          reasons.push(`CSIRT for ${where}`);
          break;
        case 'law-enforcement':
          if (criminal) reasons.push(`suspected crime (${facts.rsitClass}/${facts.rsitType}) in ${where}`);
          break;
        case 'regulator':
          if (sharedSectors.length > 0 && facts.ncissLevel >= ENGAGEMENT_THRESHOLDS.regulatorLevel) {
            reasons.push(
              `regulator for ${sharedSectors.join(', ')} in ${where}, NCISS level ${facts.ncissLevel}`,
            );
          }
          break;
        case 'operator':
          if (sharedSectors.length > 0 && facts.ncissLevel >= ENGAGEMENT_THRESHOLDS.operatorLevel) {
            reasons.push(
              `operator in ${sharedSectors.join(', ')} in ${where}, NCISS level ${facts.ncissLevel}`,
            );
          }
          break;
        case 'victim-support':
          if (PUBLIC_VICTIM_CLASSES.has(facts.rsitClass)) {
            reasons.push(`victim support in ${where}: ${facts.rsitClass} harms members of the public`);
          }
          break;
      }
    }
    if (reasons.length === 0) continue;
    if (!mayReceive(facts.tlp, { clearance: agency.clearance, named: true })) {
      notCleared.push({
        agencyId: agency.id,
        reasons: [...reasons, `not cleared for TLP:${facts.tlp} (clearance TLP:${agency.clearance})`],
      });
      continue;
    }
    engage.push({ agencyId: agency.id, reasons });
  }
  return { engage, notCleared };
}

/** One step of an engagement's escalation: notify this agency's contact at this rank. */
export interface EscalationStep {
  readonly agencyId: string;
  readonly contactRank: number;
  readonly role: string;
  /** Set when the step reaches another agency (a national SPOC) about this one's engagement. */
  readonly onBehalfOf?: string;
}

const SPOC_ROLE = 'national-spoc';
const SPOC_KIND_PREFERENCE: readonly AgencyKind[] = [
  'csirt',
  'regulator',
  'law-enforcement',
  'operator',
  'victim-support',
];

/**
 * The agency's contacts in order, then — unless its own chain already ends at a national
 * single point of contact — the national SPOC of its country: another agency registered for
 * that country with a `national-spoc` contact (a CSIRT preferred, then a regulator).
 */
export function escalationChain(agency: AgencyProfile, registry: readonly AgencyProfile[]): EscalationStep[] {
  const steps: EscalationStep[] = agency.contacts.map((contact, rank) => ({
    agencyId: agency.id,
    contactRank: rank,
    role: contact.role,
  }));
  if (agency.contacts.some((c) => c.role === SPOC_ROLE)) return steps;
  const countries = new Set(
    agency.jurisdictions.flatMap((j) => {
      const parsed = parseJurisdiction(j);
      return parsed ? [parsed.slice(0, 2)] : [];
    }),
  );
  const spoc = registry
    .filter(
      (other) =>
        other.id !== agency.id &&
        other.contacts.some((c) => c.role === SPOC_ROLE) &&
        other.jurisdictions.some((j) => countries.has(j)),
    )
    .sort(
      (a, b) =>
        SPOC_KIND_PREFERENCE.indexOf(a.kind) - SPOC_KIND_PREFERENCE.indexOf(b.kind) ||
        a.id.localeCompare(b.id),
    )[0];
  if (spoc) {
    steps.push({
      agencyId: spoc.id,
      contactRank: spoc.contacts.findIndex((c) => c.role === SPOC_ROLE),
      role: SPOC_ROLE,
      onBehalfOf: agency.id,
    });
  }
  return steps;
}
