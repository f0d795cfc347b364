import { status } from '@grpc/grpc-js';
import { GrpcError } from '@beacon/platform';

/** How many feed streams an agency may hold open, and how long any one may live or stall. */
export interface FeedStreamLimits {
  /** Open streams per agency on this replica; the next is refused with RESOURCE_EXHAUSTED. */
  readonly perAgency: number;
  /**
   * The longest a stream lives; then it ends with UNAVAILABLE and the client reconnects from
   * its last sequence (as after any reconnect), so no stream holds a consumer forever.
   */
  readonly maxLifetimeMs: number;
  /**
   * How long a stream may go without the client taking anything written to it (its flow-control
   * window stays full, so neither events nor heartbeats go out): such a client is idle or gone,
   * and the stream ends with DEADLINE_EXCEEDED.
   */
  readonly stallMs: number;
}

export const DEFAULT_FEED_STREAM_LIMITS: FeedStreamLimits = {
  perAgency: 4,
  maxLifetimeMs: 60 * 60_000,
  stallMs: 60_000,
};

/**
 * Counts the feed streams open per agency, so that one agency (or a stolen token) cannot hold
 * an unbounded number of JetStream consumers and server streams open. Counts are this
 * replica's: with several replicas an agency may hold this many at each.
 */
export class FeedStreams {
  readonly #open = new Map<string, number>();

  constructor(readonly limits: FeedStreamLimits) {}

  /** Takes one of the agency's places, or refuses naming the cap; returns its release (idempotent). */
  open(agencyId: string): () => void {
    const now = this.#open.get(agencyId) ?? 0;
    if (now >= this.limits.perAgency) {
      throw new GrpcError(
        status.RESOURCE_EXHAUSTED,
        `this agency already has ${now} feed streams open, the most allowed (FEED_STREAMS_PER_AGENCY=${this.limits.perAgency}); close one first`,
      );
    }
    this.#open.set(agencyId, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(agencyId) ?? 1) - 1;
      if (left > 0) this.#open.set(agencyId, left);
      else this.#open.delete(agencyId);
    };
  }

  /** Streams open now for the agency (for tests and metrics). */
  count(agencyId: string): number {
    return this.#open.get(agencyId) ?? 0;
  }
}
