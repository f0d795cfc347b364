import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { repeat, sweepDelay } from './periodic.js';

describe('sweepDelay', () => {
  it('keeps the period while a sweep is quick, and waits 19 times a slow one', () => {
    expect(sweepDelay(30_000, 100)).toBe(29_900);
    expect(sweepDelay(30_000, 1_500)).toBe(28_500);
    expect(sweepDelay(30_000, 1_600)).toBe(30_400);
    expect(sweepDelay(30_000, 4_000)).toBe(76_000);
    expect(sweepDelay(1_000, 0)).toBe(1_000);
  });
});

describe('repeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const logger = createLogger({ name: 'periodic-test', level: 'silent' });

  it('runs every period, one run at a time, later after a slow run', async () => {
    const starts: number[] = [];
    let running = 0;
    let overlapped = false;
    let tookMs = 10;
    const repeating = repeat(
      async () => {
        starts.push(Date.now());
        overlapped ||= running > 0;
        running += 1;
        await new Promise((resolve) => setTimeout(resolve, tookMs));
        running -= 1;
      },
      { periodMs: 1_000, logger, what: 'test sweep' },
    );
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(2_100);
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_000]);
    // A run longer than the period: the next waits 19 times as long after it ends.
    tookMs = 3_000;
    await vi.advanceTimersByTimeAsync(61_000);
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_000, 3_000, 63_000]);
    expect(overlapped).toBe(false);
    const stopping = repeating.stop();
    await vi.advanceTimersByTimeAsync(3_000);
    await stopping;
  });

  it('runs again at once after a run that found a full batch', async () => {
    const starts: number[] = [];
    let batches = 3;
    const repeating = repeat(
      async () => {
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        return (batches -= 1) > 0;
      },
      { periodMs: 1_000, logger, what: 'test sweep' },
    );
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(1_000 + 3 * 2_000 + 19 * 2_000 + 10);
    // Within the millisecond a zero-delay timer takes.
    expect(starts.map((t) => Math.round((t - t0) / 100) * 100)).toEqual([1_000, 3_000, 5_000, 45_000]);
    const stopping = repeating.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
  });

  it('goes on after a failed run, and stop waits for the run under way', async () => {
    let runs = 0;
    let finished = false;
    const warn = vi.spyOn(logger, 'warn');
    const repeating = repeat(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('store away');
        await new Promise((resolve) => setTimeout(resolve, 500));
        finished = true;
      },
      { periodMs: 1_000, logger, what: 'test sweep' },
    );
    await vi.advanceTimersByTimeAsync(2_100);
    expect(runs).toBe(2);
    const [fields, message] = warn.mock.calls[0] as unknown as [{ err: Error }, string];
    expect([fields.err.message, message]).toEqual(['store away', 'test sweep failed']);
    const stopping = repeating.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
  });
});
