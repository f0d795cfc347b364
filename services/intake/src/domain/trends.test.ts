import { describe, expect, it } from 'vitest';
import { periodStart, trends } from './trends.js';

const at = (iso: string, sectors: string[] = [], jurisdictions: string[] = [], rsitClass = 'fraud') => ({
  openedAt: new Date(iso),
  classification: { rsitClass, rsitType: 'phishing' } as never,
  sectors,
  jurisdictions,
});

describe('trends', () => {
  it('starts weeks on Monday in UTC and days at midnight UTC', () => {
    expect(periodStart(new Date('2026-11-29T23:30:00Z'), 'week').toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(periodStart(new Date('2026-11-23T00:00:00Z'), 'week').toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(periodStart(new Date('2026-11-29T23:30:00+02:00'), 'day').toISOString()).toBe(
      '2026-11-29T00:00:00.000Z',
    );
  });

  it('counts incidents per period and key, once per distinct key, in order', () => {
    const incidents = [
      at('2026-11-24T10:00:00Z', ['energy', 'water-and-wastewater', 'energy'], ['DE']),
      at('2026-11-25T10:00:00Z', ['energy'], ['DE', 'FR']),
      at('2026-11-30T10:00:00Z', [], ['FR'], 'availability'),
    ];
    expect(
      trends(incidents, 'week', 'sector').map((p) => [
        p.periodStart.toISOString().slice(0, 10),
        p.key,
        p.count,
      ]),
    ).toEqual([
      ['2026-11-23', 'energy', 2],
      ['2026-11-23', 'water-and-wastewater', 1],
      ['2026-11-30', 'unknown', 1],
    ]);
    expect(
      trends(incidents, 'day', 'jurisdiction').map((p) => [
        p.periodStart.toISOString().slice(0, 10),
        p.key,
        p.count,
      ]),
    ).toEqual([
      ['2026-11-24', 'DE', 1],
      ['2026-11-25', 'DE', 1],
      ['2026-11-25', 'FR', 1],
      ['2026-11-30', 'FR', 1],
    ]);
    expect(trends(incidents, 'week', 'rsit-class').map((p) => [p.key, p.count])).toEqual([
      ['fraud', 2],
      ['availability', 1],
    ]);
  });
});
