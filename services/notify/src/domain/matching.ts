import {
  agencyMayReceive,
  incidentTouches,
  isCommunityLabel,
  type Place,
  touchesWithin,
  type Jurisdiction,
  mayReadRelation,
  type NcissLevel,
  type Principal,
  type RsitClass,
  type Sector,
  type Tlp,
  withinClearance,
} from '@beacon/domain';
import type { Agency } from './agency.js';
import { eventTypeMatches, type Subscription } from './subscription.js';

/**
 * What matching needs to know of an event, taken from its envelope and payload by the adapter.
 * Sectors and jurisdictions are the incident's, so that a later event on an incident reaches
 * the same agencies as the first.
 */
export interface EventFacts {
  readonly id: string;
  /** `domain.event`, e.g. `incident.opened`, `impact.assessed`. */
  readonly type: string;
  readonly tlp: Tlp;
  readonly incidentId: string;
  /** Absent until the incident is classified. */
  readonly rsitClass?: RsitClass;
  readonly sectors: readonly Sector[];
  readonly jurisdictions: readonly Jurisdiction[];
  /** The places the incident's cascade reaches, as impact last assessed them; none before. */
  readonly placesReached?: readonly Place[];
  /** Absent until the incident is scored. */
  readonly ncissLevel?: NcissLevel;
  readonly occurredAt: Date;
  /** The agency whose report opened the incident, as notify knows the incident now. */
  readonly sourceAgencyId?: string | undefined;
  /** The agencies engaged on the incident now; none when notify knows nothing of it. */
  readonly engagedAgencyIds?: readonly string[];
}

/**
 * Why an agency may receive an event:
 * - `public`: CLEAR, anyone may;
 * - `community`: GREEN, every Beacon agency is in the community;
 * - `named`: above GREEN, the agency is named on the incident now (its source, or engaged).
 */
export type Grant = 'public' | 'community' | 'named';

/**
 * Why the label keeps an event from an agency: above its clearance, above GREEN on an incident
 * that does not name the agency, or an announcement only coordinators read (a possible relation
 * between incidents).
 */
export type TlpDenial = 'above-clearance' | 'not-named' | 'coordinators-only';

export type FilterDenial =
  | 'filter-event-type'
  | 'filter-rsit-class'
  | 'filter-sector'
  | 'filter-jurisdiction'
  | 'filter-nciss-level'
  | 'filter-incident';

/**
 * Why an agency does not receive an event: its label (`TlpDenial`), the subscription's filters
 * (`FilterDenial`), no subscription at all, or a subscription that belongs to another agency
 * (a caller's mistake, refused rather than trusted).
 */
export type Denial = TlpDenial | FilterDenial | 'no-subscription' | 'foreign-subscription';

export type MatchDecision =
  { readonly deliver: true; readonly grant: Grant } | { readonly deliver: false; readonly reason: Denial };

/**
 * Event types that announce what only the coordination centre may read: intake's possible
 * relation between two incidents (`mayReadRelation`). No agency receives them, whatever it
 * subscribed to.
 */
export const COORDINATOR_ONLY_EVENT_TYPES: readonly string[] = ['incident.relation-found'];

/**
 * Whether an agency may receive an event of this label on this incident, whatever it
 * subscribed to: the trust model's one reading rule (`agencyMayReceive`), answered from the
 * incident as notify knows it now (its label, source agency and engaged agencies), so that a
 * feed never carries what the agency could not read through the API. The reasons only say
 * which part of the rule failed.
 */
export function tlpDecision(
  agency: Pick<Agency, 'id' | 'clearance'>,
  facts: Pick<EventFacts, 'type' | 'tlp' | 'sourceAgencyId' | 'engagedAgencyIds'>,
): MatchDecision {
  const principal = agencyPrincipal(agency);
  if (COORDINATOR_ONLY_EVENT_TYPES.includes(facts.type)) {
    // Asked of the policy, not assumed: relations are read by coordinators cleared for both.
    if (!mayReadRelation(principal, [facts.tlp, facts.tlp])) {
      return { deliver: false, reason: 'coordinators-only' };
    }
  }
  const recipients = {
    tlp: facts.tlp,
    sourceAgencyId: facts.sourceAgencyId,
    engagedAgencyIds: facts.engagedAgencyIds ?? [],
  };
  if (!agencyMayReceive(agency, recipients)) {
    return {
      deliver: false,
      reason: withinClearance(principal, facts.tlp) ? 'not-named' : 'above-clearance',
    };
  }
  if (facts.tlp === 'CLEAR') return { deliver: true, grant: 'public' };
  return { deliver: true, grant: isCommunityLabel(facts.tlp) ? 'community' : 'named' };
}

