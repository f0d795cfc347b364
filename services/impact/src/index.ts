/** The impact service: asset registry, dependency graph and cascade assessment. */
export * from './domain/model.js';
export { AssetGraph, type GraphView } from './domain/graph.js';
export * from './domain/cascade.js';
export * from './domain/summary.js';
export { loadConfig, type ImpactConfig } from './config.js';
export { startImpact, VERSION, type RunningImpact } from './start.js';
