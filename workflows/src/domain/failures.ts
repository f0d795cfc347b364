/**
 * Failure types of the response's activities, carried as `ApplicationFailure.type`. The
 * workflows branch on these strings, never on error classes, which do not cross the sandbox.
 */
export enum FailureType {
  /** The request was malformed: retrying cannot help. */
  InvalidArgument = 'InvalidArgument',
  NotFound = 'NotFound',
  /** The worker's service identity may not do this: a deployment fault, not a transient one. */
  PermissionDenied = 'PermissionDenied',
  /** The service refused in its current state (e.g. an assessment with no affected assets). */
  FailedPrecondition = 'FailedPrecondition',
  /** The worker runs without this dependency (e.g. no impact service configured). */
  NotConfigured = 'NotConfigured',
  /** The victims service is not wired into this worker yet. */
  VictimsServiceUnavailable = 'VictimsServiceUnavailable',
}

/** Retrying these never helps: every activity's retry policy stops on them. */
export const NON_RETRYABLE: readonly FailureType[] = [
  FailureType.InvalidArgument,
  FailureType.NotFound,
  FailureType.PermissionDenied,
  FailureType.FailedPrecondition,
  FailureType.NotConfigured,
  FailureType.VictimsServiceUnavailable,
];
