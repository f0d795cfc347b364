/**
 * The response policy against what workflows/README.md promises coordinators: the waits per
 * NCISS level, the passes over a contact chain, the clocks' escalations, the victim check-in
 * days and the history size that triggers continue-as-new. The expected values are the
 * README's, written out here, never read back from `DEFAULT_POLICY`.
 */
import { describe, expect, it } from 'vitest';
import { ackTimeoutMs, DEFAULT_POLICY, type ResponsePolicy } from './policy.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** README, "Waits": 8 h, 4 h, 2 h, 1 h, 30 min, 15 min per contact for NCISS levels 0–5. */
const DOCUMENTED_WAITS = [
  { level: 0, wait: '8 h', ms: 8 * HOUR },
  { level: 1, wait: '4 h', ms: 4 * HOUR },
  { level: 2, wait: '2 h', ms: 2 * HOUR },
  { level: 3, wait: '1 h', ms: 1 * HOUR },
  { level: 4, wait: '30 min', ms: 30 * MINUTE },
  { level: 5, wait: '15 min', ms: 15 * MINUTE },
];

describe('the default response policy', () => {
  it.each(DOCUMENTED_WAITS)('waits $wait at each contact at NCISS level $level', ({ level, ms }) => {
    expect(ackTimeoutMs(DEFAULT_POLICY, level)).toBe(ms);
  });

  it('waits less the more severe the incident, at every step up', () => {
    for (let level = 1; level <= 5; level++) {
      expect(ackTimeoutMs(DEFAULT_POLICY, level)).toBeLessThan(ackTimeoutMs(DEFAULT_POLICY, level - 1));
    }
  });

  it('walks the chain twice before an engagement is reported unacknowledged', () => {
    expect(DEFAULT_POLICY.engagement.rounds).toBe(2);
  });

  it('escalates an overdue report every 24 hours, three times', () => {
    expect(DEFAULT_POLICY.clocks).toEqual({ escalateEveryHours: 24, maxEscalations: 3 });
  });

  it('checks in on victims on days 1, 7 and 30', () => {
    expect(DEFAULT_POLICY.victimCheckInDays).toEqual([1, 7, 30]);
  });

  it('continues a response as new at 10,000 history events', () => {
    expect(DEFAULT_POLICY.maxHistoryEvents).toBe(10_000);
  });
});

describe('the wait at one contact', () => {
  /** A policy unlike the default in every wait, as a changed policy for new responses would be. */
  const custom: ResponsePolicy = {
    ...DEFAULT_POLICY,
    engagement: { ackTimeoutMinutes: [600, 500, 400, 300, 200, 100], rounds: 1 },
  };

  it('comes from the policy the workflow was started with, not the default', () => {
    expect([0, 1, 2, 3, 4, 5].map((level) => ackTimeoutMs(custom, level))).toEqual([
      600 * MINUTE,
      500 * MINUTE,
      400 * MINUTE,
      300 * MINUTE,
      200 * MINUTE,
      100 * MINUTE,
    ]);
  });

  it('treats a level beyond the scale as its nearest end, never as no wait at all', () => {
    expect(ackTimeoutMs(DEFAULT_POLICY, 6)).toBe(15 * MINUTE);
    expect(ackTimeoutMs(DEFAULT_POLICY, 99)).toBe(15 * MINUTE);
    expect(ackTimeoutMs(DEFAULT_POLICY, -1)).toBe(8 * HOUR);
    expect(ackTimeoutMs(custom, 7)).toBe(100 * MINUTE);
    expect(ackTimeoutMs(custom, -3)).toBe(600 * MINUTE);
  });

  it('takes a fractional level as the nearest whole one', () => {
    expect(ackTimeoutMs(DEFAULT_POLICY, 2.4)).toBe(2 * HOUR);
    expect(ackTimeoutMs(DEFAULT_POLICY, 2.6)).toBe(1 * HOUR);
    expect(ackTimeoutMs(DEFAULT_POLICY, 4.5)).toBe(15 * MINUTE);
  });
});
