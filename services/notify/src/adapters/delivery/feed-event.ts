import type { Tlp } from '@beacon/domain';
import { tlpFromProto } from '@beacon/platform';
import { eventsV1 } from '@beacon/proto';
import type { FeedItem } from '../../domain/feed-access.js';
import { parseFeedSubject } from '../nats/feeds.js';

/**
 * One event of an agency's feed, decoded from its envelope: what the push channels tell the
 * agency about. The payload stays protobuf-encoded; `dataschema` names its message.
 */
export interface FeedEvent {
  readonly id: string;
  /** e.g. `beacon.incident.opened.v1`. */
  readonly type: string;
  /** e.g. `beacon/intake`. */
  readonly source: string;
  /** The object the event is about. */
  readonly subject: string;
  readonly time: Date | undefined;
  readonly tlp: Tlp;
  /** Empty for an event outside any incident. */
  readonly incidentId: string;
  readonly datacontenttype: string;
  readonly dataschema: string;
  readonly data: Uint8Array;
}

export class UndecodableEventError extends Error {
  override readonly name = 'UndecodableEventError';
}

/**
 * Decodes a feed message's envelope. An envelope without an id or with an unknown TLP label
 * is refused: an unlabelled event is treated as unshareable, never as CLEAR.
 */
export function decodeFeedEvent(bytes: Uint8Array): FeedEvent {
  let envelope: eventsV1.Envelope;
  try {
    envelope = eventsV1.Envelope.decode(bytes);
  } catch (cause) {
    throw new UndecodableEventError('the feed message is not an event envelope', { cause });
  }
  const tlp = tlpFromProto(envelope.tlp);
  if (envelope.id === '') throw new UndecodableEventError('the envelope has no id');
  if (!tlp) throw new UndecodableEventError(`the envelope of ${envelope.id} has no TLP label`);
  return {
    id: envelope.id,
    type: envelope.type,
    source: envelope.source,
    subject: envelope.subject,
    time: envelope.time,
    tlp,
    incidentId: envelope.incidentId,
    datacontenttype: envelope.datacontenttype,
    dataschema: envelope.dataschema,
    data: envelope.data,
  };
}

/**
 * What the access check reads of a feed message: its type and label from the subject
 * (`<root>.<agencyId>.<incidentId>.<label>.<domain>.<event>`), else, for a copy published
 * before the subject carried them, from the envelope.
 */
export function feedItemOf(root: string, subject: string, event: FeedEvent): FeedItem {
  const parsed = parseFeedSubject(root, subject);
  const typeMatch = /^beacon\.([a-z-]+)\.([a-z-]+)\.v\d+$/.exec(event.type);
  return {
    type: parsed?.type ?? (typeMatch ? `${typeMatch[1]}.${typeMatch[2]}` : event.type),
    tlp: parsed?.tlp ?? event.tlp,
    incidentId: event.incidentId,
  };
}
