/**
 * The response's victim follow-up against the real victims service: the worker, as a Beacon
 * service, finds an incident's cases across organisations and reads their follow-up and urgency,
 * never personal data; nobody else lists an incident's cases.
 */
import { randomBytes } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { PROCESS_SCOPES } from '@beacon/domain';
import { createDevIssuer, createLogger } from '@beacon/platform';
import { victimsV1 } from '@beacon/proto';
import { test } from '@beacon/testkit';
import { loadConfig, startVictims } from '@beacon/victims';
import { GrpcVictimsPort } from '../src/adapters/victims-client.js';

const { ConsentPurpose, RiskFlag, VictimKind, ContactChannel } = victimsV1;
type Untyped<T> = (r: unknown, m: Metadata, cb: (e: ServiceError | null, v: T) => void) => void;

const newCase = (incidentId: string, riskFlags: victimsV1.RiskFlag[] = []): victimsV1.NewCase => ({
  incidentIds: [incidentId],
  reportIds: [],
  jurisdiction: 'DE-BY',
  language: 'de',
  victim: {
    kind: VictimKind.VICTIM_KIND_PERSON,
    displayName: 'Jana Nováková',
    organisationName: '',
    email: 'jana.novakova@example.org',
    phone: '+49 151 2345 6789',
    preferredChannel: ContactChannel.CONTACT_CHANNEL_PHONE,
    notes: '',
  },
  needs: [],
  riskFlags,
  consents: [{ purpose: ConsentPurpose.CONSENT_PURPOSE_CONTACT, granted: true, wordingVersion: 'v1' }],
});

describe('the victims service as the response follows up an incident’s victims', () => {
  test('lists the incident’s cases of every organisation, reads urgency and check-ins, and is the only caller that may list by incident', async ({
    infra,
    names,
  }) => {
    const issuer = await createDevIssuer({});
    const config = loadConfig({
      MONGO_URL: infra.mongoUrl,
      NATS_URL: infra.natsUrl,
      EVENTS_STREAM: names.stream('EVENTS'),
      EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
      VICTIMS_DB: names.database('victims'),
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      VICTIMS_KEKS: `k1:${randomBytes(32).toString('base64')}`,
      VICTIMS_SEARCH_KEY: randomBytes(24).toString('base64'),
    });
    const victims = await startVictims(
      {
        ...config,
        grpc: { host: '127.0.0.1', port: 0 },
        auth: { ...config.auth, jwks: { keys: issuer.jwks } },
      },
      createLogger({ name: 'victims-adapter-test', level: 'silent' }),
    );
    const client = new victimsV1.VictimsServiceClient(
      `127.0.0.1:${victims.port}`,
      credentials.createInsecure(),
    );
    try {
      const call = <T>(method: 'openCase' | 'listCases', request: unknown, token: string) =>
        new Promise<T>((resolve, reject) => {
          const metadata = new Metadata();
          metadata.set('authorization', `Bearer ${token}`);
          (client[method].bind(client) as unknown as Untyped<T>)(request, metadata, (error, value) =>
            error ? reject(error) : resolve(value),
          );
        });
      const officer = (org: string) =>
        issuer.mint({
          subject: `officer-${org}`,
          roles: ['victim_officer'],
          agencyId: org,
          clearance: 'AMBER',
        });
      const opened = async (org: string, incidentId: string, flags: victimsV1.RiskFlag[] = []) =>
        (
          await call<victimsV1.OpenCaseResponse>(
            'openCase',
            { case: newCase(incidentId, flags) },
            await officer(org),
          )
        ).case!.id;
      const routine = await opened('vs-bayern', 'inc_campaign');
      const urgent = await opened('vs-hessen', 'inc_campaign', [RiskFlag.RISK_FLAG_SELF_HARM]);
      await opened('vs-bayern', 'inc_other');

      const serviceToken = await issuer.mint({
        subject: 'workflows',
        roles: ['service'],
        scopes: PROCESS_SCOPES.workflows,
        clearance: 'RED',
      });
      const port = new GrpcVictimsPort(client, async () => serviceToken, 10_000);
      expect((await port.listCases('inc_campaign')).sort()).toEqual([routine, urgent].sort());
      expect(await port.getCase(routine)).toEqual({ caseId: routine, urgency: 'routine' });
      expect(await port.getCase(urgent)).toEqual({ caseId: urgent, urgency: 'urgent' });
      const checkIn = await port.recordCheckIn(routine, { day: 1 });
      expect(checkIn.urgency).toBe('routine');
      expect(checkIn.note).toMatch(/^day 1: 0 check-ins made, \d+ open$/);
      // Two days on, a check-in still open makes the case urgent: somebody should have called.
      const later = new GrpcVictimsPort(
        client,
        async () => serviceToken,
        10_000,
        () => Date.now() + 40 * 86_400_000,
      );
      expect((await later.getCase(routine)).urgency).toBe('urgent');

      // Nobody else lists an incident's cases across organisations.
      const coordinator = await issuer.mint({ subject: 'cc', roles: ['coordinator'], clearance: 'RED' });
      const refused = await call(
        'listCases',
        victimsV1.ListCasesRequest.fromPartial({ incidentId: 'inc_campaign', pageSize: 10 }),
        coordinator,
      ).catch((e: unknown) => e as ServiceError);
      expect((refused as ServiceError).code).toBe(status.PERMISSION_DENIED);
      // An officer still sees only their own organisation's.
      const own = await call<victimsV1.ListCasesResponse>(
        'listCases',
        victimsV1.ListCasesRequest.fromPartial({ incidentId: 'inc_campaign', pageSize: 10 }),
        await officer('vs-bayern'),
      );
      expect(own.cases.map((c) => c.id)).toEqual([routine]);
    } finally {
      client.close();
      await victims.stop();
    }
  });
});
