/**
 * Beacon's domain vocabulary: pure functions and data with no I/O and no Node built-ins, safe
 * to import from Temporal workflows. Generated wire types never enter here.
 */
export * from './tlp.js';
export * from './taxonomy.js';
export * from './jurisdiction.js';
export * from './victim-needs.js';
export * from './nciss.js';
export * from './nciss-proposals.js';
export * from './observables.js';
export * from './ip-address.js';
export * from './defang.js';
export * from './regulatory.js';
export * from './regime-withdrawal.js';
export * from './ransom-reports.js';
export * from './places.js';
export * from './service-scopes.js';
export * from './trust.js';
export * from './text.js';
export * from './list-filter.js';
export * from './list-order.js';
export * from './use-case-error.js';
export * from './field-rules.js';
