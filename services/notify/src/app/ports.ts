import type { Place, Tlp } from '@beacon/domain';
import type { Agency, Contact } from '../domain/agency.js';
import type { EventFacts } from '../domain/matching.js';
import type { Subscription } from '../domain/subscription.js';

export interface StoredAgency extends Agency {
  readonly version: number;
}

/** Agencies and their subscriptions. */
export interface AgencyStore {
  get(id: string): Promise<StoredAgency | undefined>;
  /** Creates (expectedVersion 0) or replaces at that version; throws NotifyError otherwise. */
  put(agency: Omit<Agency, 'engagedIncidentIds'>, expectedVersion: number): Promise<StoredAgency>;
  list(
    after: string | undefined,
    limit: number,
  ): Promise<{ items: StoredAgency[]; next: string | undefined }>;
  /** Every agency with its subscriptions: the fan-out's candidates. */
  all(): Promise<{ agency: StoredAgency; subscriptions: Subscription[] }[]>;
  /**
   * The registry's revision, raised after every change to an agency or a subscription: a copy
   * of `all()` read after seeing a revision holds every change up to it.
   */
  revision(): Promise<number>;
  subscriptions(agencyId: string): Promise<Subscription[]>;
  putSubscription(subscription: Subscription): Promise<void>;
  deleteSubscription(agencyId: string, id: string): Promise<boolean>;
}

/** What notify knows of an incident from intake's events: its label, remit and engaged agencies. */
export interface IncidentFacts {
  readonly incidentId: string;
  readonly tlp: Tlp;
  readonly rsitClass?: EventFacts['rsitClass'];
  readonly sectors: EventFacts['sectors'];
  readonly jurisdictions: EventFacts['jurisdictions'];
  readonly ncissLevel?: EventFacts['ncissLevel'];
  readonly engagedAgencyIds: readonly string[];
  /** The agency whose report opened the incident, a named recipient like the engaged ones. */
  readonly sourceAgencyId?: string;
  /** The incident's version in intake: older facts never replace newer ones. */
  readonly version: number;
  /** The places its cascade reaches, as impact last assessed them (`putReached`). */
  readonly placesReached?: readonly Place[];
}

/** The places an assessment of the incident reaches; a later revision replaces them. */
export interface ReachedPlaces {
  readonly revision: number;
  readonly places: readonly Place[];
}

export interface IncidentFactsStore {
  /** The stored facts, once this replica's pending write for the incident has settled. */
  get(incidentId: string): Promise<IncidentFacts | undefined>;
  /**
   * Stores the facts when they are newer than, and differ from, what is stored; one incident's
   * writes in the order they were put. Settles when the write is durable.
   */
  put(facts: IncidentFacts): Promise<void>;
  /** Stores the places an assessment reaches, unless a later revision's are stored. */
  putReached(incidentId: string, reached: ReachedPlaces): Promise<void>;
  /**
   * The places the incident's latest assessment reaches, none before one: for events that
   * carry their incident's facts but not its cascade. May lag another replica's `putReached`
   * by a few seconds.
   */
  reached(incidentId: string): Promise<readonly Place[]>;
}

/** One feed message for one agency. */
export interface FeedMessage {
  readonly agencyId: string;
  readonly eventId: string;
  /** `domain.event`, e.g. `incident.opened`. */
  readonly type: string;
  /** The incident the event is about; empty for none. */
  readonly incidentId: string;
  /** The label the agency received it under: the event's, never looser than its incident's. */
  readonly tlp: Tlp;
  /** The event's envelope, as intake or impact published it. */
  readonly envelope: Uint8Array;
}

/**
 * Publishes to `beacon.feed.<agencyId>.<incidentId>.<label>.<domain>.<event>`, deduplicated per
 * event and agency.
 */
