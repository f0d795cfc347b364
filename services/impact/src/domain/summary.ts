import type { NcissInputs } from '@beacon/domain';
import type { Cascade } from './cascade.js';
import type { AssetGraph } from './graph.js';
import type { DependencyKind } from './model.js';

export interface Tally {
  readonly key: string;
  /** Assets that lose any service within the horizon. */
  readonly assets: number;
  /** People who lose service, each asset's population weighted by its largest loss. */
  readonly population: number;
}

export interface ImpactedAsset {
  readonly assetId: string;
  readonly firstImpactHours: number;
  readonly maxLoss: number;
  readonly maxLossHours: number;
  /** Population served × largest loss. */
  readonly population: number;
  readonly criticalPath: readonly {
    readonly assetId: string;
    readonly hours: number;
    readonly loss: number;
    readonly via?: DependencyKind;
  }[];
}

/** Impacted assets of one sector in one jurisdiction. */
export interface PlaceTally {
  readonly sector: string;
  readonly jurisdiction: string;
  readonly assets: number;
  readonly population: number;
}

/** What coordinators read: who loses what, when, for how many people, and through which chain. */
export interface ImpactSummary {
  readonly horizonHours: number;
  readonly impactedAssets: number;
  readonly populationAffected: number;
  readonly bySector: readonly Tally[];
  readonly byJurisdiction: readonly Tally[];
  readonly byOperator: readonly Tally[];
  /** Each (sector, jurisdiction) the cascade reaches: the places, not the cross-product. */
  readonly byPlace: readonly PlaceTally[];
  /** People without service at each sample hour (0, r, 2r … horizon). */
  readonly populationOverTime: readonly { readonly hours: number; readonly population: number }[];
  /** The assets whose loss costs the most people, earliest first on ties, with their chains. */
  readonly topImpacts: readonly ImpactedAsset[];
}

/** About 168 samples whatever the horizon: hourly over the default week. */
export function sampleHours(horizonHours: number): number {
  return Math.max(1, Math.ceil(horizonHours / 168));
}

/**
 * What a cascade means for people. `include` restricts the summary to some assets (those within
 * a reader's clearance): every count, tally, curve and ranking is then over those assets alone,
 * and a critical path skips the hops it excludes, so nothing in the result names or measures an
 * excluded asset.
 */
export function summarise(
  graph: AssetGraph,
  result: Cascade,
  options: { readonly top?: number; readonly include?: (node: number) => boolean } = {},
): ImpactSummary {
  const top = options.top ?? 50;
  const include = options.include ?? (() => true);
  const bySector = new TallyMap();
  const byJurisdiction = new TallyMap();
  const byOperator = new TallyMap();
  const byPlace = new TallyMap();
  const ranked: { node: number; population: number; first: number }[] = [];
  let populationAffected = 0;
  for (const node of result.impactedNodes()) {
    if (!include(node)) continue;
    const population = graph.populationOf(node) * result.maxLoss(node);
    populationAffected += population;
    bySector.add(graph.sectorOf(node), population);
    byJurisdiction.add(graph.jurisdictionOf(node), population);
    byOperator.add(graph.operatorOf(node), population);
    byPlace.add(placeKey(graph.sectorOf(node), graph.jurisdictionOf(node)), population);
    ranked.push({ node, population, first: result.firstImpactHours(node) ?? 0 });
  }

  // Samples at 0, step, 2·step … and at the horizon itself when it falls between two.
  const step = sampleHours(result.horizonHours);
  const samples = Math.ceil(result.horizonHours / step) + 1;
  const sampleAt = (i: number) => Math.min(i * step, result.horizonHours);
  const increments = new Float64Array(samples);
  for (const { node, hours, loss, previousLoss } of result.allSteps()) {
    if (!include(node)) continue;
    const sample = Math.min(samples - 1, Math.ceil(hours / step));
    increments[sample]! += graph.populationOf(node) * (loss - previousLoss);
  }
  const populationOverTime: { hours: number; population: number }[] = [];
  let running = 0;
  for (let i = 0; i < samples; i++) {
    running += increments[i]!;
    populationOverTime.push({ hours: sampleAt(i), population: Math.round(running) });
  }

  ranked.sort((a, b) => b.population - a.population || a.first - b.first || a.node - b.node);
  const topImpacts = ranked.slice(0, top).map(({ node, population }): ImpactedAsset => ({
    assetId: graph.idOf(node),
    firstImpactHours: result.firstImpactHours(node) ?? 0,
    maxLoss: result.maxLoss(node),
    maxLossHours: result.maxLossHours(node) ?? 0,
    population: Math.round(population),
    criticalPath: result
      .criticalPath(node)
      .filter((hop) => include(hop.node))
      .map((hop) => ({
        assetId: graph.idOf(hop.node),
        hours: hop.hours,
        loss: hop.loss,
        ...(hop.via ? { via: hop.via } : {}),
      })),
  }));

  return {
    horizonHours: result.horizonHours,
    impactedAssets: ranked.length,
    populationAffected: Math.round(populationAffected),
    bySector: bySector.sorted(),
    byJurisdiction: byJurisdiction.sorted(),
    byOperator: byOperator.sorted(),
    byPlace: byPlace.sorted().map(({ key, assets, population }) => {
      const [sector, jurisdiction] = key.split(PLACE_SEPARATOR) as [string, string];
      return { sector, jurisdiction, assets, population };
    }),
    populationOverTime,
    topImpacts,
  };
}

/**
 * The two NCISS inputs a cascade informs.
 * - Cross-sector dependency counts the sectors the damage reaches beyond those hit directly:
 *   none; one (low); two or three (medium); four or more (high) — a cascade into power or
 *   telecoms typically drags in several at once.
 * - Potential impact scales with people who lose service by the horizon, by orders of
 *   magnitude (under 1,000 low; under 10,000 medium; under 100,000 high; more: very high),
 *   the way national crisis plans grade events.
 */
export function ncissFromImpact(
  summary: Pick<ImpactSummary, 'bySector' | 'populationAffected'>,
  directSectors: ReadonlySet<string>,
): Pick<NcissInputs, 'crossSectorDependency' | 'potentialImpact'> {
  const spread = summary.bySector.filter((t) => !directSectors.has(t.key)).length;
  const crossSectorDependency =
    spread === 0 ? 'none' : spread === 1 ? 'low' : spread <= 3 ? 'medium' : 'high';
  const people = summary.populationAffected;
  const potentialImpact =
    people <= 0
      ? 'none'
      : people < 1_000
        ? 'low'
        : people < 10_000
          ? 'medium'
          : people < 100_000
            ? 'high'
            : 'very-high';
  return { crossSectorDependency, potentialImpact };
}

/** Neither a sector id nor an ISO 3166 code contains it. */
const PLACE_SEPARATOR = ' ';
const placeKey = (sector: string, jurisdiction: string) => `${sector}${PLACE_SEPARATOR}${jurisdiction}`;

class TallyMap {
  readonly #tallies = new Map<string, { assets: number; population: number }>();
  add(key: string, population: number): void {
    const tally = this.#tallies.get(key);
    if (tally) {
      tally.assets++;
      tally.population += population;
    } else this.#tallies.set(key, { assets: 1, population });
  }
  sorted(): Tally[] {
    return [...this.#tallies]
      .map(([key, t]) => ({ key, assets: t.assets, population: Math.round(t.population) }))
      .sort((a, b) => b.population - a.population || b.assets - a.assets || a.key.localeCompare(b.key));
  }
}
