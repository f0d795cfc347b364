import {
  compareTlp,
  isWithin,
  type Jurisdiction,
  mayReceive,
  type NcissLevel,
  type RsitClass,
  type Sector,
  type Tlp,
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
  /** Absent until the incident is scored. */
  readonly ncissLevel?: NcissLevel;
  readonly occurredAt: Date;
}

/**
 * Why an agency may receive an event's label:
 * - `public`: CLEAR, anyone may;
 * - `community`: GREEN, every Beacon agency is in the community;
 * - `engaged`: the agency is engaged on the incident, a named recipient;
 * - `concerned`: AMBER, and the incident falls within the agency's remit.
 */
export type Grant = 'public' | 'community' | 'engaged' | 'concerned';

export type TlpDenial =
  'above-clearance' | 'red-not-engaged' | 'amber-strict-not-engaged' | 'amber-not-engaged';

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
 * Whether an agency may receive an event of this label on this incident, whatever it
 * subscribed to. The rule is intake's read rule (`canReadIncident`), so that a feed never
 * carries what the agency could not read through the API — an event carries its incident:
 *
 * - Never above the agency's clearance (`above-clearance`), engaged or not.
 * - CLEAR: anyone. GREEN: the community, which in Beacon is every registered agency.
 * - RED: "named recipients only"; the coordinator names recipients by engaging agencies on the
 *   incident, and its source is named by definition (`red-not-engaged`).
 * - AMBER+STRICT: "the recipient's organisation only" (`amber-strict-not-engaged`).
 * - AMBER: "need to know". Who needs to know is the coordinator's call, made by engaging the
 *   agency; an agency whose remit merely covers the incident's sector and place is engaged
 *   by the coordinator (or the response workflow's rules), not by the feed (`amber-not-engaged`).
 */
export function tlpDecision(agency: Agency, facts: EventFacts): MatchDecision {
  const engaged = agency.engagedIncidentIds.includes(facts.incidentId);
  if (compareTlp(facts.tlp, agency.clearance) > 0) return { deliver: false, reason: 'above-clearance' };
  // The shared TLP rule, so that feeds and reads can never disagree on clearance and RED.
  if (!mayReceive(facts.tlp, { clearance: agency.clearance, named: engaged })) {
    return { deliver: false, reason: 'red-not-engaged' };
  }
  switch (facts.tlp) {
    case 'CLEAR':
      return { deliver: true, grant: 'public' };
    case 'GREEN':
      return { deliver: true, grant: 'community' };
    case 'RED':
      return { deliver: true, grant: 'engaged' };
    case 'AMBER+STRICT':
      return engaged
        ? { deliver: true, grant: 'engaged' }
        : { deliver: false, reason: 'amber-strict-not-engaged' };
    case 'AMBER':
      return engaged ? { deliver: true, grant: 'engaged' } : { deliver: false, reason: 'amber-not-engaged' };
  }
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
  if (isSet(sectors) && !facts.sectors.some((s) => sectors.includes(s))) return 'filter-sector';
  if (isSet(jurisdictions) && !facts.jurisdictions.some((j) => jurisdictions.some((s) => isWithin(j, s)))) {
    return 'filter-jurisdiction';
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
