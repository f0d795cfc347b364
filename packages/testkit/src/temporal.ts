import { TestWorkflowEnvironment } from '@temporalio/testing';
import { installedBinary } from './paths.js';

/** Attempts at starting the test server: Temporal's core gives it a fixed 5 s, which a loaded 2-core machine can miss. */
const ATTEMPTS = 3;

/**
 * Temporal's time-skipping test server (installed by `make install`, never downloaded at
 * test time): timers of days or months complete as soon as nothing else is running.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
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
