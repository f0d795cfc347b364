import { describe, expect, it } from 'vitest';
import { redeliveryBackoff, redeliveryDelayMs } from './durable-consumer.js';
import { StopOrder } from './stop-order.js';

describe('StopOrder', () => {
  it('closes last opened first, once however often it is stopped', async () => {
    const closed: string[] = [];
    const stops = new StopOrder();
    for (const name of ['store', 'nats', 'server']) stops.push(() => void closed.push(name));
    expect(stops.stopping).toBe(false);
    await Promise.all([stops.stop(), stops.stop()]);
    await stops.stop();
    expect(stops.stopping).toBe(true);
    expect(closed).toEqual(['server', 'nats', 'store']);
  });
});

describe('the redelivery back-off', () => {
  it('doubles from a second up to 30 s for Beacon’s events, and holds at a fixed pace when base and cap meet', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => redeliveryDelayMs(n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    const everySecond = redeliveryBackoff({ baseMs: 1_000, capMs: 1_000 });
    expect([1, 2, 7, 50].map((n) => everySecond(n))).toEqual([1_000, 1_000, 1_000, 1_000]);
  });
});
