import type { Sector, Tlp } from '@beacon/domain';
import type { Asset, Criticality, Dependency, DependencyKind } from '../domain/model.js';

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

/** The kinds of asset the generator makes; an asset's id is `<code>-<index>`. */
export const ASSET_TYPES: readonly AssetType[] = [
  {
    code: 'tss',
    label: 'Transmission substation',
    sector: 'energy',
    family: 'grid',
    perMille: 10,
    criticality: 5,
    population: [5_000, 40_000],
    services: ['electricity-transmission'],
    needs: [
      need('power', 'pp', 2, { degradation: [0.4, 0.6] }),
      need('communications', 'tx', 1, { degradation: [0.2, 0.4], timeToImpact: [0, 4], backup: [1, 8, 24] }),
    ],
  },
  {
    code: 'sub',
    label: 'Substation',
    sector: 'energy',
    family: 'grid',
    perMille: 110,
    criticality: 3,
    population: [500, 20_000],
    services: ['electricity'],
    needs: [
      need('power', 'tss', 2, { degradation: [0.5, 0.7] }),
      need('communications', 'tx', 2, { degradation: [0.1, 0.3], timeToImpact: [0, 2], backup: [1, 4, 12] }),
    ],
  },
  {
    code: 'pp',
    label: 'Power plant',
    sector: 'energy',
    family: 'generation',
    perMille: 5,
    criticality: 5,
    population: [20_000, 200_000],
    services: ['electricity-generation'],
    needs: [
      need('communications', 'tx', 1, { degradation: [0.2, 0.4], backup: [1, 12, 48] }),
      need('fuel', 'fuel', 1, { degradation: [0.3, 0.8], timeToImpact: [48, 168] }),
      need('water', 'wtp', 1, { degradation: [0.2, 0.5], timeToImpact: [12, 48] }),
      need('supply', 'hub', 1, { degradation: [0.1, 0.3], timeToImpact: [72, 168] }),
    ],
  },
  {
    code: 'wtp',
    label: 'Water treatment plant',
    sector: 'water-and-wastewater',
    family: 'water',
    perMille: 20,
    criticality: 4,
    population: [10_000, 150_000],
    services: ['drinking-water'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.8, 1], backup: [0.7, 12, 48] }),
      need('communications', 'tx', 1, { degradation: [0.1, 0.2], backup: [1, 12, 24] }),
      need('fuel', 'fuel', 1, { degradation: [0.2, 0.4], timeToImpact: [24, 72] }),
      need('supply', 'hub', 1, { degradation: [0.3, 0.6], timeToImpact: [72, 168] }),
    ],
  },
  {
    code: 'pump',
    label: 'Pumping station',
    sector: 'water-and-wastewater',
    family: 'water',
    perMille: 80,
    criticality: 2,
    population: [500, 15_000],
    services: ['drinking-water'],
    needs: [
      need('power', 'sub', 1, { degradation: [1, 1], backup: [0.3, 2, 8] }),
      need('water', 'wtp', 1, { degradation: [0.8, 1], timeToImpact: [6, 24] }),
      need('communications', 'tx', 1, { degradation: [0.05, 0.15] }),
      need('fuel', 'fuel', 1, { degradation: [0.2, 0.4], timeToImpact: [24, 72] }),
    ],
  },
  {
    code: 'ww',
    label: 'Wastewater plant',
    sector: 'water-and-wastewater',
    family: 'water',
    perMille: 30,
    criticality: 3,
    population: [5_000, 100_000],
    services: ['wastewater'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.7, 1], backup: [0.5, 4, 24] }),
      need('communications', 'tx', 1, { degradation: [0.05, 0.15] }),
      need('supply', 'hub', 1, { degradation: [0.1, 0.3], timeToImpact: [72, 168] }),
      need('fuel', 'fuel', 1, { degradation: [0.1, 0.3], timeToImpact: [24, 72] }),
    ],
  },
  {
    code: 'hosp',
    label: 'Hospital',
    sector: 'healthcare-and-public-health',
    family: 'health',
    perMille: 15,
    criticality: 5,
    population: [20_000, 250_000],
    services: ['emergency-care', 'inpatient-care'],
    needs: [
      need('power', 'sub', 2, { degradation: [0.6, 0.9], backup: [1, 24, 72] }),
      need('water', 'pump', 1, { degradation: [0.5, 0.8], timeToImpact: [4, 12] }),
      need('communications', 'tx', 2, { degradation: [0.3, 0.5], backup: [0.5, 1, 4] }),
      need('it-cloud', 'dc', 1, { degradation: [0.2, 0.4], timeToImpact: [1, 6] }),
      need('fuel', 'fuel', 1, { degradation: [0.4, 0.6], timeToImpact: [48, 96] }),
      need('transport', 'hub', 1, { degradation: [0.1, 0.3], timeToImpact: [12, 48] }),
      need('supply', 'food', 1, { degradation: [0.1, 0.2], timeToImpact: [48, 120] }),
    ],
  },
  {
    code: 'clinic',
    label: 'Clinic',
    sector: 'healthcare-and-public-health',
    family: 'health',
    perMille: 100,
    criticality: 2,
    population: [2_000, 20_000],
    services: ['primary-care'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.8, 1], backup: [0.5, 4, 12] }),
      need('water', 'pump', 1, { degradation: [0.5, 0.9], timeToImpact: [2, 8] }),
      need('communications', 'tx', 1, { degradation: [0.3, 0.6] }),
      need('it-cloud', 'dc', 1, { degradation: [0.2, 0.5], timeToImpact: [0, 4] }),
      need('transport', 'hub', 1, { degradation: [0.1, 0.3], timeToImpact: [24, 72] }),
      need('finance', 'pay', 1, { degradation: [0.05, 0.15], timeToImpact: [24, 72] }),
    ],
  },
  {
    code: 'tx',
    label: 'Telecom exchange',
    sector: 'communications',
    family: 'telecom',
    perMille: 40,
    criticality: 4,
    population: [5_000, 60_000],
    services: ['fixed-line', 'internet'],
    needs: [
      need('power', 'sub', 2, { degradation: [0.6, 0.9], backup: [1, 4, 8] }),
      need('communications', 'tx', 2, { degradation: [0.2, 0.4] }),
      need('fuel', 'fuel', 1, { degradation: [0.2, 0.4], timeToImpact: [24, 72] }),
      need('it-cloud', 'dc', 1, { degradation: [0.1, 0.2], timeToImpact: [0, 12] }),
    ],
  },
  {
    code: 'cell',
    label: 'Mobile cell site',
    sector: 'communications',
    family: 'telecom',
    perMille: 250,
    criticality: 2,
    population: [200, 3_000],
    services: ['mobile'],
    needs: [
      need('power', 'sub', 1, { degradation: [1, 1], backup: [0.8, 2, 4] }),
      need('communications', 'tx', 2, { degradation: [0.5, 1] }),
      need('it-cloud', 'dc', 1, { degradation: [0.3, 0.6] }),
    ],
  },
  {
    code: 'dc',
    label: 'Data centre',
    sector: 'information-technology',
    family: 'datacentre',
    perMille: 15,
    criticality: 4,
    population: [50_000, 500_000],
    services: ['cloud-hosting', 'colocation'],
    needs: [
      need('power', 'sub', 2, { degradation: [0.5, 0.8], backup: [1, 24, 72] }),
      need('communications', 'tx', 2, { degradation: [0.4, 0.6] }),
      need('water', 'pump', 1, { degradation: [0.2, 0.5], timeToImpact: [6, 24] }),
      need('fuel', 'fuel', 1, { degradation: [0.5, 0.9], timeToImpact: [48, 96] }),
    ],
  },
  {
    code: 'hub',
    label: 'Transport hub',
    sector: 'transportation-systems',
    family: 'transport',
    perMille: 40,
    criticality: 3,
    population: [5_000, 120_000],
    services: ['rail', 'bus', 'freight'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.6, 0.9], backup: [0.3, 1, 4] }),
      need('communications', 'tx', 1, { degradation: [0.4, 0.7] }),
      need('it-cloud', 'dc', 1, { degradation: [0.2, 0.4] }),
      need('fuel', 'fuel', 1, { degradation: [0.3, 0.6], timeToImpact: [24, 72] }),
      need('finance', 'pay', 1, { degradation: [0.05, 0.15] }),
    ],
  },
  {
    code: 'fuel',
    label: 'Fuel depot',
    sector: 'energy',
    family: 'fuel',
    perMille: 20,
    criticality: 3,
    population: [10_000, 80_000],
    services: ['fuel'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.6, 0.9], backup: [0.5, 8, 24] }),
      need('transport', 'hub', 1, { degradation: [0.4, 0.7], timeToImpact: [48, 120] }),
      need('communications', 'tx', 1, { degradation: [0.1, 0.3] }),
      need('finance', 'pay', 1, { degradation: [0.2, 0.4], timeToImpact: [12, 48] }),
    ],
  },
  {
    code: 'pay',
    label: 'Payment processor',
    sector: 'financial-services',
    family: 'finance',
    perMille: 5,
    criticality: 5,
    population: [100_000, 2_000_000],
    services: ['card-payments', 'transfers'],
    needs: [
      need('it-cloud', 'dc', 2, { degradation: [0.5, 0.8] }),
      need('communications', 'tx', 2, { degradation: [0.4, 0.6] }),
      need('power', 'sub', 1, { degradation: [0.8, 1], backup: [1, 24, 48] }),
    ],
  },
  {
    code: 'bank',
    label: 'Bank branch',
    sector: 'financial-services',
    family: 'finance',
    perMille: 120,
    criticality: 1,
    population: [1_000, 10_000],
    services: ['retail-banking', 'cash'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.8, 1] }),
      need('communications', 'tx', 2, { degradation: [0.6, 0.9] }),
      need('finance', 'pay', 1, { degradation: [0.7, 1] }),
      need('it-cloud', 'dc', 1, { degradation: [0.3, 0.5] }),
      need('transport', 'hub', 1, { degradation: [0.1, 0.3], timeToImpact: [24, 72] }),
    ],
  },
  {
    code: 'ems',
    label: 'Emergency services station',
    sector: 'emergency-services',
    family: 'emergency',
    perMille: 90,
    criticality: 4,
    population: [10_000, 80_000],
    services: ['fire', 'ambulance'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.5, 0.8], backup: [1, 24, 72] }),
      need('communications', 'tx', 2, { degradation: [0.4, 0.7], backup: [1, 1, 4] }),
      need('fuel', 'fuel', 1, { degradation: [0.5, 0.8], timeToImpact: [24, 72] }),
      need('water', 'pump', 1, { degradation: [0.1, 0.3], timeToImpact: [2, 12] }),
      need('it-cloud', 'dc', 1, { degradation: [0.3, 0.6] }),
    ],
  },
  {
    code: 'food',
    label: 'Food distribution centre',
    sector: 'food-and-agriculture',
    family: 'food',
    perMille: 50,
    criticality: 2,
    population: [10_000, 100_000],
    services: ['food-supply'],
    needs: [
      need('power', 'sub', 1, { degradation: [0.6, 0.9], backup: [0.4, 4, 12] }),
      need('transport', 'hub', 1, { degradation: [0.5, 0.8], timeToImpact: [24, 72] }),
      need('fuel', 'fuel', 1, { degradation: [0.4, 0.6], timeToImpact: [24, 72] }),
      need('finance', 'pay', 1, { degradation: [0.2, 0.4] }),
      need('it-cloud', 'dc', 1, { degradation: [0.2, 0.4] }),
      need('communications', 'tx', 1, { degradation: [0.2, 0.4] }),
      need('water', 'pump', 1, { degradation: [0.2, 0.4], timeToImpact: [4, 24] }),
    ],
  },
];

