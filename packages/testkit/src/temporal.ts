import { TestWorkflowEnvironment } from '@temporalio/testing';
import { installedBinary } from './paths.js';

/**
 * Temporal's time-skipping test server (installed by `make install`, never downloaded at
 * test time): timers of days or months complete as soon as nothing else is running.
 */
export function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: installedBinary('temporal-test-server') } },
  });
}
