import { mostRestrictive, type Tlp } from '@beacon/domain';
import type { AccessWithdrawals } from './access-withdrawals.js';
import { recipients, type EventFacts, type RecipientDecision } from '../domain/matching.js';
import type { AgencySnapshot } from './agency-snapshot.js';
import type { FeedPublisher, IncidentFacts, IncidentFactsStore, ReachedPlaces } from './ports.js';

/** An event to fan out, already decoded by the adapter. */
export interface FanOutEvent {
  readonly id: string;
  /** `domain.event`. */
  readonly type: string;
  readonly tlp: Tlp;
  readonly incidentId: string;
  readonly occurredAt: Date;
  readonly envelope: Uint8Array;
  /** Present when the event carries its incident (intake's events). */
  readonly incident?: IncidentFacts;
  /** The places an assessment reaches (impact's events): matched, and kept for later events. */
  readonly assessed?: ReachedPlaces;
  /** The agency an `incident.agency-unassigned` event removed from the incident. */
  readonly unassignedAgencyId?: string;
}

/** What the fan-out did with one event. */
export interface FanOutResult {
  readonly decisions: RecipientDecision[];
  /**
   * Settles when every feed stored its copy. The copies are already sent when `handle`
   * returns, so the next event of the incident may be handled then and still follow them.
   */
  readonly published: Promise<void>;
  /**
   * Settles when the facts the event carried are stored and, when they narrowed who may read
   * the incident, what the agencies may no longer read is withdrawn from their feeds.
   */
  readonly stored: Promise<void>;
}

/**
 * Matches each event against every agency's subscriptions, under the TLP and engagement rules,
 * and publishes it once to the feed of each agency that may and wants to receive it. The
 * feed deduplicates per (event, agency), so handling an event twice — a redelivery after a
 * crash mid-fan-out — leaves each feed with one copy. An event that carries its incident's
 * facts is published while they are written, so the database is off the path to the feeds;
 * and `handle` does not wait for the feeds' acknowledgements, so neither is their round trip.
 */
export class FanOut {
  constructor(
    private readonly deps: {
      readonly agencies: AgencySnapshot;
      readonly incidents: IncidentFactsStore;
      readonly feeds: FeedPublisher;
      readonly withdrawals?: AccessWithdrawals;
    },
  ) {}

  async handle(event: FanOutEvent): Promise<FanOutResult> {
    const incident = event.incident ?? (await this.deps.incidents.get(event.incidentId));
    const candidates = await this.deps.agencies.all();
    // The cascade's places matter only to a subscription that filters on sectors or
    // jurisdictions and counts reached places: otherwise the feed path reads nothing more.
    const placesMatter = candidates.some((c) =>
      c.subscriptions.some(
        (s) => s.reach !== 'named' && ((s.sectors?.length ?? 0) > 0 || (s.jurisdictions?.length ?? 0) > 0),
      ),
    );
    const placesReached =
      event.assessed?.places ??
      (!placesMatter
        ? []
        : event.incident
          ? await this.deps.incidents.reached(event.incidentId)
          : incident?.placesReached) ??
      [];
    const facts: EventFacts = {
      id: event.id,
      type: event.type,
      // Never looser than the incident's own label as last announced.
      tlp: incident ? mostRestrictive(event.tlp, incident.tlp) : event.tlp,
      incidentId: event.incidentId,
      ...(incident?.rsitClass ? { rsitClass: incident.rsitClass } : {}),
      sectors: incident?.sectors ?? [],
      jurisdictions: incident?.jurisdictions ?? [],
      placesReached,
      ...(incident?.ncissLevel !== undefined ? { ncissLevel: incident.ncissLevel } : {}),
      occurredAt: event.occurredAt,
      // Who the incident is shared with now: the label alone decides nothing above GREEN.
      sourceAgencyId: incident?.sourceAgencyId,
      engagedAgencyIds: incident?.engagedAgencyIds ?? [],
    };
    const decisions = recipients(candidates, facts);
    const published = this.deps.feeds.publish(
      decisions
        .filter((d) => d.deliver)
        .map((d) => ({
          agencyId: d.agencyId,
          eventId: event.id,
          type: event.type,
          incidentId: event.incidentId,
          tlp: facts.tlp,
          envelope: event.envelope,
        })),
    );
    // The copies go out first, the facts are written while their acks come back. Both are
    // awaited by the caller; neither is left unhandled when the other fails first.
    published.catch(() => undefined);
    let stored = Promise.resolve();
    if (event.assessed) {
      // Later events of the incident reach the agencies the cascade concerns, too.
      stored = this.deps.incidents.putReached(event.incidentId, event.assessed);
      stored.catch(() => undefined);
    }
    if (event.incident) {
      stored = this.deps.incidents.put(event.incident);
      // Once the narrower facts are stored (every later read answers by them) and this event's
      // copies are out, what the agencies lost is purged from their feeds.
      const narrowed = this.#narrowed(event);
      if (narrowed) stored = Promise.all([stored, published]).then(() => this.#withdraw(event, narrowed));
      stored.catch(() => undefined);
    }
    return { decisions, published, stored };
  }

  /** Which agencies the event may have cut off from the incident, if any. */
  #narrowed(event: FanOutEvent): 'one' | 'all' | undefined {
    if (!this.deps.withdrawals) return undefined;
    if (event.unassignedAgencyId) return 'one';
    // A revised label or a merge may hide the incident from agencies not named on it.
    return NARROWING_EVENTS.includes(event.type) ? 'all' : undefined;
  }

  async #withdraw(event: FanOutEvent, who: 'one' | 'all'): Promise<void> {
    // The stored facts, not the event's: a later change handled first on another replica wins.
    const incident = (await this.deps.incidents.get(event.incidentId)) ?? event.incident;
    if (!incident) return;
    const agencies = (await this.deps.agencies.all()).map((entry) => entry.agency);
    const affected = who === 'one' ? agencies.filter((a) => a.id === event.unassignedAgencyId) : agencies;
    const reason = who === 'one' ? 'unassigned' : 'incident-changed';
    for (const agency of affected) {
      await this.deps.withdrawals!.incidentChanged(agency, event.incidentId, incident, reason, event.id);
    }
  }
}

/** Intake's events after which agencies other than a removed one may have lost access. */
const NARROWING_EVENTS: readonly string[] = ['incident.facts-revised', 'incident.merged'];
