/**
 * The engagement's assignment in intake, as the worker's activity makes it against a real
 * intake: a lean response starts its engagements together, so their assignments race for the
 * same incident document. Each must land in its one call (a version clash is tried again at
 * once, not after the activity's back-off), and a repeated one is a no-op.
 */
import { credentials } from '@grpc/grpc-js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { intakeV1, notifyV1 } from '@beacon/proto';
import { createDevIssuer, createLogger } from '@beacon/platform';
import { test, testIdentity } from '@beacon/testkit';
import { loadConfig, startIntake } from '@beacon/intake';
import { createActivities } from '../src/activities/create-activities.js';
import { grpcCall } from '../src/adapters/grpc-call.js';

describe('engageAgency against intake', () => {
  test('engagements started together are each assigned in one call; a repeat changes nothing', async ({
    infra,
    names,
  }) => {
    const issuer = await createDevIssuer({});
    const config = loadConfig({
      MONGO_URL: infra.mongoUrl,
      INTAKE_DB: names.database('intake'),
      NATS_URL: infra.natsUrl,
      EVENTS_STREAM: names.stream('EVENTS'),
      EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
      INTAKE_GRPC_PORT: '1',
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
    });
    const intake = await startIntake(
      {
        ...config,
        grpc: { host: '127.0.0.1', port: 0 },
        auth: { ...config.auth, jwks: { keys: issuer.jwks } },
      },
      createLogger({ name: 'engage-activity-test', level: 'silent' }),
    );
    const client = new intakeV1.IntakeServiceClient(`127.0.0.1:${intake.port}`, credentials.createInsecure());
    try {
      const worker = await issuer.mint({
        ...testIdentity(['service'], undefined, 'workflows'),
        roles: ['service'],
        clearance: 'RED',
      });
      const coordinator = await issuer.mint({ subject: 'cc', roles: ['coordinator'], clearance: 'RED' });
      const { incident } = await grpcCall<intakeV1.OpenIncidentResponse>(
        async () => coordinator,
        10_000,
        (md, o, done) =>
          client.openIncident(
            {
              title: 'Wiper on a water utility',
              tlp: 3,
              classification: { rsitClass: 'availability', rsitType: 'sabotage' },
              sectors: ['water-and-wastewater'],
              jurisdictions: ['DE'],
              observables: [],
              severityInputs: { ...NCISS_BASELINE },
              awareAt: new Date(Date.now() - 3_600_000),
              affectedAssets: [],
            },
            md,
            o,
            done,
          ),
      );
      const activities = createActivities({
        intake: client,
        // Not called by this activity.
        notify: new notifyV1.NotifyServiceClient('127.0.0.1:9', credentials.createInsecure()),
        publish: () => Promise.reject(new Error('not used here')),
        timeline: { append: () => Promise.reject(new Error('not used here')) },
        token: async () => worker,
      });
      const engage = (agencyId: string) =>
        new MockActivityEnvironment({ activityId: agencyId }).run(
          (id: string, agency: string) => activities.engageAgency(id, agency),
          incident!.id,
          agencyId,
        );
      const agencies = ['cert-de', 'bka', 'thw', 'bsi', 'lka-nrw'];
      await Promise.all(agencies.map(engage));
      await engage('cert-de');
      const after = await grpcCall<intakeV1.GetIncidentResponse>(
        async () => coordinator,
        10_000,
        (md, o, done) => client.getIncident({ incidentId: incident!.id }, md, o, done),
      );
      expect([...after.incident!.engagedAgencyIds].sort()).toEqual([...agencies].sort());
      // Five assignments, one version each: nothing assigned twice, nothing lost.
      expect(after.incident!.version).toBe(incident!.version + agencies.length);
    } finally {
      client.close();
      await intake.stop();
    }
  });
});
