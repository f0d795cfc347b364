/**
 * Cascade assessment on a generated region: our compact `AssetGraph` and `cascade()` against
 * the same label-setting search written on graphology, both built from the same region in the
 * same run. Run with `pnpm bench impact`; `IMPACT_BENCH_ASSETS` sets the size (default
 * 1,000,000 assets, about five dependencies each) and `IMPACT_BENCH_RUNS` the timed runs.
 * Prints a table and writes JSON to results/.
 */
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DirectedGraph } from 'graphology';
import {
  AssetGraph,
  cascade,
  DEFAULT_HORIZON_HOURS,
  DEFAULT_MIN_LOSS,
  loadConfig as loadImpactConfig,
  startImpact,
} from '@beacon/impact';
import { generateRegion, streamRegion } from '@beacon/demo';
import { connectMongo, createDevIssuer, createLogger, tlpToProto } from '@beacon/platform';
import { impactV1 } from '@beacon/proto';
import { testNames } from '@beacon/testkit/infra';
import { startBenchStack } from './services.js';
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
    dependency: (d) => graph.loadDependency(d),
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
  backupSeconds: number;
  timeToImpactSeconds: number;
  degradation: number;
}
type Baseline = DirectedGraph<NodeAttributes, EdgeAttributes>;

interface Label {
  readonly node: string;
  readonly order: number;
  readonly seconds: number;
  readonly loss: number;
  readonly pred: Label | undefined;
}

