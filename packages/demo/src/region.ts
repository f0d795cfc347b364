import type { Tlp } from '@beacon/domain';
import type { Asset, Criticality, Dependency, DependencyKind } from '@beacon/impact';
import { ASSET_TYPES, FAMILIES, MAX_COUNT, MAX_NEEDS } from './asset-types.js';
import { mix, pick, Random, round } from './random.js';
import { SpatialGrid, type Placed } from './spatial-grid.js';
import { GEOMETRY, KM_PER_DEGREE, planTowns, type Towns } from './towns.js';

/**
 * Demo data: a seeded, deterministic regional infrastructure of any size — towns, the assets
 * clustered around them and the dependencies between them — for demos, tests and benchmarks.
 * The same options always give the same region; nothing here reads the clock or Math.random.
 */

export interface RegionOptions {
  /** Any integer; the same seed gives the same region. */
  readonly seed: number;
  /** How many assets; dependencies come to about five per asset. */
  readonly assets: number;
  /** The ISO 3166-2 subdivision the region lies in; a few border towns belong to its neighbours. */
  readonly jurisdiction?: string;
  /** How many operating agencies share the assets; default one per 400 assets, at least one per family. */
  readonly operators?: number;
}

export interface Region {
  readonly assets: Asset[];
  readonly dependencies: Dependency[];
}

/**
 * Receives the region as it is made, every asset before any dependency, so that a large region
 * can be loaded into a graph without ever holding millions of objects at once.
 */
export interface RegionSink {
  asset(asset: Asset): void;
  dependency(dependency: Dependency): void;
}

export interface RegionCounts {
  readonly assets: number;
  readonly dependencies: number;
}

/** The whole region as arrays: for demos and tests of modest size. */
export function generateRegion(options: RegionOptions): Region {
  const assets: Asset[] = [];
  const dependencies: Dependency[] = [];
  streamRegion(options, {
    asset: (asset) => void assets.push(asset),
    dependency: (dependency) => void dependencies.push(dependency),
  });
  return { assets, dependencies };
}

/** The region, one asset and one dependency at a time; see {@link RegionSink}. */
export function streamRegion(options: RegionOptions, sink: RegionSink): RegionCounts {
  const { seed, assets: count } = options;
  const jurisdiction = options.jurisdiction ?? 'DE-BY';
  const operators = options.operators ?? Math.max(FAMILIES.length, Math.round(count / 400));
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(count) || count < 0 || count > 2 ** 31) {
    throw new RangeError(`assets must be an integer in [0, 2^31], got ${count}`);
  }
  if (!Number.isInteger(operators) || operators < FAMILIES.length) {
    throw new RangeError(`operators must be an integer of at least ${FAMILIES.length}, got ${operators}`);
  }
  const geometry = GEOMETRY[jurisdiction];
  if (!geometry) {
    throw new RangeError(`no geometry for ${jurisdiction}; known: ${Object.keys(GEOMETRY).join(', ')}`);
  }

  const towns = planTowns(new Random(mix(seed, 1)), geometry, jurisdiction, count);
  const operatorIds = planOperators(operators);
  const placed = placeAssets(new Random(mix(seed, 2)), towns, operatorIds, count, sink);
  const dependencies = connect(new Random(mix(seed, 3)), placed, sink);
  return { assets: count, dependencies };
}

interface Operators {
  readonly ids: readonly string[];
  /** The family's operators are ids[start[f]] .. ids[start[f] + size[f] - 1]. */
  readonly start: readonly number[];
  readonly size: readonly number[];
}

/** Every family gets at least one operator; the rest are shared out by largest remainder. */
function planOperators(total: number): Operators {
  const spare = total - FAMILIES.length;
  const quotas = FAMILIES.map((f) => f.share * spare);
  const size = quotas.map((q) => 1 + Math.floor(q));
  let left = total - size.reduce((a, b) => a + b, 0);
  const order = quotas
    .map((q, f) => ({ f, rest: q - Math.floor(q) }))
    .sort((a, b) => b.rest - a.rest || a.f - b.f);
  for (const { f } of order) {
    if (left-- <= 0) break;
    size[f]!++;
  }
  const ids: string[] = [];
  const start: number[] = [];
  FAMILIES.forEach((family, f) => {
    start.push(ids.length);
    for (let n = 1; n <= size[f]!; n++) ids.push(`${family.slug}-${n}`);
  });
  return { ids, start, size };
}

const TYPE_INDEX = new Map<string, number>(ASSET_TYPES.map((t, i) => [t.code, i]));
const FAMILY_INDEX = new Map<string, number>(FAMILIES.map((f, i) => [f.family, i]));
const CUMULATIVE_TYPE_SHARE = (() => {
  const total = ASSET_TYPES.reduce((sum, t) => sum + t.perMille, 0);
  let running = 0;
  return ASSET_TYPES.map((t) => (running += t.perMille) / total);
})();
/** The kinds whose details operators guard more closely. */
const SENSITIVE = new Set(['tss', 'pp', 'dc', 'pay']);