/** A kind of asset: its share of the region (per mille) and what it needs from whom. */
export interface AssetType {
  readonly code: string;
  readonly label: string;
  readonly sector: Sector;
  readonly family: Family;
  readonly perMille: number;
  readonly criticality: Criticality;
  /** People served, drawn log-uniformly from this range. */
  readonly population: readonly [number, number];
  readonly services: readonly string[];
  readonly needs: readonly Need[];
}

/** `count` of the nearest `from` assets provide `kind`. */
interface Need {
  readonly kind: DependencyKind;
  readonly from: string;
  readonly count: number;
  readonly degradation: readonly [number, number];
  readonly timeToImpact: readonly [number, number];
  /** With probability p, a backup lasting between the two hours; otherwise none. */
  readonly backup: readonly [p: number, min: number, max: number];
}

function need(
  kind: DependencyKind,
  from: string,
  count: number,
  delays: {
    degradation: [number, number];
    timeToImpact?: [number, number];
    backup?: [number, number, number];
  },
): Need {
  return {
    kind,
    from,
    count,
    degradation: delays.degradation,
    timeToImpact: delays.timeToImpact ?? [0, 0],
    backup: delays.backup ?? [0, 0, 0],
  };
}

/**
 * Who operates what. `local` families (municipal utilities, hospital trusts, fire services)
 * serve neighbouring towns; the others (carriers, banks, data-centre firms) compete everywhere.
 */
