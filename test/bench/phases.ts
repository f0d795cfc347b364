/**
 * Pure arithmetic of the pipeline bench: percentiles, and submissions grouped by how many
 * incidents the store held when each was made (the growth table of issue 22).
 */

/** The value at quantile `q` (0–1) of ascending `sorted` (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** One timed call: when it started and ended (ms, one clock) and what the store held then. */
export interface Sample {
  readonly startedMs: number;
  readonly endedMs: number;
  /** Incidents stored when the call was made. */
  readonly stored: number;
}

export interface Bucket {
  /** Incidents stored, from (inclusive) … to (exclusive), as the bucket's edges. */
  readonly from: number;
  readonly to: number;
  readonly samples: number;
  /** From the first call's start to the last one's end. */
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Summary of samples: rate over their span, p50 and p99 of their durations. */
export function summarise(samples: readonly Sample[]): Omit<Bucket, 'from' | 'to'> {
  if (samples.length === 0) {
    return { samples: 0, seconds: 0, perSecond: 0, p50Ms: Number.NaN, p99Ms: Number.NaN };
  }
  const durations = samples.map((s) => s.endedMs - s.startedMs).sort((a, b) => a - b);
  const start = Math.min(...samples.map((s) => s.startedMs));
  const end = Math.max(...samples.map((s) => s.endedMs));
  const seconds = (end - start) / 1000;
  return {
    samples: samples.length,
    seconds,
    perSecond: seconds > 0 ? samples.length / seconds : Number.NaN,
    p50Ms: percentile(durations, 0.5),
    p99Ms: percentile(durations, 0.99),
  };
}

/**
 * Samples grouped by the store's size when they were made, in buckets `width` incidents wide
 * aligned on multiples of `width` (2,000 stored with width 500: the bucket 2,000 → 2,500);
 * buckets with no sample are left out. Ascending.
 */
export function bucketByStored(samples: readonly Sample[], width: number): Bucket[] {
  if (!(width > 0)) throw new Error(`bucket width must be positive, not ${width}`);
  const groups = new Map<number, Sample[]>();
  for (const sample of samples) {
    const from = Math.floor(sample.stored / width) * width;
    let group = groups.get(from);
    if (!group) groups.set(from, (group = []));
    group.push(sample);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([from, group]) => ({ from, to: from + width, ...summarise(group) }));
}

/**
 * Latency from an event to its consequence per key (a submission's acknowledgement to the
 * incident in a feed, or to its triage): p50/p99 over the keys that arrived, and how many
 * never did. A consequence seen before its cause (clock order) counts as 0 ms.
 */
export function lagSummary(
  causes: ReadonlyMap<string, number>,
  consequences: ReadonlyMap<string, number>,
): { readonly arrived: number; readonly missing: number; readonly p50Ms: number; readonly p99Ms: number } {
  const lags: number[] = [];
  let missing = 0;
  for (const [key, at] of causes) {
    const seen = consequences.get(key);
    if (seen === undefined) missing += 1;
    else lags.push(Math.max(0, seen - at));
  }
  lags.sort((a, b) => a - b);
  return { arrived: lags.length, missing, p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99) };
}
