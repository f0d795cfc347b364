import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from './concurrency.js';

/** A task that finishes when the test says so. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('ConcurrencyLimit', () => {
  it('runs at most the limit at once, the rest in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limit.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(limit.load).toEqual({ running: 2, waiting: 2 });
    gates[1]!.open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('drops a waiting task whose signal aborts, and frees no extra slot', async () => {
    const limit = new ConcurrencyLimit(1);
    const first = gate();
    const running = limit.run(() => first.opened);
    const controller = new AbortController();
    const waiting = limit.run(async () => 'never', controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(limit.load).toEqual({ running: 1, waiting: 0 });
    first.open();
    await running;
    expect(await limit.run(async () => 'next')).toBe('next');
  });
});
