import { outboxEntry, outboxTrace } from '@beacon/platform';
import type { IntakeEvent } from '../../domain/events.js';
import type { EncodedEvent } from '../proto-mapping.js';
import type { StoredOutboxEntry } from './documents.js';

/** Turns a domain event into its final wire form, with a fresh id and time. */
export type EventEncoder = (event: IntakeEvent) => EncodedEvent;

/**
 * The `$set` entries and count for appending events to a document's outbox in the same update
 * as the change that caused them (no multi-document transaction needed, or available).
 */
export function outboxUpdate(
  events: readonly IntakeEvent[],
  encode: EventEncoder,
  now: Date,
  firstSeq: number,
): { set: Record<string, StoredOutboxEntry>; count: number } {
  const set: Record<string, StoredOutboxEntry> = {};
  // The request writing the events is the one their consumers' work continues.
  const { trace } = outboxTrace();
  events.forEach((event, i) => {
    const encoded = encode(event);
    set[`outbox.${encoded.id}`] = outboxEntry(
      { id: encoded.id, seq: firstSeq + i, subject: encoded.subject, data: encoded.data, createdAt: now },
      trace,
    );
  });
  return { set, count: events.length };
}
