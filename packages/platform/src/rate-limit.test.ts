import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then the steady rate, per caller', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    const burst = Array.from({ length: 6 }, () => limiter.take('a'));
    expect(burst).toEqual([0, 0, 0, 0, 0, 1]);
    expect(limiter.take('b')).toBe(0); // another caller has its own bucket
    now += 100; // one token back at 10 per second
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now += 10_000;
    expect(Array.from({ length: 6 }, () => limiter.take('a'))).toEqual([0, 0, 0, 0, 0, 1]);
  });
});

describe('RateLimiter shared among replicas', () => {
  it('takes what another replica reports from the same key, and tells what it took itself', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 4, () => now);
    expect(limiter.take('a')).toBe(0);
    expect([...limiter.drain()]).toEqual([['a', 1]]);
    expect([...limiter.drain()]).toEqual([]); // told once
    limiter.absorb('a', 3); // the other replicas took the rest of the burst
    expect(limiter.peek('a')).toBe(1);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    // A debt is at most one burst deep: a flood reported elsewhere does not lock a key out for long.
    limiter.absorb('a', 1_000);
    now += 5_000;
    expect(limiter.take('a')).toBe(0);
  });
});
