import { describe, expect, it } from 'vitest';
import { bucketByStored, lagSummary, percentile, summarise, type Sample } from './phases.js';

const sample = (startedMs: number, ms: number, stored: number): Sample => ({
  startedMs,
  endedMs: startedMs + ms,
  stored,
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([1, 2], 0)).toBe(1);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('summarise', () => {
  it('rates samples over their span, from the first start to the last end', () => {
    const summary = summarise([sample(0, 100, 0), sample(500, 500, 1), sample(1_000, 1_000, 2)]);
    expect(summary.seconds).toBe(2);
    expect(summary.perSecond).toBe(1.5);
    expect(summary.p50Ms).toBe(500);
    expect(summary.p99Ms).toBe(1_000);
  });
});

describe('bucketByStored', () => {
  it('groups by the store size at submission, aligned on the width, ascending', () => {
    const buckets = bucketByStored(
      [sample(0, 10, 2_010), sample(0, 30, 1_999), sample(10, 20, 2_499), sample(20, 40, 2_500)],
      500,
    );
    expect(buckets.map((b) => [b.from, b.to, b.samples])).toEqual([
      [1_500, 2_000, 1],
      [2_000, 2_500, 2],
      [2_500, 3_000, 1],
    ]);
    expect(buckets[1]!.p99Ms).toBe(20);
  });

  it('refuses a width that is not positive', () => {
    expect(() => bucketByStored([], 0)).toThrow(/positive/);
  });
});

describe('lagSummary', () => {
  it('measures each cause to its consequence and counts those that never came', () => {
    const causes = new Map([
      ['a', 100],
      ['b', 200],
      ['c', 300],
    ]);
    const consequences = new Map([
      ['a', 150],
      ['b', 190],
    ]);
    expect(lagSummary(causes, consequences)).toEqual({ arrived: 2, missing: 1, p50Ms: 0, p99Ms: 50 });
  });
});
