import { TestWorkflowEnvironment } from '@temporalio/testing';
import { INDEXED_VALUE_TYPES, TEMPORAL_SEARCH_ATTRIBUTES } from './components.js';
import { installedBinary } from './paths.js';

/** Attempts at starting the test server: Temporal's core gives it a fixed 5 s, which a loaded 2-core machine can miss. */
const ATTEMPTS = 3;

/**
 * Temporal's time-skipping test server (installed by `make install`, never downloaded at
 * test time): timers of days or months complete as soon as nothing else is running. Beacon's
 * search attributes are registered on it, as on the dev server, so workflows can upsert them.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await startTimeSkipping();
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        Object.entries(TEMPORAL_SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]]),
      ),
    });
  } catch (error) {
    await env.teardown();
    throw error;
  }
  return env;
}

async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: installedBinary('temporal-test-server') } },
      });
    } catch (error) {
      // Only a slow start is worth another try; anything else is a real failure.
      if (attempt >= ATTEMPTS || !String(error).includes('did not start within')) throw error;
    }
  }
}
