import { status } from '@grpc/grpc-js';
import { GrpcError } from '@beacon/platform';
import type { notifyV1 } from '@beacon/proto';

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

/** The one thing a feed stream's pace needs of its call: grpc-js's `ServerWritableStream` has it. */
export interface FeedWrite {
  /** False when the call's buffer is full: the client has not taken what was written. */
  write(response: notifyV1.StreamFeedResponse): boolean;
}

/**
 * The pace of one open feed stream: when it opened, when it last wrote, since when the client's
 * window has been full, and whether it has ended. Once ended it writes nothing more: grpc-js
 * destroys a call written to after its status was asked for, and the client then never gets
 * that status; its stream just hangs open.
 */
export class FeedStreamPace {
  readonly #opened: number;
  #lastWrite: number;
  /** Since when a write has found the call's buffer full, if one has and no drain came since. */
  #stalledSince: number | undefined;
  #ended = false;

  constructor(
    private readonly call: FeedWrite,
    private readonly limits: Pick<FeedStreamLimits, 'maxLifetimeMs' | 'stallMs'> & {
      /** Idle time after which a heartbeat goes out. */
      readonly beatMs: number;
    },
    private readonly now: () => number = Date.now,
  ) {
    this.#opened = this.#lastWrite = now();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the client's window is full: the writer should wait for `drained`. */
  get stalled(): boolean {
    return this.#stalledSince !== undefined;
  }

  /** How often `tick` should run to keep each limit within a tick of its time. */
  get tickMs(): number {
    return Math.min(this.limits.beatMs, this.limits.stallMs, this.limits.maxLifetimeMs, 1_000);
  }

  write(response: notifyV1.StreamFeedResponse): void {
    if (this.#ended) return;
    this.#lastWrite = this.now();
    if (!this.call.write(response)) this.#stalledSince ??= this.#lastWrite;
  }

  /** The call's buffer emptied: the client is reading again. */
  drained(): void {
    this.#stalledSince = undefined;
  }

  /** Marks the stream ended; false when it already was. */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    return true;
  }

  /**
   * The periodic check: the error to end the stream with when it stalled too long or reached its
   * lifetime; otherwise a heartbeat when it has been idle (and the client is reading).
   */
  tick(): GrpcError | undefined {
    if (this.#ended) return undefined;
    const now = this.now();
    const { stallMs, maxLifetimeMs, beatMs } = this.limits;
    if (this.#stalledSince !== undefined && now - this.#stalledSince >= stallMs) {
      return new GrpcError(status.DEADLINE_EXCEEDED, `the client took nothing for ${stallMs / 1000} s`);
    }
    if (now - this.#opened >= maxLifetimeMs) {
      return new GrpcError(
        status.UNAVAILABLE,
        `the stream reached its lifetime of ${Math.round(maxLifetimeMs / 1000)} s; reconnect from the last sequence`,
      );
    }
    if (this.#stalledSince === undefined && now - this.#lastWrite >= beatMs) {
      this.write({ item: { $case: 'heartbeat', value: new Date(now) } });
    }
    return undefined;
  }
}
