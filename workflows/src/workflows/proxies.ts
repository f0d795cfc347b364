/**
 * Activity stubs with their timeouts and retry policies, shared by the response workflows.
 * Calls to Beacon services retry without limit (a service that is down must not end a
 * month-long response), backing off to once a minute, and stop at once on the failures that
 * retrying cannot fix.
 */
import {
  log,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
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

/**
 * A lean response's quick calls (`lean-triage`), as local activities: run by the worker inside
 * the workflow task that asks for them and recorded as one marker, with no activity task to
 * schedule, dispatch and complete through the server and no further workflow task to learn the
 * result. Only calls that are short and may be repeated (a local activity runs again when its
 * workflow task is retried): reads, moving the incident into triage, raising inputs to what a
 * cascade implies, assigning an agency, storing timeline entries (numbered: the store drops a
 * copy). While one runs, the workflow takes no signal, update or query, so they are the steps
 * of triage, where commands wait anyway, and the timeline's, with a short timeout and retries
 * that back off on timers after a few seconds (the workflow answers between them). Notices and
 * events keep their activities: their idempotency key is the activity's id, which a local
 * activity's retries after a back-off do not keep; so do the moves a live response makes.
 */
const local: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry,
  localRetryThreshold: '5 seconds',
};
export const quick = {
  intake:
    proxyLocalActivities<Pick<IncidentActivities, 'enterTriage' | 'raiseSeverity' | 'engageAgency'>>(local),
  registry: proxyLocalActivities<Pick<NotifyActivities, 'listAgencies'>>({
    ...local,
    startToCloseTimeout: '30 seconds',
  }),
  victims: proxyLocalActivities<Pick<VictimActivities, 'listVictimCases'>>({
    ...local,
    retry: { ...retry, maximumAttempts: 10 },
  }),
  timelineStore: proxyLocalActivities<TimelineActivities>({ ...local, startToCloseTimeout: '5 seconds' }),
};
export const classic = { intake, registry, victims, timelineStore };

/**
 * The local activities of one response, counted while they are out: a response whose engagements
 * run inside it (`inline-engagements`) flushes its timeline only when none is (`busy`), so what
 * it asks for never depends on which of two local activities came back first, or on whether a
 * replay hands them back in one activation or two. The calls return the local activity's own
 * promise: counting adds no step before the caller goes on.
 */
export function countedQuick(): { readonly calls: typeof quick; readonly busy: () => boolean } {
  let out = 0;
  const back = () => {
    out -= 1;
  };
  const counted = <G extends object>(group: G): G =>
    new Proxy(group, {
      get: (target, name) => {
        const call = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const promise = call(...args);
          out += 1;
          promise.then(back, back);
          return promise;
        };
      },
    });
  return {
    calls: {
      intake: counted(quick.intake),
      registry: counted(quick.registry),
      victims: counted(quick.victims),
      timelineStore: counted(quick.timelineStore),
    },
    busy: () => out > 0,
  };
}

/**
 * The failure type of an activity failure, if it carries one: the cause of an ActivityFailure,
 * or the failure itself when a local activity's arrives unwrapped.
 */
export function failureType(error: unknown): string | undefined {
  const failure = error as { type?: unknown; cause?: { type?: unknown } } | undefined;
  for (const type of [failure?.cause?.type, failure?.type]) if (typeof type === 'string') return type;
  return undefined;
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
