import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the "source" export condition), so
// tests never run against stale build output.
const resolve = { conditions: ['source'] };

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'unit',
          include: [
            '{packages,services,workflows}/*/src/**/*.test.ts',
            'workflows/src/**/*.test.ts',
            // The deployment manifests: rendered and validated offline, no servers.
            'test/deploy/**/*.test.ts',
            // The benchmarks' own arithmetic.
            'test/bench/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            '{packages,services}/*/test/**/*.test.ts',
            'workflows/test/**/*.test.ts',
          ],
          environment: 'node',
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          // Temporal's native core is not safe to share across worker threads.
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
