/**
 * Cascade assessment on a generated region: our compact `AssetGraph` and `cascade()` against
 * the same label-setting search written on graphology, both built from the same region in the
 * same run. Run with `pnpm bench impact`; `IMPACT_BENCH_ASSETS` sets the size (default
 * 1,000,000 assets, about five dependencies each) and `IMPACT_BENCH_RUNS` the timed runs.
 * Prints a table and writes JSON to results/.
 */
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DirectedGraph } from 'graphology';
import { AssetGraph, cascade, DEFAULT_HORIZON_HOURS, DEFAULT_MIN_LOSS } from '@beacon/impact';
import { streamRegion } from '@beacon/impact/demo';
import { publish, type Check, type Row } from './report.js';

const ASSETS = Number(process.env['IMPACT_BENCH_ASSETS'] ?? 1_000_000);
const RUNS = Number(process.env['IMPACT_BENCH_RUNS'] ?? 7);
const SEED = 2026;
/** A regional blackout: ten transmission substations (ids `tss-<n>`) fail completely. */
const SOURCES = 10;
const SOURCE_PREFIX = 'tss-';
const HORIZON = DEFAULT_HORIZON_HOURS;
const MIN_LOSS = DEFAULT_MIN_LOSS;
const TARGET_SPEEDUP = 5;
const TARGET_MEDIAN_MS = 1_000;
const TARGET_BYTES_PER_DEPENDENCY = 64;

// `pnpm bench` starts suites without node flags; a forced collection makes the memory figures
// the live size rather than whatever garbage happens to be left, so turn it on at run time.
setFlagsFromString('--expose-gc');
const gc = (globalThis.gc ?? runInNewContext('gc')) as () => void;

interface Memory {
  readonly rss: number;
  /** Live JS heap plus typed-array backing stores, which live outside the heap. */
  readonly live: number;
}

function memory(): Memory {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, live: m.heapUsed + m.arrayBuffers };
}

/** Median and 95th percentile (nearest rank) of run times in ms. */
function spread(times: readonly number[]): { median: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  return { median: rank(0.5), p95: rank(0.95) };
}

/** One warm-up, then `RUNS` timed runs. */
function timeRuns<T>(run: () => T): { times: number[]; result: T } {
  let result = run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = run();
    times.push(performance.now() - started);
  }
  return { times, result };
}

/** What both implementations must agree on: each impacted asset's largest loss. */
interface Outcome {
  readonly maxLoss: Map<string, number>;
  /** People who lose service: population served × largest loss, summed. */
  readonly population: number;
}

const MB = 2 ** 20;
const rows: Row[] = [];
const checks: Check[] = [];
const region = { seed: SEED, assets: ASSETS };

// Generation alone, so the build rows below can be read net of it.
{
  const started = performance.now();
  const counts = streamRegion(region, { asset: () => undefined, dependency: () => undefined });
  const seconds = (performance.now() - started) / 1000;
  rows.push({
    name: 'generate region (no graph)',
    opsPerSecond: counts.dependencies / seconds,
    note: `${counts.assets} assets, ${counts.dependencies} dependencies in ${seconds.toFixed(1)} s; ops = dependencies`,
  });
  console.error(
    `generated ${counts.assets} assets, ${counts.dependencies} dependencies in ${seconds.toFixed(1)} s`,
  );
}

// ── Ours: AssetGraph (compressed sparse rows) and cascade() ──────────────────────────────────
const ours = (() => {
  const before = memory();
  const started = performance.now();
  const graph = new AssetGraph();
  const sources: number[] = [];
  const counts = streamRegion(region, {
    asset: (asset) => {
      const node = graph.putAsset(asset);
      if (asset.id.startsWith(SOURCE_PREFIX)) sources.push(node);
    },
    dependency: (d) => graph.putDependency(d),
  });
  const view = graph.view();
  const seconds = (performance.now() - started) / 1000;
  const after = memory();
  if (graph.dependencyCount !== counts.dependencies) {
    throw new Error(
      `AssetGraph holds ${graph.dependencyCount} dependencies, the region has ${counts.dependencies}`,
    );
  }
  const perDependency = (bytes: number) => bytes / counts.dependencies;
  const rss = after.rss - before.rss;
  const live = after.live - before.live;
  rows.push({
    name: 'build AssetGraph (incl. generation)',
    opsPerSecond: counts.dependencies / seconds,
    note: `${seconds.toFixed(1)} s; live +${(live / MB).toFixed(0)} MB = ${perDependency(live).toFixed(1)} B/dep; rss +${(rss / MB).toFixed(0)} MB = ${perDependency(rss).toFixed(1)} B/dep`,
  });
  console.error(`AssetGraph built in ${seconds.toFixed(1)} s`);

  const initial = Array.from({ length: SOURCES }, (_, i) => ({
    node: sources[Math.floor((i * sources.length) / SOURCES)]!,
    loss: 1,
  }));
  const { times, result } = timeRuns(() =>
    cascade(view, initial, { horizonHours: HORIZON, minLoss: MIN_LOSS }),
  );
  const maxLoss = new Map<string, number>();
  let population = 0;
  for (const node of result.impactedNodes()) {
    maxLoss.set(graph.idOf(node), result.maxLoss(node));
    population += graph.populationOf(node) * result.maxLoss(node);
  }
  return {
    times,
    sourceIds: initial.map(({ node }) => graph.idOf(node)),
    outcome: { maxLoss, population } satisfies Outcome,
    impacted: result.impactedCount,
    memory: { rss, live, perDependency: perDependency(live), rssPerDependency: perDependency(rss) },
    dependencies: counts.dependencies,
  };
})();
// The AssetGraph is unreachable from here on, so graphology is built without it in memory.

