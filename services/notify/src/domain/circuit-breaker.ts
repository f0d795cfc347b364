/**
 * A circuit breaker per webhook endpoint. When a receiver is down, every delivery to it would
 * wait out its timeout and go on to retry, tying up workers that other agencies' deliveries
 * need. The breaker notices and stops sending for a cool-down; deliveries it refuses are not
 * failures of the receiver and go back to the retry schedule.
 *
 * - closed: requests pass. It opens after `consecutiveFailures` failures in a row, or when at
 *   least `minimumCalls` of the last `windowSize` outcomes (none older than `windowMs`) are
 *   known and the share of failures among them reaches `failureRatio`.
 * - open: requests are refused until `coolDownMs` after it opened.
 * - half-open: one trial request passes; others are refused while it is out. Its success closes
 *   the breaker, its failure opens it again. A trial that reports nothing within
 *   `trialTimeoutMs` (its worker died) is given up and the next request becomes the trial.
 *
 * Pure: the state is a plain value (storable, e.g. shared between notify instances through
 * Mongo), every transition takes the time and returns the next state.
 */

export interface BreakerConfig {
  readonly consecutiveFailures: number;
  readonly failureRatio: number;
  readonly minimumCalls: number;
  readonly windowSize: number;
  readonly windowMs: number;
  readonly coolDownMs: number;
  readonly trialTimeoutMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = {
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minimumCalls: 10,
  windowSize: 20,
  windowMs: 5 * 60_000,
  coolDownMs: 60_000,
  trialTimeoutMs: 30_000,
};

export type Outcome = 'success' | 'failure';

export type OpenReason = 'consecutive-failures' | 'failure-ratio' | 'trial-failed';

export type BreakerState =
  | {
      readonly kind: 'closed';
      readonly consecutiveFailures: number;
      /** The most recent outcomes, oldest first: when (epoch ms) and whether it failed. */
      readonly recent: readonly { readonly at: number; readonly failed: boolean }[];
    }
  | { readonly kind: 'open'; readonly openedAt: number; readonly reason: OpenReason }
  | { readonly kind: 'half-open'; readonly trialStartedAt: number | undefined };

export const CLOSED: BreakerState = { kind: 'closed', consecutiveFailures: 0, recent: [] };

export type Permission =
  | { readonly allowed: true; readonly state: BreakerState; readonly trial: boolean }
  | { readonly allowed: false; readonly state: BreakerState; readonly retryAt: Date };

/** Throws when the configuration is unusable: found at start-up. */
export function assertBreakerConfig(config: BreakerConfig): void {
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  if (!whole(config.consecutiveFailures)) throw new RangeError('consecutiveFailures must be ≥ 1');
  if (!(config.failureRatio > 0 && config.failureRatio <= 1))
    throw new RangeError('failureRatio must be in (0, 1]');
  if (!whole(config.windowSize)) throw new RangeError('windowSize must be ≥ 1');
  if (!(whole(config.minimumCalls) && config.minimumCalls <= config.windowSize)) {
    throw new RangeError('minimumCalls must be from 1 to windowSize');
  }
  for (const key of ['windowMs', 'coolDownMs', 'trialTimeoutMs'] as const) {
    if (!(Number.isFinite(config[key]) && config[key] > 0)) throw new RangeError(`${key} must be positive`);
  }
}

/** Whether a request may go to the endpoint now; the returned state must replace the old one. */
export function requestPermission(state: BreakerState, config: BreakerConfig, now: Date): Permission {
  const at = now.getTime();
  switch (state.kind) {
    case 'closed':
      return { allowed: true, state, trial: false };
    case 'open': {
      const until = state.openedAt + config.coolDownMs;
      if (at < until) return { allowed: false, state, retryAt: new Date(until) };
      return { allowed: true, state: { kind: 'half-open', trialStartedAt: at }, trial: true };
    }
    case 'half-open': {
      const { trialStartedAt } = state;
      if (trialStartedAt === undefined || at >= trialStartedAt + config.trialTimeoutMs) {
        return { allowed: true, state: { kind: 'half-open', trialStartedAt: at }, trial: true };
      }
      return { allowed: false, state, retryAt: new Date(trialStartedAt + config.trialTimeoutMs) };
    }
  }
}

/**
 * The state after a request's outcome. While open, outcomes of requests sent before it opened
 * change nothing: the cool-down runs its course.
 */
export function recordOutcome(
  state: BreakerState,
  config: BreakerConfig,
  outcome: Outcome,
  now: Date,
): BreakerState {
  const at = now.getTime();
  const failed = outcome === 'failure';
  switch (state.kind) {
    case 'open':
      return state;
    case 'half-open':
      return failed ? { kind: 'open', openedAt: at, reason: 'trial-failed' } : CLOSED;
    case 'closed': {
      const consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
      const recent = [...state.recent, { at, failed }]
        .filter((o) => o.at > at - config.windowMs)
        .slice(-config.windowSize);
      if (consecutiveFailures >= config.consecutiveFailures) {
        return { kind: 'open', openedAt: at, reason: 'consecutive-failures' };
      }
      const failures = recent.filter((o) => o.failed).length;
      if (failed && recent.length >= config.minimumCalls && failures >= config.failureRatio * recent.length) {
        return { kind: 'open', openedAt: at, reason: 'failure-ratio' };
      }
      return { kind: 'closed', consecutiveFailures, recent };
    }
  }
}
