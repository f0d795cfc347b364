import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedBundle } from './bundle-cache.js';

describe('cachedBundle', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-cache-'));
    dir = join(root, 'workflows');
    mkdirSync(dir);
    vi.stubEnv('BEACON_WORKFLOW_BUNDLE_CACHE', join(root, 'cache'));
    writeFileSync(join(dir, 'index.js'), 'export const a = 1;');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(root, { recursive: true, force: true });
  });

  const bundler = () => {
    let made = 0;
    const make = () => Promise.resolve({ code: `bundle ${++made}` } as WorkflowBundleWithSourceMap);
    return { make, made: () => made };
  };

  it('bundles once for the same code and serves the next start from the cache', async () => {
    const { make, made } = bundler();
    const first = await cachedBundle(dir, false, make);
    const second = await cachedBundle(dir, false, make);
    expect(made()).toBe(1);
    expect(second.code).toBe(first.code);
  });

  it('bundles again when a workflow module or the tracing choice changes', async () => {
    const { make, made } = bundler();
    await cachedBundle(dir, false, make);
    await cachedBundle(dir, true, make);
    expect(made()).toBe(2);
    writeFileSync(join(dir, 'index.js'), 'export const a = 2;');
    expect((await cachedBundle(dir, false, make)).code).toBe('bundle 3');
  });
});
