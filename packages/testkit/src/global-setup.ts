import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startContainers } from './containers.js';
import { infraDir } from './paths.js';
import { startStack, stopRecordedStack, type Endpoints } from './stack.js';
import { rmSync } from 'node:fs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The servers this test run talks to. */
    infra: Endpoints;
  }
}

/**
 * Vitest global setup for suites that need real servers: starts them once per run (or uses
 * MONGO_URL / NATS_URL / TEMPORAL_ADDRESS), hands their addresses to every test through
 * `inject('infra')`, and stops them when the run ends. Tests isolate themselves by name.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mode = process.env['BEACON_TEST_INFRA'] ?? 'local';
  if (mode === 'containers') {
    const stack = await startContainers();
    project.provide('infra', stack.endpoints);
    return () => stack.stop();
  }
  if (mode !== 'local') throw new Error(`BEACON_TEST_INFRA must be "local" or "containers", not "${mode}"`);

  const dir = join(infraDir, 'test');
  // A run that crashed may have left its servers behind; their data is of no further use.
  await stopRecordedStack(dir);
  rmSync(dir, { recursive: true, force: true });
  const stack = await startStack({ dir, ports: 'free', ui: false, env: process.env });
  project.provide('infra', stack.endpoints);
  return () => stack.stop();
}
