/**
 * A transition decided from the status a caller read (the response worker's, chiefly): sent
 * with `expected_status` and version 0, it lands at whatever version the incident has by
 * then while the status is still the one read, and never overrides a status a coordinator
 * changed meanwhile.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { fieldViolations } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { report, rpc, startTestIntake, type TestIntake } from './harness.js';

const { INCIDENT_STATUS_REPORTED, INCIDENT_STATUS_TRIAGE, INCIDENT_STATUS_ACTIVE, INCIDENT_STATUS_RESOLVED } =
  intakeV1.IncidentStatus;

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

const refusal = (e: unknown) => e as ServiceError;

describe('TransitionIncident with expected_status', () => {
  test('moves from the status read even when a report joined after the read', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident: read } = await rpc(t, 'submitReport', report(), coordinator);
    // Between the caller's read and its transition, a second report joins: a new version.
    const joined = await rpc(t, 'submitReport', report({ title: 'Same C2, second utility' }), coordinator);
    expect(joined.attached).toBe(true);
    expect(joined.incident!.version).toBeGreaterThan(read!.version);

    const { incident } = await rpc(
      t,
      'transitionIncident',
      {
        incidentId: read!.id,
        toStatus: INCIDENT_STATUS_TRIAGE,
        expectedStatus: read!.status,
        expectedVersion: 0,
        reason: 'triage started',
      },
      coordinator,
    );
    expect(incident).toMatchObject({
      status: INCIDENT_STATUS_TRIAGE,
      version: joined.incident!.version + 1,
      reportIds: joined.incident!.reportIds,
    });
  });

  test('is refused, leaving the coordinator’s status, when the status moved after the read', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident: opened } = await rpc(t, 'submitReport', report(), coordinator);
    const move = (
      toStatus: intakeV1.IncidentStatus,
      extra: Partial<intakeV1.TransitionIncidentRequest> = {},
    ) =>
      rpc(
        t,
        'transitionIncident',
        { incidentId: opened!.id, toStatus, expectedVersion: 0, reason: '', ...extra },
        coordinator,
      );
    const { incident: read } = await move(INCIDENT_STATUS_TRIAGE);
    // The caller read `triage` and means to make it active; a coordinator resolves it first.
    const { incident: resolved } = await move(INCIDENT_STATUS_RESOLVED);

    // resolved → active is a move the lifecycle allows: only expected_status stops it here.
    const error = refusal(
      await move(INCIDENT_STATUS_ACTIVE, { expectedStatus: read!.status }).catch((e: unknown) => e),
    );
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain('is resolved now, not triage');
    const { incident } = await rpc(t, 'getIncident', { incidentId: opened!.id }, coordinator);
    expect(incident).toMatchObject({ status: INCIDENT_STATUS_RESOLVED, version: resolved!.version });
  });

  test('with expected_version too, both must hold: a stale version is still ABORTED', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident: read } = await rpc(t, 'submitReport', report(), coordinator);
    await rpc(t, 'submitReport', report({ title: 'Same C2, second utility' }), coordinator);
    const stale = refusal(
      await rpc(
        t,
        'transitionIncident',
        {
          incidentId: read!.id,
          toStatus: INCIDENT_STATUS_TRIAGE,
          expectedStatus: INCIDENT_STATUS_REPORTED,
          expectedVersion: read!.version,
          reason: '',
        },
        coordinator,
      ).catch((e: unknown) => e),
    );
    expect(stale.code).toBe(status.ABORTED);
  });

  test('an expected_status of UNSPECIFIED is refused, naming the field', async ({ intake: t }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident: read } = await rpc(t, 'submitReport', report(), coordinator);
    const error = refusal(
      await rpc(
        t,
        'transitionIncident',
        {
          incidentId: read!.id,
          toStatus: INCIDENT_STATUS_TRIAGE,
          expectedStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED,
          expectedVersion: 0,
          reason: '',
        },
        coordinator,
      ).catch((e: unknown) => e),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error.metadata).map((v) => v.field)).toEqual(['expected_status']);
    const { incident } = await rpc(t, 'getIncident', { incidentId: read!.id }, coordinator);
    expect(incident).toMatchObject({ status: INCIDENT_STATUS_REPORTED, version: read!.version });
  });
});
