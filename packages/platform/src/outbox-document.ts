import type { StoredOutboxEntry } from './outbox-entry.js';

/** Fields every document with an outbox has; the relay reads only these. */
export interface OutboxFields {
  /**
   * Pending events by id: a map, so the relay can `$unset` exactly the ones it published
   * (FerretDB's `$pull` only matches whole values). Empty when everything is published.
   */
  outbox: Record<string, StoredOutboxEntry>;
  /** Which relay publishes them now (see `OutboxClaimFields`); absent when none does. */
  outboxClaimBy?: string | null;
  outboxClaimUntil?: Date | null;
}

/**
 * Which relay publishes a document's events right now, and until when (by that relay's clock).
 * Kept on the document itself, beside the outbox, so taking it is one atomic single-document
 * write (`findOneAndUpdate`): FerretDB has no transactions. FerretDB 1.24 serves a filter from
 * its `_id` index only when `_id` is the filter's one field; with any other condition it scans
 * the collection (an update by `_id` and a dotted path: 236 ms against 5 ms at 3,000 documents;
 * by `_id` and a top-level field: 11.8 ms against 2.7 ms at 20,000, measured). So the
 * conditional claim write is made only when a read shows it is needed, and the writes that
 * follow every publish filter by `_id` alone. Writers never touch the claim except to take it
 * for their own relay (`OutboxRelay.claimForWrite`); it is removed with the events published.
 */
export interface OutboxClaimFields {
  readonly outboxClaimBy: string;
  readonly outboxClaimUntil: Date;
}

/**
 * What a store that gives documents events needs from the relay: a claim to write beside the
 * events, and to announce the document afterwards.
 */
export interface OutboxAnnouncer {
  /**
   * Write-ahead: marks the documents as having events (see `PendingMarks`), before the write
   * that gives them events; resolves at once when the source has no marks.
   */
  mark(ids: string | readonly string[]): Promise<void>;
  /** `leaseMs`: longer than the relay's own lease for writes whose publishing is held back. */
  claimForWrite(leaseMs?: number): OutboxClaimFields;
  announce(id: string): void;
  /**
   * The document was created (inserted) by a write carrying these outbox entries and a claim
   * from `claimForWrite`: the relay publishes them as written, without reading the document
   * back. Only for the write that creates a document, whose outbox holds nothing else; for
   * any later write, `announce`.
   */
  announceCreated(id: string, written: Pick<OutboxFields, 'outbox'> & OutboxClaimFields): void;
}

export type OutboxDoc = OutboxFields & { _id: string };

export const OUTBOX_AND_CLAIM = { outbox: 1, outboxClaimBy: 1, outboxClaimUntil: 1 } as const;

/** Whether the document has events waiting. */
export function hasEvents(doc: OutboxDoc): boolean {
  return Object.keys(doc.outbox ?? {}).length > 0;
}
