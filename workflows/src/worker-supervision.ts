/** How the Temporal worker's `run()` ended: resolved, or rejected with an error. */
export type WorkerRunEnd = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** What the process does about it. */
export type WorkerVerdict =
  { readonly exit: false } | { readonly exit: true; readonly reason: string; readonly error?: unknown };

/**
 * Whether the end of the worker's run must end the process. A run the process asked to stop (it
 * is shutting down) ends quietly, whichever way. Any other end leaves a process that polls no
 * task queue while its starter, consumers and response API carry on and its health says SERVING:
 * it must exit non-zero, so that Kubernetes (or whatever supervises it) starts a new one. That
 * holds for a run that resolved as well: the SDK's core shuts a worker down by itself when a
 * poller dies.
 */
export function workerRunVerdict(end: WorkerRunEnd, stopRequested: boolean): WorkerVerdict {
  if (stopRequested) return { exit: false };
  return end.ok
    ? { exit: true, reason: 'the Temporal worker stopped without being asked to' }
    : { exit: true, reason: 'the Temporal worker failed', error: end.error };
}
