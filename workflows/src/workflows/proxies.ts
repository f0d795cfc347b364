/**
 * Activity stubs with their timeouts and retry policies, shared by the response workflows.
 * Calls to Beacon services retry without limit (a service that is down must not end a
 * month-long response), backing off to once a minute, and stop at once on the failures that
 * retrying cannot fix.
 */
import { log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  EventActivities,
  ImpactActivities,
  IncidentActivities,
  NotifyActivities,
  TimelineActivities,
  VictimActivities,
} from '../activities/types.js';
import { NON_RETRYABLE } from '../domain/failures.js';

const retry: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};

export const intake = proxyActivities<IncidentActivities>({ startToCloseTimeout: '30 seconds', retry });

/** A cascade over a large region can take a while: it heartbeats, and gives up after a few tries. */
export const impact = proxyActivities<ImpactActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 5 },
});

/**
 * One notice is one short call: a tight timeout means a notice whose worker died is retried
 * (under the same idempotency key) within seconds, not minutes.
 */
export const notify = proxyActivities<Pick<NotifyActivities, 'notifyEngagement'>>({
  startToCloseTimeout: '10 seconds',
  retry,
});

/** Reading the whole registry pages through it, heartbeating each page. */
export const registry = proxyActivities<Pick<NotifyActivities, 'listAgencies'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry,
});

export const events = proxyActivities<EventActivities>({ startToCloseTimeout: '10 seconds', retry });

/**
 * The timeline store is JetStream in the worker's own process: a short call, retried without
 * limit (a timeline entry is never given up on; the response goes on meanwhile).
 */
export const timelineStore = proxyActivities<TimelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry,
});

/** The victims service may be absent from this deployment: a few tries, then the case says so. */
export const victims = proxyActivities<VictimActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 10 },
});

/** The failure type of an activity failure, if it carries one (cause of an ActivityFailure). */
export function failureType(error: unknown): string | undefined {
  const cause = (error as { cause?: { type?: unknown } } | undefined)?.cause;
  return typeof cause?.type === 'string' ? cause.type : undefined;
}

/** Signals another workflow, logging rather than failing when it is gone (closed, never started). */
export async function signalQuietly(send: () => Promise<void>, what: string): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    log.warn(`could not signal ${what}`, { error: String(error) });
    return false;
  }
}