// ── Baseline: the same search on graphology ──────────────────────────────────────────────────
interface NodeAttributes {
  population: number;
  /** Insertion order, for the same tie rule as ours (smaller node first). */
  order: number;
}
interface EdgeAttributes {
  backupHours: number;
  timeToImpactHours: number;
  degradation: number;
}
type Baseline = DirectedGraph<NodeAttributes, EdgeAttributes>;

interface Label {
  readonly node: string;
  readonly order: number;
  readonly hours: number;
  readonly loss: number;
  readonly pred: Label | undefined;
}

/** Earliest first; at equal times the larger loss (so the smaller is dominated), then by node. */
function before(a: Label, b: Label): boolean {
  if (a.hours !== b.hours) return a.hours < b.hours;
  if (a.loss !== b.loss) return a.loss > b.loss;
  if (a.order !== b.order) return a.order < b.order;
  return (a.pred?.order ?? -1) < (b.pred?.order ?? -1);
}

/** A plain binary min-heap. */
class BinaryHeap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && this.less(items[child + 1]!, items[child]!)) child++;
      if (!this.less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * The label-setting search of `cascade()`: labels in time order, a label kept only when it
 * raises its asset's loss, the same horizon and noise floor; kept labels and their
 * predecessors are retained as ours retains them for loss steps and critical paths.
 */
function graphologyCascade(
  graph: Baseline,
  initial: readonly string[],
): { best: Map<string, number>; kept: Label[] } {
  const best = new Map<string, number>();
  const kept: Label[] = [];
  const heap = new BinaryHeap<Label>(before);
  for (const node of initial) {
    heap.push({ node, order: graph.getNodeAttribute(node, 'order'), hours: 0, loss: 1, pred: undefined });
  }
  for (let label = heap.pop(); label !== undefined; label = heap.pop()) {
    if (label.loss <= (best.get(label.node) ?? 0)) continue;
    best.set(label.node, label.loss);
    kept.push(label);
    const from = label;
    graph.forEachOutEdge(label.node, (_edge, edge, _source, target, _sourceAttributes, targetAttributes) => {
      const at = from.hours + edge.backupHours + edge.timeToImpactHours;
      const delivered = from.loss * edge.degradation;
      if (at > HORIZON || delivered < MIN_LOSS || delivered <= (best.get(target) ?? 0)) return;
      heap.push({ node: target, order: targetAttributes.order, hours: at, loss: delivered, pred: from });
    });
  }
  return { best, kept };
}

const baseline = (() => {
  const before = memory();
  const started = performance.now();
  // A simple graph: the region has no two dependencies between the same pair of assets (a
  // second one would make addEdge throw, failing the bench rather than skewing it).
  const graph: Baseline = new DirectedGraph<NodeAttributes, EdgeAttributes>({ allowSelfLoops: false });
  let order = 0;
  streamRegion(region, {
    asset: (asset) => graph.addNode(asset.id, { population: asset.populationServed, order: order++ }),
    // Edges point from provider to dependent, as our rows do. The AssetGraph keeps these as
    // 32-bit floats; round them the same way so both add and multiply the very same numbers.
    dependency: (d) =>
      void graph.addEdge(d.providerId, d.dependentId, {
        backupHours: Math.fround(d.backupHours),
        timeToImpactHours: Math.fround(d.timeToImpactHours),
        degradation: Math.fround(d.degradation),
      }),
  });
  const seconds = (performance.now() - started) / 1000;
  const after = memory();
  const rss = after.rss - before.rss;
  const live = after.live - before.live;
  const perDependency = (bytes: number) => bytes / graph.size;
  rows.push({
    name: 'baseline: build graphology graph (incl. generation)',
    opsPerSecond: graph.size / seconds,
    note: `${seconds.toFixed(1)} s; live +${(live / MB).toFixed(0)} MB = ${perDependency(live).toFixed(1)} B/dep; rss +${(rss / MB).toFixed(0)} MB = ${perDependency(rss).toFixed(1)} B/dep`,
  });
  console.error(`graphology graph built in ${seconds.toFixed(1)} s`);

  const { times, result } = timeRuns(() => graphologyCascade(graph, ours.sourceIds));
  let population = 0;
  for (const [node, loss] of result.best) population += graph.getNodeAttribute(node, 'population') * loss;
  return {
    times,
    outcome: { maxLoss: result.best, population } satisfies Outcome,
    impacted: result.best.size,
  };
})();

// Both must have found the same cascade, asset by asset, or the timings compare nothing. The
// population sums may differ in the last bits only, by the order they were added in.
const samePopulation =
  Math.abs(ours.outcome.population - baseline.outcome.population) <= 1e-9 * ours.outcome.population;
const disagreements = [...new Set([...ours.outcome.maxLoss.keys(), ...baseline.outcome.maxLoss.keys()])]
  .filter((id) => ours.outcome.maxLoss.get(id) !== baseline.outcome.maxLoss.get(id))
  .map((id) => `${id}: ours ${ours.outcome.maxLoss.get(id)}, graphology ${baseline.outcome.maxLoss.get(id)}`);
if (ours.impacted !== baseline.impacted || !samePopulation || disagreements.length > 0) {
  throw new Error(
    `cascades differ: impacted ${ours.impacted} vs ${baseline.impacted}, population ${ours.outcome.population} vs ${baseline.outcome.population}; ${disagreements.length} assets differ, e.g. ${disagreements.slice(0, 5).join('; ')}`,
  );
}

const oursSpread = spread(ours.times);
const baselineSpread = spread(baseline.times);
const cascadeNote = (s: { median: number; p95: number }) =>
  `median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms over ${RUNS} runs; ${ours.impacted} assets, ${Math.round(ours.outcome.population)} people`;
rows.push({
  name: `cascade from ${SOURCES} substations: AssetGraph + cascade()`,
  opsPerSecond: 1000 / oursSpread.median,
  p50Ms: oursSpread.median,
  note: cascadeNote(oursSpread),
});
rows.push({
  name: `baseline: same search on graphology`,
  opsPerSecond: 1000 / baselineSpread.median,
  p50Ms: baselineSpread.median,
  note: cascadeNote(baselineSpread),
});

// ── Bulk import: raw driver insertMany vs the service's import path ──────────────────────────
// Reserved for the import benchmark (it needs the database stack, as intake.bench.ts starts
// it); its rows and checks join the ones above before publishing.
// ─────────────────────────────────────────────────────────────────────────────────────────────

const speedup = baselineSpread.median / oursSpread.median;
checks.push(
  {
    target: `cascade >= ${TARGET_SPEEDUP}x faster than graphology (median)`,
    measured: `${oursSpread.median.toFixed(1)} ms vs ${baselineSpread.median.toFixed(1)} ms = ${speedup.toFixed(1)}x`,
    pass: speedup >= TARGET_SPEEDUP,
  },
  {
    target: `cascade median < ${TARGET_MEDIAN_MS} ms`,
    measured: `${oursSpread.median.toFixed(1)} ms (p95 ${oursSpread.p95.toFixed(1)} ms)`,
    pass: oursSpread.median < TARGET_MEDIAN_MS,
  },
  {
    target: `AssetGraph live memory < ${TARGET_BYTES_PER_DEPENDENCY} B per dependency (heapUsed + arrayBuffers)`,
    measured: `${ours.memory.perDependency.toFixed(1)} B/dep (${(ours.memory.live / MB).toFixed(0)} MB for ${ours.dependencies} dependencies)`,
    pass: ours.memory.perDependency < TARGET_BYTES_PER_DEPENDENCY,
  },
  {
    target: `AssetGraph resident growth < ${TARGET_BYTES_PER_DEPENDENCY} B per dependency (rss)`,
    measured: `${ours.memory.rssPerDependency.toFixed(1)} B/dep (${(ours.memory.rss / MB).toFixed(0)} MB)`,
    pass: ours.memory.rssPerDependency < TARGET_BYTES_PER_DEPENDENCY,
  },
);

publish('impact', rows, checks, fileURLToPath(new URL('./results', import.meta.url)));
