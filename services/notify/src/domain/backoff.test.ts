import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertBackoffPolicy,
  backoffCeilingMs,
  backoffDelayMs,
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  nextAttempt,
  retryPlan,
} from './backoff.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const policy: BackoffPolicy = { baseMs: 100, capMs: 1_000, maxAttempts: 4 };
const half = () => 0.5;

describe('backoff', () => {
  it('doubles the ceiling per retry up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((r) => backoffCeilingMs(r, policy))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffCeilingMs(5000, policy)).toBe(1000);
  });

  it('jitters uniformly over the whole range below the ceiling', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, half)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 0.999_999)).toBe(399);
  });

  it('refuses a random source outside [0, 1)', () => {
    expect(() => backoffDelayMs(1, policy, () => 1)).toThrow(RangeError);
    expect(() => backoffDelayMs(1, policy, () => -0.1)).toThrow(RangeError);
    expect(() => backoffDelayMs(1, policy, () => Number.NaN)).toThrow(RangeError);
  });

  it('schedules the next attempt from the end of the last one, then dead-letters', () => {
    const last = new Date(T0.getTime() + 5_000);
    expect(nextAttempt(1, last, policy, half)).toEqual({
      kind: 'retry',
      attempt: 2,
      at: new Date(last.getTime() + 50),
    });
    expect(nextAttempt(3, last, policy, half)).toEqual({
      kind: 'retry',
      attempt: 4,
      at: new Date(last.getTime() + 200),
    });
    expect(nextAttempt(4, last, policy, half)).toEqual({ kind: 'dead-letter', attempts: 4 });
  });

  it('plans every attempt, then the dead-letter store', () => {
    const plan = [...retryPlan(T0, policy, half)];
    const t = (ms: number) => new Date(T0.getTime() + ms);
    expect(plan).toEqual([
      { attempt: 1, at: t(0) },
      { attempt: 2, at: t(50) },
      { attempt: 3, at: t(150) },
      { attempt: 4, at: t(350) },
      'dead-letter',
    ]);
    expect([...retryPlan(T0, { ...policy, maxAttempts: 1 }, half)]).toEqual([
      { attempt: 1, at: T0 },
      'dead-letter',
    ]);
  });

  it('has defaults that retry for at most about 2 h 25 min over twelve attempts', () => {
    let total = 0;
    for (let retry = 1; retry < DEFAULT_BACKOFF.maxAttempts; retry++)
      total += backoffCeilingMs(retry, DEFAULT_BACKOFF);
    expect(total / 60_000).toBe(145.25);
    expect(() => assertBackoffPolicy(DEFAULT_BACKOFF)).not.toThrow();
  });

  it('refuses policies that cannot produce a schedule', () => {
    for (const bad of [
      { baseMs: 0, capMs: 10, maxAttempts: 1 },
      { baseMs: 10, capMs: 5, maxAttempts: 1 },
      { baseMs: 10, capMs: 10, maxAttempts: 0 },
      { baseMs: 10, capMs: 10, maxAttempts: 1.5 },
      { baseMs: 10, capMs: Infinity, maxAttempts: 2 },
    ]) {
      expect(() => [...retryPlan(T0, bad, half)], JSON.stringify(bad)).toThrow(RangeError);
    }
  });

  const policyArb = fc
    .record({
      baseMs: fc.integer({ min: 1, max: 10_000 }),
      extra: fc.integer({ min: 0, max: 3_600_000 }),
      maxAttempts: fc.integer({ min: 1, max: 30 }),
    })
    .map(({ baseMs, extra, maxAttempts }): BackoffPolicy => ({ baseMs, capMs: baseMs + extra, maxAttempts }));
  const randoms = fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }));

  it('plans exactly maxAttempts attempts in time order, each delay below its capped ceiling', () => {
    fc.assert(
      fc.property(policyArb, randoms, (p, stream) => {
        const iterator = stream[Symbol.iterator]();
        const plan = [...retryPlan(T0, p, () => iterator.next().value as number)];
        expect(plan.at(-1)).toBe('dead-letter');
        const attempts = plan.slice(0, -1) as { attempt: number; at: Date }[];
        expect(attempts.map((a) => a.attempt)).toEqual(
          Array.from({ length: p.maxAttempts }, (_, i) => i + 1),
        );
        for (let i = 1; i < attempts.length; i++) {
          const delay = attempts[i]!.at.getTime() - attempts[i - 1]!.at.getTime();
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(p.capMs, p.baseMs * 2 ** (i - 1)));
        }
      }),
    );
  });
});