/** Earliest first; at equal times the larger loss (so the smaller is dominated), then by node. */
function before(a: Label, b: Label): boolean {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds;
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
    heap.push({ node, order: graph.getNodeAttribute(node, 'order'), seconds: 0, loss: 1, pred: undefined });
  }
  for (let label = heap.pop(); label !== undefined; label = heap.pop()) {
    if (label.loss <= (best.get(label.node) ?? 0)) continue;
    best.set(label.node, label.loss);
    kept.push(label);
    const from = label;
    graph.forEachOutEdge(label.node, (_edge, edge, _source, target, _sourceAttributes, targetAttributes) => {
      const at = from.seconds + edge.backupSeconds + edge.timeToImpactSeconds;
      const delivered = from.loss * edge.degradation;
      if (at > HORIZON * 3600 || delivered < MIN_LOSS || delivered <= (best.get(target) ?? 0)) return;
      heap.push({ node: target, order: targetAttributes.order, seconds: at, loss: delivered, pred: from });
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
    // Edges point from provider to dependent, as our rows do. The AssetGraph keeps times in
    // whole seconds; do the same so both add and multiply the very same numbers.
    dependency: (d) =>
      void graph.addEdge(d.providerId, d.dependentId, {
        backupSeconds: Math.round(d.backupHours * 3600),
        timeToImpactSeconds: Math.round(d.timeToImpactHours * 3600),
        degradation: d.degradation,
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
// The same generated rows, in batches of 1,000, on the same Mongo-wire server: straight into a
// collection with the driver, and through impact's ImportRegistry over gRPC (validation,
// ownership checks, insertMany, graph update). FerretDB on SQLite writes about a thousand
// documents per batch and second-scale per 100k, so the import runs on a smaller region than
// the cascade (IMPACT_BENCH_IMPORT_ASSETS, default 20,000 assets ≈ 100,000 dependencies).
const IMPORT_ASSETS = Number(process.env['IMPACT_BENCH_IMPORT_ASSETS'] ?? 20_000);
const IMPORT_BATCH = 1_000;
const TARGET_IMPORT_SHARE = 0.5;
const importRegion = generateRegion({ seed: SEED + 1, assets: IMPORT_ASSETS });
const importRows: impactV1.ImportRow[] = [
  ...importRegion.assets.map((a): impactV1.ImportRow => ({
    row: {
      $case: 'asset',
      value: {
        ...a,
        tlp: tlpToProto(a.tlp),
        ...(a.location ? { location: { ...a.location } } : {}),
        services: [...a.services],
        version: 0,
      },
    },
  })),
  ...importRegion.dependencies.map((d): impactV1.ImportRow => ({
    row: { $case: 'dependency', value: { ...d } },
  })),
];
const stack = await startBenchStack();
const names = testNames();
try {
  const mongo = await connectMongo({ url: stack.endpoints.mongoUrl, appName: 'bench' });
  const rawDb = mongo.db(names.database('raw_import'));
  const rawStarted = performance.now();
  for (let i = 0; i < importRows.length; i += IMPORT_BATCH) {
    const batch = importRows.slice(i, i + IMPORT_BATCH);
    const assets = batch
      .filter((r) => r.row?.$case === 'asset')
      .map((r) => ({ _id: (r.row!.value as impactV1.Asset).id, ...r.row!.value }));
    const deps = batch
      .filter((r) => r.row?.$case === 'dependency')
      .map((r) => {
        const d = r.row!.value as impactV1.Dependency;
        return { _id: `${d.dependentId}|${d.providerId}|${d.kind}`, ...d };
      });
    if (assets.length > 0) await rawDb.collection('assets').insertMany(assets as never[], { ordered: false });
    if (deps.length > 0)
      await rawDb.collection('dependencies').insertMany(deps as never[], { ordered: false });
  }
  const rawMs = performance.now() - rawStarted;

  const issuer = await createDevIssuer({});
  const config = loadImpactConfig({
    MONGO_URL: stack.endpoints.mongoUrl,
    NATS_URL: stack.endpoints.natsUrl,
    IMPACT_DB: names.database('impact'),
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    IMPACT_CONSUMER: names.stream('impact'),
    AUTH_ISSUER: issuer.issuer,
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
  });
  const impact = await startImpact(
    {
      ...config,
      grpc: { host: '127.0.0.1', port: 0 },
      auth: { ...config.auth, jwks: { keys: issuer.jwks } },
    },
    createLogger({ name: 'bench', level: 'silent' }),
  );
  const client = new impactV1.ImpactServiceClient(`127.0.0.1:${impact.port}`, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set(
    'authorization',
    `Bearer ${await issuer.mint({ subject: 'bench', roles: ['coordinator'], clearance: 'RED' })}`,
  );
  const serviceStarted = performance.now();
  let refused = 0;
  for (let i = 0; i < importRows.length; i += IMPORT_BATCH) {
    const response = await new Promise<impactV1.ImportRegistryResponse>((resolve, reject) =>
      client.importRegistry(
        { rows: importRows.slice(i, i + IMPORT_BATCH), firstRow: i + 1 },
        metadata,
        { deadline: new Date(Date.now() + 120_000) },
        (error: ServiceError | null, res?: impactV1.ImportRegistryResponse) =>
          error ? reject(error) : resolve(res!),
      ),
    );
    refused += response.errors.length;
  }
  const serviceMs = performance.now() - serviceStarted;
  if (refused > 0) throw new Error(`the import refused ${refused} generated rows`);
  client.close();
  await impact.stop();
  await mongo.close();

  const rawRate = importRows.length / (rawMs / 1000);
  const serviceRate = importRows.length / (serviceMs / 1000);
  rows.push(
    {
      name: `baseline: raw driver insertMany (${IMPORT_BATCH}/batch)`,
      opsPerSecond: rawRate,
      note: `${importRows.length} rows in ${(rawMs / 1000).toFixed(1)} s`,
    },
    {
      name: `import via ImportRegistry (gRPC, ${IMPORT_BATCH}/batch)`,
      opsPerSecond: serviceRate,
      note: `${importRows.length} rows in ${(serviceMs / 1000).toFixed(1)} s`,
    },
  );
  checks.push({
    target: `bulk import >= ${TARGET_IMPORT_SHARE * 100}% of the raw driver's bulk insert rate`,
    measured: `${Math.round(serviceRate)} vs ${Math.round(rawRate)} rows/s = ${((100 * serviceRate) / rawRate).toFixed(0)}%`,
    pass: serviceRate >= TARGET_IMPORT_SHARE * rawRate,
  });
} finally {
  await stack.stop();
}

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
