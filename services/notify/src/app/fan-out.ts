import { mostRestrictive, type Tlp } from '@beacon/domain';
import { recipients, type EventFacts, type RecipientDecision } from '../domain/matching.js';
import type { AgencySnapshot } from './agency-snapshot.js';
import type { FeedPublisher, IncidentFacts, IncidentFactsStore } from './ports.js';

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
  /** Sectors the event itself concerns beyond its incident's (an assessed cascade's). */
  readonly extraSectors?: EventFacts['sectors'];
}

/** What the fan-out did with one event. */
export interface FanOutResult {
  readonly decisions: RecipientDecision[];
  /**
   * Settles when every feed stored its copy. The copies are already sent when `handle`
   * returns, so the next event of the incident may be handled then and still follow them.
   */
  readonly published: Promise<void>;
  /** Settles when the facts the event carried are stored. */
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
    },
  ) {}

  async handle(event: FanOutEvent): Promise<FanOutResult> {
    const incident = event.incident ?? (await this.deps.incidents.get(event.incidentId));
    const facts: EventFacts = {
      id: event.id,
      type: event.type,
      // Never looser than the incident's own label as last announced.
      tlp: incident ? mostRestrictive(event.tlp, incident.tlp) : event.tlp,
      incidentId: event.incidentId,
      ...(incident?.rsitClass ? { rsitClass: incident.rsitClass } : {}),
      sectors: [...new Set([...(incident?.sectors ?? []), ...(event.extraSectors ?? [])])],
      jurisdictions: incident?.jurisdictions ?? [],
      ...(incident?.ncissLevel !== undefined ? { ncissLevel: incident.ncissLevel } : {}),
      occurredAt: event.occurredAt,
    };
    const engaged = new Set(incident?.engagedAgencyIds ?? []);
    // Each agency is engaged on this incident or not; the registry's copy (engaged on none) is
    // passed on as it is, and only the few engaged agencies are copied, for every event.
    const candidates = (await this.deps.agencies.all()).map((entry) => {
      const { agency, subscriptions } = entry;
      if (!engaged.has(agency.id) && agency.engagedIncidentIds.length === 0) return entry;
      return {
        agency: { ...agency, engagedIncidentIds: engaged.has(agency.id) ? [event.incidentId] : [] },
        subscriptions,
      };
    });
    const decisions = recipients(candidates, facts);
    const published = this.deps.feeds.publish(
      decisions
        .filter((d) => d.deliver)
        .map((d) => ({
          agencyId: d.agencyId,
          eventId: event.id,
          type: event.type,
          envelope: event.envelope,
        })),
    );
    // The copies go out first, the facts are written while their acks come back. Both are
    // awaited by the caller; neither is left unhandled when the other fails first.
    published.catch(() => undefined);
    let stored = Promise.resolve();
    if (event.incident) {
      stored = this.deps.incidents.put(event.incident);
      stored.catch(() => undefined);
    }
    return { decisions, published, stored };
  }
}
