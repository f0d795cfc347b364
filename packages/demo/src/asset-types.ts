import type { Sector } from '@beacon/domain';
import type { Criticality, DependencyKind } from '@beacon/impact';

// The catalogue of the demo region: what kinds of asset it has, in what shares, who operates
// them and what each needs from which other kind.

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
export const FAMILIES = [
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
export type Family = (typeof FAMILIES)[number]['family'];

/** The most providers one need asks for, and the most needs a kind has: scratch buffer sizes. */
export const MAX_COUNT = Math.max(...ASSET_TYPES.flatMap((t) => t.needs.map((n) => n.count)));
export const MAX_NEEDS = Math.max(...ASSET_TYPES.map((t) => t.needs.length));
