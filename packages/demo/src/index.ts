/**
 * Demo data for Beacon: a seeded, deterministic regional infrastructure of any size, for the
 * local stack's demo seed (`seed.ts`), tests and benchmarks. Not part of any service's runtime.
 */
export {
  generateRegion,
  streamRegion,
  type Region,
  type RegionCounts,
  type RegionOptions,
  type RegionSink,
} from './region.js';
export { ASSET_TYPES, type AssetType } from './asset-types.js';