const FAMILIES = [
  { family: 'grid', slug: 'grid-operator', share: 0.1, local: true },
  { family: 'generation', slug: 'power-generation', share: 0.03, local: false },
  { family: 'water', slug: 'waterworks', share: 0.2, local: true },
  { family: 'health', slug: 'hospital-trust', share: 0.18, local: true },
  { family: 'telecom', slug: 'telecom', share: 0.02, local: false },
  { family: 'datacentre', slug: 'datacentre', share: 0.04, local: false },
  { family: 'transport', slug: 'transport', share: 0.08, local: true },
  { family: 'fuel', slug: 'fuel-supply', share: 0.05, local: true },
  { family: 'finance', slug: 'bank', share: 0.08, local: false },
  { family: 'emergency', slug: 'emergency-services', share: 0.15, local: true },
  { family: 'food', slug: 'food-logistics', share: 0.07, local: true },
] as const;
type Family = (typeof FAMILIES)[number]['family'];

/** Where a region lies; its neighbours' border towns sit beyond the edge at these bearings. */
interface Geometry {
  readonly lat: number;
  readonly lon: number;
  /** Half the extent, in degrees. */
  readonly halfLat: number;
  readonly halfLon: number;
  readonly neighbours: readonly { readonly code: string; readonly bearing: number }[];
}

