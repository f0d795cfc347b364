import type { Incident } from './incident.js';

export type TrendGranularity = 'day' | 'week';
export type TrendDimension = 'rsit-class' | 'sector' | 'jurisdiction';

export interface TrendPoint {
  readonly periodStart: Date;
  readonly key: string;
  readonly count: number;
}

const DAY_MS = 86_400_000;

/** Start of the UTC day, or of the ISO week (Monday), that `at` falls in. */
export function periodStart(at: Date, granularity: TrendGranularity): Date {
  const day = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
  if (granularity === 'day') return new Date(day);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(day - weekday * DAY_MS);
}

/**
 * Incidents opened per period, counted by one dimension. An incident in two sectors counts once
 * for each; one without any value for the dimension counts under `unknown`.
 */
export function trends(
  incidents: readonly Pick<Incident, 'openedAt' | 'classification' | 'sectors' | 'jurisdictions'>[],
  granularity: TrendGranularity,
  dimension: TrendDimension,
): TrendPoint[] {
  const counts = new Map<string, { periodStart: Date; key: string; count: number }>();
  for (const incident of incidents) {
    const start = periodStart(incident.openedAt, granularity);
    const keys =
      dimension === 'rsit-class'
        ? [incident.classification.rsitClass]
        : dimension === 'sector'
          ? incident.sectors
          : incident.jurisdictions;
    for (const key of keys.length > 0 ? new Set(keys) : ['unknown']) {
      const id = `${start.toISOString()}|${key}`;
      const point = counts.get(id) ?? { periodStart: start, key, count: 0 };
      point.count += 1;
      counts.set(id, point);
    }
  }
  return [...counts.values()].sort(
    (a, b) => a.periodStart.getTime() - b.periodStart.getTime() || a.key.localeCompare(b.key),
  );
}
