import type { Notification } from '../../app/channel-delivery.js';

/**
 * The JSON a webhook receives. An event keeps its CloudEvents attributes; its payload is the
 * protobuf message, base64-encoded in `data`, named by `dataschema`. Base64 rather than decoded
 * JSON because notify forwards every event type, present and future, without knowing their
 * messages: a receiver decodes with the same `.proto` files, and a new event type needs no
 * change here. A digest lists its events without payloads: each names its place in the
 * agency's feed (`feedSequence`), where the full event is.
 */
export type WebhookBody = EventBody | DigestBody;

export interface EventBody {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: string | null;
  readonly tlp: string;
  readonly incidentId: string;
  readonly agencyId: string;
  readonly feedSequence: number;
  readonly datacontenttype: string;
  readonly dataschema: string;
  /** The payload message, protobuf-encoded, in base64. */
  readonly data: string;
  /** A signed link that acknowledges the agency's engagement on the incident, when enabled. */
  readonly ackUrl?: string;
}

export interface DigestBody {
  readonly id: string;
  readonly type: typeof DIGEST_TYPE;
  readonly agencyId: string;
  readonly incidentId: string;
  readonly tlp: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Events in the window, listed and omitted. */
  readonly count: number;
  readonly omitted: number;
  readonly events: readonly {
    readonly id: string;
    readonly type: string;
    readonly subject: string;
    readonly time: string | null;
    readonly tlp: string;
    readonly feedSequence: number;
  }[];
}

export const DIGEST_TYPE = 'beacon.notify.digest.v1';

export function webhookBody(notification: Notification, ackUrl?: string): WebhookBody {
  if (notification.kind === 'event') {
    const { event } = notification;
    return {
      id: event.id,
      type: event.type,
      source: event.source,
      subject: event.subject,
      time: event.time?.toISOString() ?? null,
      tlp: event.tlp,
      incidentId: event.incidentId,
      agencyId: notification.agencyId,
      feedSequence: notification.feedSequence,
      datacontenttype: event.datacontenttype,
      dataschema: event.dataschema,
      data: Buffer.from(event.data).toString('base64'),
      ...(ackUrl ? { ackUrl } : {}),
    };
  }
  return {
    id: notification.key,
    type: DIGEST_TYPE,
    agencyId: notification.agencyId,
    incidentId: notification.incidentId,
    tlp: notification.tlp,
    windowStart: notification.windowStart.toISOString(),
    windowEnd: notification.windowEnd.toISOString(),
    count: notification.events.length + notification.omitted,
    omitted: notification.omitted,
    events: notification.events.map(({ event, feedSequence }) => ({
      id: event.id,
      type: event.type,
      subject: event.subject,
      time: event.time?.toISOString() ?? null,
      tlp: event.tlp,
      feedSequence,
    })),
  };
}