const GEOMETRY: Readonly<Record<string, Geometry>> = {
  'DE-BY': {
    lat: 48.95,
    lon: 11.45,
    halfLat: 1.45,
    halfLon: 2.2,
    neighbours: [
      { code: 'DE-BW', bearing: 265 },
      { code: 'DE-HE', bearing: 315 },
      { code: 'DE-TH', bearing: 355 },
      { code: 'DE-SN', bearing: 35 },
    ],
  },
  'DE-BW': {
    lat: 48.6,
    lon: 9.0,
    halfLat: 1.1,
    halfLon: 1.3,
    neighbours: [
      { code: 'DE-RP', bearing: 300 },
      { code: 'DE-HE', bearing: 345 },
      { code: 'DE-BY', bearing: 75 },
    ],
  },
  'DE-NW': {
    lat: 51.45,
    lon: 7.55,
    halfLat: 0.9,
    halfLon: 1.4,
    neighbours: [
      { code: 'DE-NI', bearing: 20 },
      { code: 'DE-HE', bearing: 120 },
      { code: 'DE-RP', bearing: 200 },
    ],
  },
  'DE-BE': {
    lat: 52.5,
    lon: 13.4,
    halfLat: 0.12,
    halfLon: 0.2,
    neighbours: [
      { code: 'DE-BB', bearing: 0 },
      { code: 'DE-BB', bearing: 120 },
      { code: 'DE-BB', bearing: 240 },
    ],
  },
};

/** Share of towns that lie across the border, in a neighbouring subdivision. */
const BORDER_TOWN_SHARE = 0.1;
const KM_PER_DEGREE = 111.2;

interface Towns {
  readonly count: number;
  readonly names: readonly string[];
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  /** Spread of the town's assets, in km. */
  readonly radiusKm: Float64Array;
  /** Cumulative share of assets, for picking a town in proportion to its size. */
  readonly cumulative: Float64Array;
  readonly jurisdiction: readonly string[];
  readonly cosLat: number;
}

/** Towns of Zipf-like sizes scattered over the region, a few across the border. */
function planTowns(random: Random, geometry: Geometry, jurisdiction: string, assets: number): Towns {
  const count = Math.min(2_000, Math.max(3, Math.round(Math.sqrt(assets) / 4)));
  const names = townNames(random, count);
  const lat = new Float64Array(count);
  const lon = new Float64Array(count);
  const radiusKm = new Float64Array(count);
  const cumulative = new Float64Array(count);
  const jurisdictions: string[] = [];
  const cosLat = Math.cos((geometry.lat * Math.PI) / 180);
  let total = 0;
  for (let t = 0; t < count; t++) {
    const weight = 1 / (t + 1) ** 0.9;
    total += weight;
    cumulative[t] = total;
    radiusKm[t] = 1.5 + 10 * Math.sqrt(weight);
    // The largest towns stay at home; every tenth of the smaller ones lies across a border.
    const neighbour =
      t >= 3 && geometry.neighbours.length > 0 && random.next() < BORDER_TOWN_SHARE
        ? geometry.neighbours[random.below(geometry.neighbours.length)]
        : undefined;
    let x: number;
    let y: number;
    if (neighbour) {
      const bearing = ((neighbour.bearing + random.between(-20, 20)) * Math.PI) / 180;
      const reach = random.between(1.02, 1.2);
      x = Math.sin(bearing) * reach;
      y = Math.cos(bearing) * reach;
    } else {
      do {
        x = random.between(-1, 1);
        y = random.between(-1, 1);
      } while (x * x + y * y > 1);
    }
    lat[t] = geometry.lat + y * geometry.halfLat;
    lon[t] = geometry.lon + x * geometry.halfLon;
    jurisdictions.push(neighbour?.code ?? jurisdiction);
  }
  for (let t = 0; t < count; t++) cumulative[t]! /= total;
  return { count, names, lat, lon, radiusKm, cumulative, jurisdiction: jurisdictions, cosLat };
}