export interface FeedPublisher {
  /**
   * Sends every copy before it returns, so the copies of successive calls are stored in the
   * order of the calls; the promise settles once the feeds acknowledged them all.
   */
  publish(messages: readonly FeedMessage[]): Promise<void>;
}

export type DeliveryChannel = 'webhook' | 'email';
/** `withdrawn`: not sent, the agency may no longer receive it (removed, or its clearance dropped). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dead-lettered' | 'held' | 'refused' | 'withdrawn';

export interface DeliveryRecord {
  readonly agencyId: string;
  readonly incidentId: string;
  readonly eventId: string;
  readonly channel: DeliveryChannel;
  readonly attempt: number;
  readonly outcome: DeliveryOutcome;
  readonly latencyMs: number;
  readonly detail: string;
  readonly at: Date;
}

/** Every delivery attempt, queried per agency and incident. */
export interface DeliveryLog {
  record(entry: DeliveryRecord): Promise<void>;
  list(agencyId: string, incidentId: string): Promise<DeliveryRecord[]>;
}

export interface Acknowledgement {
  readonly agencyId: string;
  readonly incidentId: string;
  /** The door: the agency's feed, this API through the gateway's REST or gRPC door, or a signed link. */
  readonly via: 'feed' | 'rest' | 'grpc' | 'webhook-link' | 'email-link';
  readonly note: string;
  readonly at: Date;
  /** The incident's label, which the acknowledged event carries. */
  readonly tlp: Tlp;
}

/** The first acknowledgement of an engagement stands; it and its event are one write. */
export interface AcknowledgementStore {
  record(ack: Acknowledgement): Promise<{ first: boolean; acknowledgedAt: Date }>;
}

export interface Clock {
  now(): Date;
}

/** One engagement notice: which contact of which agency was asked to acknowledge, and when. */
export interface EngagementNotice {
  readonly id: string;
  readonly incidentId: string;
  readonly agencyId: string;
  /** The engaged agency the notice is about (the agency itself, or one whose SPOC this is). */
  readonly regardingAgencyId: string;
  readonly contactRank: number;
  readonly contact: Contact;
  readonly round: number;
  readonly ncissLevel: number;
  readonly acknowledgeBy: Date | undefined;
  readonly sentAt: Date;
}

/** Notices by idempotency key: the first claim of a key wins, later ones get the first notice. */
export interface EngagementNoticeStore {
  claim(
    key: string,
    notice: EngagementNotice,
  ): Promise<{ readonly notice: EngagementNotice; readonly first: boolean; readonly published: boolean }>;
  markPublished(key: string, at: Date): Promise<void>;
}

/** Puts a notice in its agency's feed, deduplicated by the notice's id. */
export interface EngagementNoticeFeed {
  publish(notice: EngagementNotice): Promise<void>;
}

/** Removes copies from agencies' feeds: what makes a withdrawal hold for a replay or NATS read. */
export interface FeedPurger {
  /**
   * Purges one agency's copies under these labels, of one incident or, given `*`, of every one;
   * resolves to the incidents (ids as their subject tokens) whose copies were purged.
   */
  purge(agencyId: string, incidentId: string, labels: readonly Tlp[]): Promise<string[]>;
}

/** Why an agency lost access to an incident above GREEN. */
export type WithdrawalReason = 'unassigned' | 'clearance-lowered' | 'incident-changed';

/** The notice an agency's feed gets after its copies of an incident were withdrawn. */
export interface AccessWithdrawal {
  readonly agencyId: string;
  readonly incidentId: string;
  readonly reason: WithdrawalReason;
  readonly labels: readonly Tlp[];
  /** The notice's own label: GREEN, or CLEAR for an agency cleared for CLEAR only. */
  readonly tlp: Tlp;
  /** Distinguishes withdrawals of one incident: a redelivered one publishes no second notice. */
  readonly dedupKey: string;
  readonly at: Date;
}

export interface AccessWithdrawalFeed {
  publish(notice: AccessWithdrawal): Promise<void>;
}
