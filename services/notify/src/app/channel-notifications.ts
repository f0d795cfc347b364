import type { Tlp } from '@beacon/domain';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '@beacon/platform';
import type { FeedEvent } from '../adapters/delivery/feed-event.js';
import type { EmailChannel, WebhookChannel } from '../domain/agency.js';
import type { Random, BackoffPolicy } from '../domain/backoff.js';
import type { BreakerConfig } from '../domain/circuit-breaker.js';
import type { FeedItem } from '../domain/feed-access.js';
import type { StormConfig } from '../domain/storm.js';
import type { AgencyStore, Clock, DeliveryChannel, DeliveryLog, StoredAgency } from './ports.js';

// What the push channels send, to whom through which sender, what they give up on, and how
// they are configured: the contracts of `ChannelDelivery`, apart from its workings.

/** One event for one agency, as the webhook and email channels send it. */
export interface EventNotification {
  readonly kind: 'event';
  readonly agencyId: string;
  /** `<eventId>.<agencyId>`, the feed message's `Nats-Msg-Id`: receivers drop duplicates by it. */
  readonly key: string;
  readonly event: FeedEvent;
  /** Where the event sits in `BEACON_FEEDS`: the agency can replay its feed from here. */
  readonly feedSequence: number;
}

/** Events held back during a storm, sent as one notification when their window ends. */
export interface DigestNotification {
  readonly kind: 'digest';
  readonly agencyId: string;
  /** The digest id: stable for the agency, incident and window, so a resent digest is recognised. */
  readonly key: string;
  readonly incidentId: string;
  /** The most restrictive label among the events. */
  readonly tlp: Tlp;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly events: readonly { readonly event: FeedEvent; readonly feedSequence: number }[];
  /** Held events beyond what a digest lists; they are in the feed. */
  readonly omitted: number;
}

export type Notification = EventNotification | DigestNotification;

/**
 * What one attempt on a channel came to. `refused` is Beacon's own refusal to send (an SSRF
 * target, no active signing secret): retrying would not change it. `endpointFault` tells the
 * circuit breaker whether the receiver itself failed (unreachable, timed out, 5xx, 408, 429),
 * as opposed to turning the request down.
 */
export type SendResult =
  | { readonly outcome: 'delivered'; readonly detail: string }
  | { readonly outcome: 'failed'; readonly detail: string; readonly endpointFault: boolean }
  | { readonly outcome: 'refused'; readonly detail: string };

/** Signs and POSTs a notification to an agency's webhook, guarding against SSRF. */
export interface WebhookSender {
  send(channel: WebhookChannel, notification: Notification, attempt: number): Promise<SendResult>;
}

/** Mails a notification to an agency's recipients. */
export interface EmailSender {
  send(channel: EmailChannel, notification: Notification, attempt: number): Promise<SendResult>;
}

/** A delivery Beacon gave up on: after its last attempt, or refused outright. */
export interface DeadLetter {
  /** `<channel>:<key>`: one letter per notification and channel, however often it is written. */
  readonly id: string;
  readonly channel: DeliveryChannel;
  readonly agencyId: string;
  readonly incidentId: string;
  /** The notification's idempotency key: `<eventId>.<agencyId>` or a digest id. */
  readonly key: string;
  readonly kind: Notification['kind'];
  /** The events it was about and where they are in the feed, for a replay. */
  readonly eventIds: readonly string[];
  readonly feedSequences: readonly number[];
  readonly reason: 'attempts-exhausted' | 'refused';
  readonly attempts: number;
  readonly lastError: string;
  readonly at: Date;
}

export interface DeadLetterStore {
  /** Idempotent by `id`: a redelivered message that dead-letters again replaces the letter. */
  put(letter: DeadLetter): Promise<void>;
  list(agencyId: string): Promise<DeadLetter[]>;
}

export interface ChannelDeliveryOptions {
  readonly nc: NatsConnection;
  /** The feeds stream, `BEACON_FEEDS`. */
  readonly stream: string;
  /** Subjects are `<subjectRoot>.<agencyId>.<domain>.<event>`; default `beacon.feed`. */
  readonly subjectRoot?: string;
  /**
   * Durable name prefix, shared by every notify replica: each channel has its own consumer,
   * `<durable>-webhook` and `<durable>-email`, so one channel's retries never resend the other.
   */
  readonly durable: string;
  /** Read for every message and every filter refresh: an in-memory copy of the registry. */
  readonly agencies: Pick<AgencyStore, 'get'> & {
    all(): Promise<readonly { readonly agency: StoredAgency }[]>;
  };
  /**
   * Whether the agency may receive a feed message now, asked at every attempt: a message queued
   * (held, retried, restarted) for an agency since removed from its incident, or whose
   * clearance dropped, is not sent but recorded as `withdrawn`.
   */
  readonly access: { mayReceive(agencyId: string, item: FeedItem): Promise<boolean> };
  /** How often the consumers' filters take in agencies given a channel elsewhere; default 5 s. */
  readonly filterRefreshMs?: number;
  readonly log: DeliveryLog;
  readonly deadLetters: DeadLetterStore;
  /** Absent: no webhook consumer runs. */
  readonly webhook?: { readonly sender: WebhookSender; readonly breaker?: BreakerConfig };
  /** Absent: no email consumer runs. */
  readonly email?: { readonly sender: EmailSender };
  readonly storm: StormConfig;
  /** `maxAttempts` also sets the consumers' `max_deliver` (one more, to settle the last). */
  readonly retry: BackoffPolicy;
  /** How long a message may be worked on before JetStream redelivers it; default 60 s. */
  readonly ackWaitMs?: number;
  /** Messages handled at once per channel; default 16. */
  readonly concurrency?: number;
  /** Unacknowledged messages per consumer, held ones included; default 10 000. */
  readonly maxAckPending?: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}