const PREFIXES = ['', '', '', '', 'Ober', 'Unter', 'Neu', 'Alt', 'Groß', 'Klein', 'Bad ', 'Sankt '];
const ROOTS = [
  'Ach',
  'Bern',
  'Eich',
  'Fels',
  'Hol',
  'Kirch',
  'Lind',
  'Moos',
  'Ried',
  'Stein',
  'Wald',
  'Wein',
];
const MORE_ROOTS = ['Zell', 'Au', 'Hof', 'Mühl', 'Roth', 'Schön', 'Tann', 'Wies', 'Furth', 'Hall', 'Rosen'];
const SUFFIXES = [
  'bach',
  'berg',
  'burg',
  'dorf',
  'feld',
  'hausen',
  'heim',
  'hofen',
  'ing',
  'kirchen',
  'stadt',
];
const MORE_SUFFIXES = ['tal', 'au', 'bruck', 'münster', 'ried', 'weiler', 'stetten'];

/** Distinct, Bavarian-sounding town names. */
function townNames(random: Random, count: number): string[] {
  const roots = [...ROOTS, ...MORE_ROOTS];
  const suffixes = [...SUFFIXES, ...MORE_SUFFIXES];
  const seen = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    const prefix = PREFIXES[random.below(PREFIXES.length)]!;
    const root = roots[random.below(roots.length)]!;
    let name = prefix + (prefix === '' || prefix.endsWith(' ') ? root : root.toLowerCase());
    name += suffixes[random.below(suffixes.length)]!;
    if (seen.has(name)) name += ` ${names.length}`;
    seen.add(name);
    names.push(name);
  }
  return names;
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

/** Where every asset is: what the dependency pass needs, as columns. */
interface Placed {
  readonly count: number;
  readonly ids: readonly string[];
  readonly type: Uint8Array;
  /** Projected plane, in degrees of latitude: x = lon·cos(lat₀), y = lat. */
  readonly x: Float64Array;
  readonly y: Float64Array;
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

const MAX_COUNT = Math.max(...ASSET_TYPES.flatMap((t) => t.needs.map((n) => n.count)));
const MAX_NEEDS = Math.max(...ASSET_TYPES.map((t) => t.needs.length));

/**
 * The assets of one kind bucketed in square cells of about one each on average, so "the k nearest" looks
 * at a few cells around the point instead of every asset. Each cell's coordinates sit side by
 * side, so a search reads memory in order rather than hopping over all assets.
 */
class SpatialGrid {
  readonly #best = new Float64Array(MAX_COUNT);

  private constructor(
    private readonly minX: number,
    private readonly minY: number,
    private readonly cell: number,
    private readonly width: number,
    private readonly height: number,
    /** Cell c holds members[start[c] .. start[c+1]), at (memberX, memberY). */
    private readonly start: Uint32Array,
    private readonly members: Uint32Array,
    private readonly memberX: Float64Array,
    private readonly memberY: Float64Array,
  ) {}

