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
