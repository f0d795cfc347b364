/**
 * The response's transitions in intake, as the worker's activity makes them against a real
 * intake, with a coordinator's write landing between the activity's read and its transition:
 * a write that leaves the status alone costs no second call; a status the coordinator changed
 * is never overridden.
 */
import { InterceptingCall, status, type Interceptor } from '@grpc/grpc-js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect } from 'vitest';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { startActivityIntake, type ActivityIntake } from './support/activity-intake.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<ActivityIntake> => {
  const t = await startActivityIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

/**
 * Runs `meanwhile` once, after intake answered the activity's first read and before the
 * activity sees the answer; records the status of every transition the activity sends.
 */
function between(meanwhile: () => Promise<unknown>) {
  const transitions: status[] = [];
  const failures: unknown[] = [];
  let step: (() => Promise<unknown>) | undefined = meanwhile;
  const interceptor: Interceptor = (options, next) => {
    const method = options.method_definition.path;
    return new InterceptingCall(next(options), {
      start(metadata, _listener, nextStart) {
        nextStart(metadata, {
          onReceiveStatus(received, nextStatus) {
            if (method.endsWith('/TransitionIncident')) transitions.push(received.code);
            const now = method.endsWith('/GetIncident') ? step : undefined;
            if (now) step = undefined;
            void (now ? now() : Promise.resolve())
              .catch((error: unknown) => failures.push(error))
              .finally(() => nextStatus(received));
          },
        });
      },
    });
  };
  return { interceptor, transitions, failures };
}

async function move(t: ActivityIntake, incidentId: string, toStatus: intakeV1.IncidentStatus) {
  await t.call<intakeV1.TransitionIncidentResponse>((c, md, o, done) =>
    c.transitionIncident({ incidentId, toStatus, expectedVersion: 0, reason: 'coordinator' }, md, o, done),
  );
}

async function incidentNow(t: ActivityIntake, incidentId: string) {
  return (
    await t.call<intakeV1.GetIncidentResponse>((c, md, o, done) => c.getIncident({ incidentId }, md, o, done))
  ).incident!;
}

describe('transitionIncident against intake', () => {
  test('a version bump between the read and the transition costs no second call', async ({ intake: t }) => {
    const opened = await t.open();
    const seen = between(() =>
      t.call((c, md, o, done) =>
        c.assignAgency({ incidentId: opened.id, agencyId: 'cert-de', expectedVersion: 0 }, md, o, done),
      ),
    );
    const activities = t.activities(t.client([seen.interceptor]));
    const after = await new MockActivityEnvironment().run(() =>
      activities.enterTriage(opened.id, 'response started'),
    );
    expect(seen.failures).toEqual([]);
    expect(seen.transitions).toEqual([status.OK]);
    expect(after).toMatchObject({
      status: 'triage',
      engagedAgencyIds: ['cert-de'],
      version: opened.version + 2,
    });
  });

  test('a status a coordinator changed after the read is left as the coordinator set it', async ({
    intake: t,
  }) => {
    const opened = await t.open();
    await move(t, opened.id, intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE);
    // The activity reads `triage` and means to make it active; the coordinator resolves it
    // first, and resolved → active is a move intake would otherwise allow.
    const seen = between(() => move(t, opened.id, intakeV1.IncidentStatus.INCIDENT_STATUS_RESOLVED));
    const activities = t.activities(t.client([seen.interceptor]));
    const result = await new MockActivityEnvironment().run(() =>
      activities.transitionIncident(opened.id, 'active', 'containment work begins'),
    );
    expect(seen.failures).toEqual([]);
    expect(seen.transitions).toEqual([status.FAILED_PRECONDITION]);
    expect(result).toBe('resolved');
    expect((await incidentNow(t, opened.id)).status).toBe(intakeV1.IncidentStatus.INCIDENT_STATUS_RESOLVED);
  });
});