function placeAssets(
  random: Random,
  towns: Towns,
  operators: Operators,
  count: number,
  sink: RegionSink,
): Placed {
  const ids: string[] = new Array<string>(count);
  const types = new Uint8Array(count);
  const x = new Float64Array(count);
  const y = new Float64Array(count);
  // Numbering per town and kind of asset, for names like "Substation Lindhausen 3".
  const ordinal = new Uint32Array(towns.count * ASSET_TYPES.length);
  for (let i = 0; i < count; i++) {
    const t = pick(CUMULATIVE_TYPE_SHARE, random.next());
    const assetType = ASSET_TYPES[t]!;
    const town = pick(towns.cumulative, random.next());
    const [dx, dy] = random.normalPair();
    const spread = towns.radiusKm[town]! / KM_PER_DEGREE;
    const lat = round(towns.lat[town]! + dy * spread, 5);
    const lon = round(towns.lon[town]! + (dx * spread) / towns.cosLat, 5);
    const id = `${assetType.code}-${i}`;
    ids[i] = id;
    types[i] = t;
    x[i] = lon * towns.cosLat;
    y[i] = lat;

    const family = FAMILY_INDEX.get(assetType.family)!;
    const pool = operators.size[family]!;
    const local = FAMILIES[family]!.local;
    const member = local
      ? Math.min(pool - 1, Math.floor(((town + random.next()) * pool) / towns.count))
      : random.below(pool);
    const n = ++ordinal[town * ASSET_TYPES.length + t]!;
    const [low, high] = assetType.population;
    sink.asset({
      id,
      name: `${assetType.label} ${towns.names[town]!}${n > 1 ? ` ${n}` : ''}`,
      operatorId: operators.ids[operators.start[family]! + member]!,
      sector: assetType.sector,
      jurisdiction: towns.jurisdiction[town]!,
      location: { lat, lon },
      populationServed: Math.round(low * (high / low) ** random.next()),
      criticality: jitterCriticality(assetType.criticality, random.next()),
      services: assetType.services,
      tlp: tlpFor(SENSITIVE.has(assetType.code), random.next()),
    });
  }
  return { count, ids, type: types, x, y };
}

function jitterCriticality(base: Criticality, r: number): Criticality {
  const shifted = r < 0.15 ? base - 1 : r > 0.85 ? base + 1 : base;
  return Math.min(5, Math.max(1, shifted)) as Criticality;
}

function tlpFor(sensitive: boolean, r: number): Tlp {
  if (sensitive) return r < 0.05 ? 'CLEAR' : r < 0.35 ? 'GREEN' : r < 0.9 ? 'AMBER' : 'AMBER+STRICT';
  return r < 0.25 ? 'CLEAR' : r < 0.7 ? 'GREEN' : r < 0.97 ? 'AMBER' : 'AMBER+STRICT';
}

/** Each asset's needs met by the nearest providers of the right kind. */
function connect(random: Random, placed: Placed, sink: RegionSink): number {
  const grids = ASSET_TYPES.map((_, t) => SpatialGrid.of(placed, t));
  const found = new Int32Array(MAX_COUNT);
  const usedProvider = new Int32Array(MAX_NEEDS * MAX_COUNT);
  const usedKind = new Array<DependencyKind>(MAX_NEEDS * MAX_COUNT);
  let dependencies = 0;
  for (let i = 0; i < placed.count; i++) {
    const assetType = ASSET_TYPES[placed.type[i]!]!;
    let used = 0;
    for (const { kind, from, count, degradation, timeToImpact, backup } of assetType.needs) {
      const grid = grids[TYPE_INDEX.get(from)!]!;
      const n = grid.nearest(placed.x[i]!, placed.y[i]!, count, i, found);
      for (let k = 0; k < n; k++) {
        const provider = found[k]!;
        let duplicate = false;
        for (let u = 0; u < used; u++) duplicate ||= usedProvider[u] === provider && usedKind[u] === kind;
        if (duplicate) continue;
        usedProvider[used] = provider;
        usedKind[used++] = kind;
        const [p, low, high] = backup;
        sink.dependency({
          dependentId: placed.ids[i]!,
          providerId: placed.ids[provider]!,
          kind,
          timeToImpactHours: round(random.between(timeToImpact[0], timeToImpact[1]) * 2, 0) / 2,
          // Steps of 0.05: readable, and never below the smallest range's floor.
          degradation: Math.max(0.05, round(random.between(degradation[0], degradation[1]) * 20, 0) / 20),
          backupHours: p > 0 && random.next() < p ? round(random.between(low, high) * 2, 0) / 2 : 0,
        });
        dependencies++;
      }
    }
  }
  return dependencies;
}
