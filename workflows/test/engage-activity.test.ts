/**
 * The engagement's assignment in intake, as the worker's activity makes it against a real
 * intake: a lean response starts its engagements together, so their assignments race for the
 * same incident document. Each must land in its one call (a version clash is tried again at
 * once, not after the activity's back-off), and a repeated one is a no-op.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect } from 'vitest';
import type { intakeV1 } from '@beacon/proto';
import { test } from '@beacon/testkit';
import { startActivityIntake } from './support/activity-intake.js';

describe('engageAgency against intake', () => {
  test('engagements started together are each assigned in one call; a repeat changes nothing', async ({
    infra,
    names,
  }) => {
    const t = await startActivityIntake(infra, names);
    try {
      const incident = await t.open();
      const activities = t.activities(t.client());
      const engage = (agencyId: string) =>
        new MockActivityEnvironment({ activityId: agencyId }).run(
          (id: string, agency: string) => activities.engageAgency(id, agency),
          incident.id,
          agencyId,
        );
      const agencies = ['cert-de', 'bka', 'thw', 'bsi', 'lka-nrw'];
      await Promise.all(agencies.map(engage));
      await engage('cert-de');
      const after = await t.call<intakeV1.GetIncidentResponse>((c, md, o, done) =>
        c.getIncident({ incidentId: incident.id }, md, o, done),
      );
      expect([...after.incident!.engagedAgencyIds].sort()).toEqual([...agencies].sort());
      // Five assignments, one version each: nothing assigned twice, nothing lost.
      expect(after.incident!.version).toBe(incident.version + agencies.length);
    } finally {
      await t.stop();
    }
  });
});
