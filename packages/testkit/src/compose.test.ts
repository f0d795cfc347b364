import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPORAL_NAMESPACE, TEMPORAL_SEARCH_ATTRIBUTES } from './components.js';
import { IMAGES } from './containers.js';
import { repoRoot } from './paths.js';

// The compose file is for Docker users and never runs here, so keep it in step by reading it.
const compose = readFileSync(join(repoRoot, 'infra/compose/compose.yaml'), 'utf8');

describe('infra/compose/compose.yaml', () => {
  it('uses the images the container test path uses', () => {
    for (const image of Object.values(IMAGES)) expect(compose).toContain(`image: ${image}\n`);
  });

  it('registers the Beacon namespace and every search attribute the local stack registers', () => {
    expect(compose).toContain(`--namespace=${TEMPORAL_NAMESPACE}\n`);
    const registered = [...compose.matchAll(/--search-attribute=(\w+)=(\w+)/g)].map(([, k, t]) => [k, t]);
    expect(Object.fromEntries(registered)).toEqual(TEMPORAL_SEARCH_ATTRIBUTES);
  });
});
