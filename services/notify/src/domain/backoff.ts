/**
 * Retry timing for webhook deliveries: exponential backoff with full jitter, capped, then the
 * dead-letter store. Full jitter (a uniformly random delay between zero and the exponential
 * ceiling) rather than a fixed schedule, because when a receiver comes back after an outage,
 * every delivery that failed against it would otherwise retry in the same instant and knock it
 * over again.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  readonly baseMs: number;
  /** No delay's ceiling grows past this. */
  readonly capMs: number;
  /** Attempts in all, the first included; after the last failure the delivery is dead-lettered. */
  readonly maxAttempts: number;
}

/**
 * Twelve attempts over at most about 2 h 25 min (the sum of the ceilings; half that on
 * average): enough to ride out a receiver's deploy or a short outage without waking anyone,
 * short enough that a dead letter is still worth a look the same shift.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, capMs: 60 * 60_000, maxAttempts: 12 };

/** A source of uniform random numbers in [0, 1), e.g. `Math.random`; injected for tests. */
export type Random = () => number;

export type NextAttempt =
  | { readonly kind: 'retry'; readonly attempt: number; readonly at: Date }
  | { readonly kind: 'dead-letter'; readonly attempts: number };

/** Throws when the policy cannot produce a schedule: a configuration error, found at start-up. */
export function assertBackoffPolicy(policy: BackoffPolicy): void {
  const { baseMs, capMs, maxAttempts } = policy;
  if (!(Number.isFinite(baseMs) && baseMs > 0)) throw new RangeError('baseMs must be positive');
  if (!(Number.isFinite(capMs) && capMs >= baseMs)) throw new RangeError('capMs must be at least baseMs');
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) throw new RangeError('maxAttempts must be ≥ 1');
}

/** The ceiling of the delay before retry `retry` (1 for the first retry): base·2^(retry−1), capped. */
export function backoffCeilingMs(retry: number, policy: BackoffPolicy): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
}

/** The delay before retry `retry` (1 for the first): uniform in [0, ceiling), whole milliseconds. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: Random): number {
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() gave ${r}, outside [0, 1)`);
  return Math.floor(r * backoffCeilingMs(retry, policy));
}

/**
 * What follows a failed attempt: the next attempt and when, counted from when the failed one
 * ended, or the dead-letter store once `maxAttempts` attempts have failed. Stateless, so a
 * delivery worker that restarts can resume from the stored attempt count.
 */
export function nextAttempt(
  attemptsMade: number,
  lastAttemptAt: Date,
  policy: BackoffPolicy,
  random: Random,
): NextAttempt {
  assertBackoffPolicy(policy);
  if (attemptsMade >= policy.maxAttempts) return { kind: 'dead-letter', attempts: attemptsMade };
  const delay = backoffDelayMs(attemptsMade, policy, random);
  return { kind: 'retry', attempt: attemptsMade + 1, at: new Date(lastAttemptAt.getTime() + delay) };
}

/**
 * The whole schedule if every attempt fails at once: attempt 1 at `firstAttemptAt`, each retry
 * after its jittered delay, then `'dead-letter'`.
 */
export function* retryPlan(
  firstAttemptAt: Date,
  policy: BackoffPolicy,
  random: Random,
): Generator<{ readonly attempt: number; readonly at: Date } | 'dead-letter', void, undefined> {
  assertBackoffPolicy(policy);
  let step: { readonly attempt: number; readonly at: Date } = { attempt: 1, at: firstAttemptAt };
  for (;;) {
    yield step;
    const next = nextAttempt(step.attempt, step.at, policy, random);
    if (next.kind === 'dead-letter') break;
    step = { attempt: next.attempt, at: next.at };
  }
  yield 'dead-letter';
}
