/**
 * Real infrastructure for Beacon's tests, benchmarks and local runs: start and stop NATS,
 * the Mongo-wire store and Temporal as local processes (or containers), hand each test
 * isolated names, and break servers on purpose for fault tests. Outside vitest, import
 * `@beacon/testkit/infra`, which has everything but the fixtures.
 */
export * from './infra.js';
export { test } from './fixtures.js';
