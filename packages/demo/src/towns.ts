import type { Random } from './random.js';

// Where the demo region's assets cluster: towns scattered over a known subdivision, named,
// sized and a few of them across its border.

/** Where a region lies; its neighbours' border towns sit beyond the edge at these bearings. */
export interface Geometry {
  readonly lat: number;
  readonly lon: number;
  /** Half the extent, in degrees. */
  readonly halfLat: number;
  readonly halfLon: number;
  readonly neighbours: readonly { readonly code: string; readonly bearing: number }[];
}

export const GEOMETRY: Readonly<Record<string, Geometry>> = {
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
export const KM_PER_DEGREE = 111.2;

export interface Towns {
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
export function planTowns(random: Random, geometry: Geometry, jurisdiction: string, assets: number): Towns {
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