/** An agency as the policy's caller: what `agencyMayReceive` reads it as. */
function agencyPrincipal(agency: Pick<Agency, 'id' | 'clearance'>): Principal {
  return { subject: agency.id, roles: ['agency_analyst'], agencyId: agency.id, clearance: agency.clearance };
}

const isSet = <T>(list: readonly T[] | undefined): list is readonly T[] =>
  list !== undefined && list.length > 0;

/** The first filter of the subscription the event fails, or undefined when it passes them all. */
export function filterDenial(subscription: Subscription, facts: EventFacts): FilterDenial | undefined {
  const { eventTypes, rsitClasses, sectors, jurisdictions, minNcissLevel, incidentIds } = subscription;
  if (isSet(eventTypes) && !eventTypes.some((p) => eventTypeMatches(p, facts.type)))
    return 'filter-event-type';
  if (isSet(incidentIds) && !incidentIds.includes(facts.incidentId)) return 'filter-incident';
  if (isSet(rsitClasses) && !(facts.rsitClass !== undefined && rsitClasses.includes(facts.rsitClass))) {
    return 'filter-rsit-class';
  }
  if (isSet(sectors) || isSet(jurisdictions)) {
    // One place must pass both filters: energy reached in DE is not energy wherever else the
    // reports name.
    const touches = incidentTouches(facts, facts.placesReached ?? []);
    const reach = subscription.reach ?? 'named-and-reached';
    if (touchesWithin(touches, { sectors, jurisdictions }, reach).length === 0) {
      return isSet(sectors) && touchesWithin(touches, { sectors }, reach).length === 0
        ? 'filter-sector'
        : 'filter-jurisdiction';
    }
  }
  if (minNcissLevel !== undefined && minNcissLevel > 0 && !((facts.ncissLevel ?? -1) >= minNcissLevel)) {
    return 'filter-nciss-level';
  }
  return undefined;
}

/** A subscription's own verdict once the label allowed the event: foreign, else its filters. */
function subscriptionDenial(
  agency: Agency,
  subscription: Subscription,
  facts: EventFacts,
): Denial | undefined {
  if (subscription.agencyId !== agency.id) return 'foreign-subscription';
  return filterDenial(subscription, facts);
}

/** Whether the agency receives the event through this subscription; the label decides first. */
export function matches(agency: Agency, subscription: Subscription, facts: EventFacts): MatchDecision {
  if (subscription.agencyId !== agency.id) return { deliver: false, reason: 'foreign-subscription' };
  const tlp = tlpDecision(agency, facts);
  if (!tlp.deliver) return tlp;
  const filtered = filterDenial(subscription, facts);
  return filtered ? { deliver: false, reason: filtered } : tlp;
}

/** An agency with its subscriptions: one candidate recipient of an event. */
export interface Candidate {
  readonly agency: Agency;
  readonly subscriptions: readonly Subscription[];
}

export type RecipientDecision =
  | {
      readonly agencyId: string;
      readonly deliver: true;
      readonly grant: Grant;
      /** The subscriptions that matched: the event goes to the agency once, whichever did. */
      readonly subscriptionIds: readonly string[];
    }
  | {
      readonly agencyId: string;
      readonly deliver: false;
      /** The label's denial, else `no-subscription`, else the first subscription's denial. */
      readonly reason: Denial;
      /** Each subscription's denial, in order, when the label allowed the event. */
      readonly bySubscription: readonly { readonly subscriptionId: string; readonly reason: Denial }[];
    };

/**
 * One decision per candidate, in order: deliver once when the label allows it and at least one
 * of the agency's subscriptions matches, with the reason otherwise.
 */
export function recipients(candidates: readonly Candidate[], facts: EventFacts): RecipientDecision[] {
  return candidates.map(({ agency, subscriptions }) => {
    const agencyId = agency.id;
    const tlp = tlpDecision(agency, facts);
    if (!tlp.deliver) return { agencyId, deliver: false, reason: tlp.reason, bySubscription: [] };
    if (subscriptions.length === 0) {
      return { agencyId, deliver: false, reason: 'no-subscription', bySubscription: [] };
    }
    const matched: string[] = [];
    const bySubscription: { subscriptionId: string; reason: Denial }[] = [];
    // The label allowed the event, so each subscription is judged by what `matches` checks next.
    for (const subscription of subscriptions) {
      const reason = subscriptionDenial(agency, subscription, facts);
      if (reason === undefined) matched.push(subscription.id);
      else bySubscription.push({ subscriptionId: subscription.id, reason });
    }
    if (matched.length > 0) return { agencyId, deliver: true, grant: tlp.grant, subscriptionIds: matched };
    return { agencyId, deliver: false, reason: bySubscription[0]!.reason, bySubscription };
  });
}
