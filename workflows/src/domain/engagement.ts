/**
 * Which agencies an incident's response engages, and how each engagement escalates when
 * nobody answers. Pure and free of Node built-ins: the response workflow runs these rules.
 */
import {
  classification,
  describeTouch,
  incidentTouches,
  isCriminal,
  namedPlaces,
  mayReceive,
  parseJurisdiction,
  touchesWithin,
  type Tlp,
  type Touch,
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
  /**
   * The (sector, jurisdiction) places the incident touches: named by its reports, or reached
   * by its cascade (`incidentTouches`). Agencies are matched against these places, never
   * against every sector times every jurisdiction.
   */
  readonly touches: readonly Touch[];
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
 * - CSIRTs whose remit covers a place the incident touches, named or reached by its cascade
 *   (`DE` covers `DE-BY`);
 * - law enforcement in remit of a named place when the classification suggests a crime;
 * - regulators whose remit (sectors and jurisdictions) covers a place the incident touches,
 *   named or reached, from a significant incident on — the place itself, so energy reached in
 *   DE is not energy in every jurisdiction the reports name;
 * - operators likewise, from a high-level incident on;
 * - victim support in remit of a named place when the public is likely to be harmed.
 * An agency not cleared for the incident's label is never engaged (it could not read it).
 */
export function decideEngagements(facts: EngagementFacts, agencies: readonly AgencyProfile[]): Decisions {
  const classified = classification(facts.rsitClass, facts.rsitType);
  const criminal = classified !== undefined && isCriminal(classified);
  const engage: EngagementDecision[] = [];
  const notCleared: EngagementDecision[] = [];

  for (const agency of [...agencies].sort((a, b) => a.id.localeCompare(b.id))) {
    const inRemit = (reach: 'named' | 'named-and-reached', sectors?: readonly string[]) =>
      touchesWithin(
        facts.touches,
        { jurisdictions: agency.jurisdictions, ...(sectors ? { sectors } : {}) },
        reach,
      );
    // Where the incident is, by jurisdiction only (a CSIRT's or the police's remit).
    const where = (touches: readonly Touch[]) =>
      [
        ...new Set(
          touches.map((t) =>
            t.how === 'reached' ? `${t.jurisdiction} (reached by the cascade)` : t.jurisdiction,
          ),
        ),
      ].join(', ');
    // Where it hurts in the agency's sectors: each place, never the cross-product.
    const places = (touches: readonly Touch[]) => touches.map(describeTouch).join('; ');
    const reasons: string[] = [];
    if (facts.engagedAgencyIds.includes(agency.id)) reasons.push('engaged by the coordinator');
    switch (agency.kind) {
      case 'csirt': {
        const hit = inRemit('named-and-reached').filter((t) => t.jurisdiction !== undefined);
        if (hit.length > 0) reasons.push(`CSIRT for ${where(hit)}`);
        break;
      }
      case 'law-enforcement': {
        const hit = inRemit('named').filter((t) => t.jurisdiction !== undefined);
        if (criminal && hit.length > 0) {
          reasons.push(`suspected crime (${facts.rsitClass}/${facts.rsitType}) in ${where(hit)}`);
        }
        break;
      }
      case 'regulator': {
        const hit = inRemit('named-and-reached', agency.sectors);
        if (hit.length > 0 && facts.ncissLevel >= ENGAGEMENT_THRESHOLDS.regulatorLevel) {
          reasons.push(`regulator for ${places(hit)}, NCISS level ${facts.ncissLevel}`);
        }
        break;
      }
      case 'operator': {
        const hit = inRemit('named-and-reached', agency.sectors);
        if (hit.length > 0 && facts.ncissLevel >= ENGAGEMENT_THRESHOLDS.operatorLevel) {
          reasons.push(`operator in ${places(hit)}, NCISS level ${facts.ncissLevel}`);
        }
        break;
      }
      case 'victim-support': {
        const hit = inRemit('named').filter((t) => t.jurisdiction !== undefined);
        if (hit.length > 0 && PUBLIC_VICTIM_CLASSES.has(facts.rsitClass)) {
          reasons.push(`victim support in ${where(hit)}: ${facts.rsitClass} harms members of the public`);
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

/**
 * The places the engagement rules match for an incident and its latest assessment. An
 * assessment an older worker recorded carries no places: a response replaying it matches as
 * that worker did, every sector against the named jurisdictions.
 */
export function engagementTouches(
  incident: { readonly sectors: readonly string[]; readonly jurisdictions: readonly string[] },
  impact:
    | {
        readonly sectorsReached: readonly string[];
        readonly placesReached?: readonly { readonly sector: string; readonly jurisdiction: string }[];
      }
    | undefined,
): Touch[] {
  if (impact?.placesReached) return incidentTouches(incident, impact.placesReached);
  const sectors = [...new Set([...incident.sectors, ...(impact?.sectorsReached ?? [])])];
  return namedPlaces(sectors, incident.jurisdictions);
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
