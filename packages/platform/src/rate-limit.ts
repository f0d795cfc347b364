/**
 * Token buckets per key: each key may take `ratePerSecond` tokens a second on average, in
 * bursts of up to `burst`. Idle buckets are forgotten so memory follows active keys.
 *
 * Replicas share a limit by telling each other what they took (the gateway's `LimitSharing`): what another
 * replica took for a key is taken from this replica's bucket too, so the whole fleet allows a
 * key about `ratePerSecond`, not that much per replica. The decision itself never waits for the
 * network: a flood is refused from local memory.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** Tokens taken here since the last `drain`, by key: what the other replicas are told. */
  #taken = new Map<string, number>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes a token for `key`; returns 0 when allowed, else the seconds until one is free. */
  take(key: string): number {
    const bucket = this.#refill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.#taken.set(key, (this.#taken.get(key) ?? 0) + 1);
      return 0;
    }
    return this.#wait(bucket.tokens);
  }

  /** Seconds until `key` has a token, without taking one (0: it has one now). */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(
      this.burst,
      bucket.tokens + ((this.now() - bucket.at) / 1000) * this.ratePerSecond,
    );
    return tokens >= 1 ? 0 : this.#wait(tokens);
  }

  /**
   * Takes `count` tokens another replica took for `key`. A bucket may go below zero (a debt
   * the key pays off before its next call), at most one burst deep.
   */
  absorb(key: string, count: number): void {
    const bucket = this.#refill(key);
    bucket.tokens = Math.max(-this.burst, bucket.tokens - count);
  }

  /** What was taken here since the last call, for the other replicas; starts afresh. */
  drain(): Map<string, number> {
    const taken = this.#taken;
    this.#taken = new Map();
    return taken;
  }

  #refill(key: string): { tokens: number; at: number } {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(key, bucket);
      if (this.#buckets.size > 100_000) this.#forgetIdle(now);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    return bucket;
  }

  #wait(tokens: number): number {
    return Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond));
  }

  #forgetIdle(now: number): void {
    // A bucket idle this long is full again: forgetting it changes no decision.
    const full = ((2 * this.burst) / this.ratePerSecond) * 1000;
    for (const [key, bucket] of this.#buckets) if (now - bucket.at > full) this.#buckets.delete(key);
  }
}
