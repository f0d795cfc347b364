import { describe, expect, it } from 'vitest';
import type { IncidentFacts } from './ports.js';
import { Reassessment } from './reassessment.js';

const incident = (id: string): IncidentFacts => ({ id, tlp: 'GREEN', sectors: [], affectedAssets: [] });

function setUp(count: number, options: { delayMs?: number; slow?: Promise<void> } = {}) {
  const all = Array.from({ length: count }, (_, i) => incident(`inc-${String(i).padStart(4, '0')}`));
  const runs: string[][] = [];
  let current: string[] = [];
  const reassessment = new Reassessment({
    delayMs: options.delayMs ?? 20,
    incidents: {
      incidentPage: async (after, limit) => {
        if (after === undefined) runs.push((current = []));
        const from = after === undefined ? 0 : all.findIndex((i) => i.id === after) + 1;
        const items = all.slice(from, from + limit);
        return { items, next: from + limit < all.length ? items.at(-1)!.id : undefined };
      },
    },
    reassess: async (i) => {
      await options.slow;
      current.push(i.id);
      return i.id.endsWith('7') ? 'assessed' : 'unchanged';
    },
  });
  return { reassessment, runs };
}

describe('re-assessment after registry changes', () => {
  it('covers every assessed incident, page after page, and counts those whose cascade moved', async () => {
    const { reassessment, runs } = setUp(450);
    expect(await reassessment.runNow()).toBe(45);
    expect(runs).toHaveLength(1);
    expect(new Set(runs[0]).size).toBe(450);
  });

  it('runs once for a burst of changes, and once more for changes made while it ran', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { reassessment, runs } = setUp(3, { slow });
    for (let i = 0; i < 5; i++) reassessment.schedule();
    await expect.poll(() => runs.length).toBe(1);
    // Changes while the run is under way: one more run after it, not one each.
    reassessment.schedule();
    reassessment.schedule();
    release();
    await expect.poll(() => runs.length).toBe(2);
    await reassessment.close();
    expect(runs.length).toBe(2);
    expect(runs.every((r) => r.length === 3)).toBe(true);
  });

  it('schedules nothing once closed', async () => {
    const { reassessment, runs } = setUp(2, { delayMs: 5 });
    await reassessment.close();
    reassessment.schedule();
    expect(await reassessment.runNow()).toBe(0);
    expect(runs).toHaveLength(1); // the direct run's first page only
  });
});