  static of(placed: Placed, type: number): SpatialGrid {
    let n = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < placed.count; i++) {
      if (placed.type[i] !== type) continue;
      n++;
      minX = Math.min(minX, placed.x[i]!);
      maxX = Math.max(maxX, placed.x[i]!);
      minY = Math.min(minY, placed.y[i]!);
      maxY = Math.max(maxY, placed.y[i]!);
    }
    if (n === 0) [minX, minY, maxX, maxY] = [0, 0, 0, 0];
    const spanX = Math.max(maxX - minX, 1e-9);
    const spanY = Math.max(maxY - minY, 1e-9);
    // Assets crowd into towns, so most cells are empty and the occupied ones hold several.
    const cell = Math.max(Math.sqrt((spanX * spanY) / Math.max(1, n)), 1e-6);
    const width = Math.min(4096, Math.floor(spanX / cell) + 1);
    const height = Math.min(4096, Math.floor(spanY / cell) + 1);
    const start = new Uint32Array(width * height + 1);
    const cellOf = (i: number) =>
      Math.min(height - 1, Math.floor((placed.y[i]! - minY) / cell)) * width +
      Math.min(width - 1, Math.floor((placed.x[i]! - minX) / cell));
    for (let i = 0; i < placed.count; i++) if (placed.type[i] === type) start[cellOf(i) + 1]!++;
    for (let c = 0; c < width * height; c++) start[c + 1]! += start[c]!;
    const cursor = start.slice();
    const members = new Uint32Array(n);
    const memberX = new Float64Array(n);
    const memberY = new Float64Array(n);
    for (let i = 0; i < placed.count; i++) {
      if (placed.type[i] !== type) continue;
      const at = cursor[cellOf(i)]!++;
      members[at] = i;
      memberX[at] = placed.x[i]!;
      memberY[at] = placed.y[i]!;
    }
    return new SpatialGrid(minX, minY, cell, width, height, start, members, memberX, memberY);
  }

  /**
   * Writes the (up to) k members nearest to (px, py), nearest first and other than `exclude`,
   * into `out`; returns how many. Searches rings of cells outwards until no closer one can exist.
   */
  nearest(px: number, py: number, k: number, exclude: number, out: Int32Array): number {
    const { cell, width, height, start, members, memberX, memberY } = this;
    const best = this.#best;
    let found = 0;
    const cx = clamp(Math.floor((px - this.minX) / cell), 0, width - 1);
    const cy = clamp(Math.floor((py - this.minY) / cell), 0, height - 1);
    const rings = Math.max(width, height);
    for (let r = 0; r <= rings; r++) {
      for (let gy = Math.max(0, cy - r); gy <= Math.min(height - 1, cy + r); gy++) {
        const edge = gy === cy - r || gy === cy + r;
        for (let gx = cx - r; gx <= cx + r; gx += edge || r === 0 ? 1 : 2 * r) {
          if (gx < 0 || gx >= width) continue;
          const c = gy * width + gx;
          for (let m = start[c]!, end = start[c + 1]!; m < end; m++) {
            const dx = memberX[m]! - px;
            const dy = memberY[m]! - py;
            const d = dx * dx + dy * dy;
            if (found === k && d >= best[k - 1]!) continue;
            const i = members[m]!;
            if (i === exclude) continue;
            // Insertion into the short sorted list of the best so far.
            let at = found < k ? found++ : k - 1;
            while (at > 0 && best[at - 1]! > d) {
              best[at] = best[at - 1]!;
              out[at] = out[at - 1]!;
              at--;
            }
            best[at] = d;
            out[at] = i;
          }
        }
      }
      if (found === k) {
        // Nothing outside the searched block of cells is nearer than the block's nearest open side.
        const left = cx - r > 0 ? px - (this.minX + (cx - r) * cell) : Infinity;
        const right = cx + r < width - 1 ? this.minX + (cx + r + 1) * cell - px : Infinity;
        const below = cy - r > 0 ? py - (this.minY + (cy - r) * cell) : Infinity;
        const above = cy + r < height - 1 ? this.minY + (cy + r + 1) * cell - py : Infinity;
        const reach = Math.min(left, right, below, above);
        if (reach === Infinity || best[k - 1]! <= reach * reach) break;
      }
    }
    return found;
  }
}

/** mulberry32: small, fast and plenty for demo data; seeded so every run replays. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Two independent standard normal deviates (Box–Muller). */
  normalPair(): [number, number] {
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  }
}

/** A 32-bit stream seed from the user's seed and a stream number (splitmix-style finaliser). */
function mix(seed: number, stream: number): number {
  let h =
    (Math.imul(seed | 0, 0x9e3779b1) ^ Math.floor(seed / 2 ** 32) ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The first index whose cumulative share exceeds r. */
function pick(cumulative: ArrayLike<number>, r: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (cumulative[mid]! > r) high = mid;
    else low = mid + 1;
  }
  return low;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
