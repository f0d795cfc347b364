import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StormControl } from './storm.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe('StormControl', () => {
  it('sends the first events of a window, holds the rest, and digests them when the window ends', () => {
    const storm = new StormControl<string>({ windowMs: 60_000, threshold: 2 });
    expect(['e1', 'e2', 'e3', 'e4'].map((e, i) => storm.offer('cert', 'inc-1', e, at(i)))).toEqual([
      'send-now',
      'send-now',
      'held',
      'held',
    ]);
    expect(storm.nextDueAt()).toEqual(at(60));
    expect(storm.due(at(59.999))).toEqual([]);
    expect(storm.due(at(60))).toEqual([
      {
        id: `digest:cert:inc-1:${T0}`,
        agencyId: 'cert',
        incidentId: 'inc-1',
        windowStart: at(0),
        windowEnd: at(60),
        events: ['e3', 'e4'],
        omitted: 0,
      },
    ]);
    expect(storm.due(at(60))).toEqual([]);
  });

  it('keeps a storm coalescing until a whole window passes quietly', () => {
    const storm = new StormControl<string>({ windowMs: 60_000, threshold: 1 });
    storm.offer('cert', 'inc-1', 'a', at(0));
    storm.offer('cert', 'inc-1', 'b', at(1));
    expect(storm.due(at(60)).map((d) => d.events)).toEqual([['b']]);
    expect(storm.isStorming('cert', 'inc-1')).toBe(true);
    // Still storming: even the first event of the next window waits for the digest.
    expect(storm.offer('cert', 'inc-1', 'c', at(70))).toBe('held');
    expect(storm.due(at(120)).map((d) => [d.events, d.windowStart])).toEqual([[['c'], at(60)]]);
    // 120..180 passes without an event: the storm is over.
    expect(storm.due(at(180))).toEqual([]);
    expect(storm.isStorming('cert', 'inc-1')).toBe(false);
    expect(storm.offer('cert', 'inc-1', 'd', at(181))).toBe('send-now');
    expect(storm.nextDueAt()).toBeUndefined();
  });

  it('keeps agencies and incidents apart', () => {
    const storm = new StormControl<string>({ windowMs: 60_000, threshold: 1 });
    expect(storm.offer('cert', 'inc-1', 'a', at(0))).toBe('send-now');
    expect(storm.offer('cert', 'inc-1', 'b', at(0))).toBe('held');
    expect(storm.offer('cert', 'inc-2', 'c', at(0))).toBe('send-now');
    expect(storm.offer('police', 'inc-1', 'd', at(0))).toBe('send-now');
    // Ids that would collide if naively joined with a separator stay apart.
    expect(storm.offer('a:b', 'c', 'e', at(0))).toBe('send-now');
    expect(storm.offer('a', 'b:c', 'f', at(0))).toBe('send-now');
  });

  it('holds everything with a threshold of 0', () => {
    const storm = new StormControl<number>({ windowMs: 1_000, threshold: 0 });
    expect(storm.offer('a', 'i', 1, at(0))).toBe('held');
    expect(storm.due(at(1)).map((d) => d.events)).toEqual([[1]]);
  });

  it('bounds a digest and counts what it leaves to the feed', () => {
    const storm = new StormControl<number>({ windowMs: 60_000, threshold: 0, maxDigestEvents: 3 });
    for (let i = 0; i < 10; i++) storm.offer('a', 'i', i, at(i));
    const [digest] = storm.due(at(60));
    expect(digest?.events).toEqual([0, 1, 2]);
    expect(digest?.omitted).toBe(7);
  });

  it('settles an ended window on the next offer even if due was not called in between', () => {
    const storm = new StormControl<string>({ windowMs: 60_000, threshold: 1 });
    storm.offer('a', 'i', 'x', at(0));
    storm.offer('a', 'i', 'y', at(10));
    expect(storm.offer('a', 'i', 'z', at(200))).toBe('send-now');
    expect(storm.due(at(200)).map((d) => d.events)).toEqual([['y']]);
  });

  it('refuses nonsense configuration', () => {
    expect(() => new StormControl({ windowMs: 0, threshold: 1 })).toThrow(RangeError);
    expect(() => new StormControl({ windowMs: 1000, threshold: -1 })).toThrow(RangeError);
    expect(() => new StormControl({ windowMs: 1000, threshold: 1.5 })).toThrow(RangeError);
    expect(() => new StormControl({ windowMs: 1000, threshold: 1, maxDigestEvents: 0 })).toThrow(RangeError);
  });

  const offers = fc.array(
    fc.record({
      agency: fc.constantFrom('a', 'b'),
      incident: fc.constantFrom('i1', 'i2'),
      gapMs: fc.integer({ min: 0, max: 40_000 }),
      dueFirst: fc.boolean(),
    }),
    { maxLength: 60 },
  );
  const config = fc.record({
    windowMs: fc.integer({ min: 1_000, max: 60_000 }),
    threshold: fc.integer({ min: 0, max: 4 }),
    maxDigestEvents: fc.integer({ min: 1, max: 5 }),
  });

  it('accounts for every event once: sent now, in one digest, or counted as omitted', () => {
    fc.assert(
      fc.property(config, offers, (cfg, list) => {
        const storm = new StormControl<number>(cfg);
        let now = T0;
        let sent = 0;
        const digests = [];
        for (const [n, { agency, incident, gapMs, dueFirst }] of list.entries()) {
          now += gapMs;
          if (dueFirst) digests.push(...storm.due(new Date(now)));
          if (storm.offer(agency, incident, n, new Date(now)) === 'send-now') sent += 1;
        }
        digests.push(...storm.due(new Date(now + 10 * cfg.windowMs)));
        const digested = digests.flatMap((d) => d.events);
        const omitted = digests.reduce((sum, d) => sum + d.omitted, 0);
        expect(sent + digested.length + omitted).toBe(list.length);
        expect(new Set(digested).size).toBe(digested.length);
        expect(new Set(digests.map((d) => d.id)).size).toBe(digests.length);
        for (const d of digests) {
          expect(d.events.length).toBeLessThanOrEqual(cfg.maxDigestEvents);
          expect(d.events.length + d.omitted).toBeGreaterThan(0);
        }
        expect(storm.nextDueAt()).toBeUndefined();
      }),
    );
  });

  it('decides the same whenever due is called', () => {
    fc.assert(
      fc.property(config, offers, (cfg, list) => {
        const eager = new StormControl<number>(cfg);
        const lazy = new StormControl<number>(cfg);
        let now = T0;
        for (const [n, { agency, incident, gapMs, dueFirst }] of list.entries()) {
          now += gapMs;
          if (dueFirst) eager.due(new Date(now));
          expect(eager.offer(agency, incident, n, new Date(now))).toBe(
            lazy.offer(agency, incident, n, new Date(now)),
          );
        }
      }),
    );
  });

  it('sends at most the threshold at once for a burst inside one window', () => {
    fc.assert(
      fc.property(config, fc.integer({ min: 0, max: 30 }), (cfg, n) => {
        const storm = new StormControl<number>(cfg);
        const results = Array.from({ length: n }, (_, i) =>
          storm.offer('a', 'i', i, new Date(T0 + Math.floor((i * (cfg.windowMs - 1)) / Math.max(1, n)))),
        );
        expect(results.filter((r) => r === 'send-now').length).toBe(Math.min(n, cfg.threshold));
      }),
    );
  });
});
