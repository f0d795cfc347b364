/**
 * The knobs of a response, carried in each workflow's input so a change applies to new
 * responses without touching running ones (their histories keep the policy they started with).
 */
export interface ResponsePolicy {
  readonly engagement: {
    /** Minutes to wait for an acknowledgement at each contact, by NCISS level 0–5. */
    readonly ackTimeoutMinutes: readonly [number, number, number, number, number, number];
    /** Passes over the whole chain before the engagement is reported unacknowledged. */
    readonly rounds: number;
  };
  readonly clocks: {
    readonly escalateEveryHours: number;
    readonly maxEscalations: number;
  };
  /** Victim check-ins, in days after the follow-up starts. */
  readonly victimCheckInDays: readonly number[];
  /** Continue as new once the history has this many events (Temporal also suggests it). */
  readonly maxHistoryEvents: number;
}

/**
 * Severity shortens the wait: a level-5 emergency moves up the chain every 15 minutes, a
 * baseline event after 8 hours. Two rounds, so the first contact hears again after the SPOC.
 */
export const DEFAULT_POLICY: ResponsePolicy = {
  engagement: { ackTimeoutMinutes: [480, 240, 120, 60, 30, 15], rounds: 2 },
  clocks: { escalateEveryHours: 24, maxEscalations: 3 },
  victimCheckInDays: [1, 7, 30],
  maxHistoryEvents: 10_000,
};

/** How long to wait for an acknowledgement at one contact. */
export function ackTimeoutMs(policy: ResponsePolicy, ncissLevel: number): number {
  const level = Math.max(0, Math.min(5, Math.round(ncissLevel)));
  return policy.engagement.ackTimeoutMinutes[level]! * 60_000;
}
