/**
 * The response end to end, on the Temporal dev server with the real services in this process:
 * an incident opened through the gateway gets its IncidentResponse (found by search attribute),
 * impact's cascade raises its severity, agencies are notified through their feeds, an
 * acknowledgement sent through the feed reaches the workflow, commands go through the gateway,
 * and resolution closes the incident.
 */
import { jetstream } from '@nats-io/jetstream';
import type { Client } from '@temporalio/client';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE, scoreSeverity, type NcissInputs } from '@beacon/domain';
import { eventsV1, notifyV1 } from '@beacon/proto';
import { NCISS_HIGH, test, waitFor } from '@beacon/testkit';
import { responseWorkflowId, SEARCH_ATTRIBUTES, victimFollowUpsWorkflowId } from '../src/index.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

/** NCISS level 2 (Medium) before impact has its say. */
const MEDIUM: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'significant-non-critical',
  observedActivity: 'effect',
  location: 'business-network-management',
  actor: 'organised-crime',
  informationImpact: 'suspected',
  recoverability: 'supplemented',
  potentialImpact: 'medium',
};

interface StatusJson {
  phase: string;
  ncissLevel: number;
  sectors: string[];
  impact?: { impactedAssets: number; sectorsReached: string[] };
  engagements: {
    agencyId: string;
    state: string;
    via: string;
    noticesSent: number;
    timeToAcknowledgeSeconds: number;
  }[];
  regimes: { regime: string }[];
  obligations: {
    id: string;
    state: string;
    dueAt?: string;
    mustFileBeforeResolving: boolean;
    draftJson: string;
  }[];
  resolveBlockers: string[];
}

async function responseStatus(s: ResponseStack, token: string, incidentId: string): Promise<StatusJson> {
  const { status, body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, token);
  if (status !== 200) throw new Error(`GetResponse answered ${status}: ${JSON.stringify(body)}`);
  return body['status'] as StatusJson;
}

function statusWhen(
  s: ResponseStack,
  token: string,
  incidentId: string,
  check: (s: StatusJson) => boolean,
  what: string,
) {
  return waitFor(
    async () => {
      const status = await responseStatus(s, token, incidentId);
      if (!check(status)) throw new Error(`not yet: ${JSON.stringify(status.engagements)} ${status.phase}`);
      return status;
    },
    { what, timeoutMs: 30_000, intervalMs: 250 },
  );
}

/** Workflows a visibility query finds, as [workflow id, status]. */
async function listed(temporal: Client, query: string): Promise<[string, string][]> {
  const found: [string, string][] = [];
  for await (const wf of temporal.workflow.list({ query })) found.push([wf.workflowId, wf.status.name]);
  return found;
}

/** The engagement notices in an agency's feed for the incident, as contact ranks. */
async function noticesIn(
  s: ResponseStack,
  nats: Parameters<typeof jetstream>[0],
  agencyId: string,
  incidentId: string,
) {
  // Feed subjects name the incident and the label between the agency and the event type.
  const subject = `${s.feeds.root}.${agencyId}.*.*.notify.engagement-requested`;
  const jsm = await jetstream(nats).jetstreamManager();
  const info = await jsm.streams.info(s.feeds.stream, { subjects_filter: subject });
  const count = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  const ranks: number[] = [];
  if (count === 0) return ranks;
  const consumer = await jetstream(nats).consumers.get(s.feeds.stream, { filter_subjects: [subject] });
  let seen = 0;
  for await (const m of await consumer.fetch({ max_messages: count, expires: 5_000 })) {
    const envelope = eventsV1.Envelope.decode(m.data);
    const notice = notifyV1.EngagementNotice.decode(envelope.data);
    if (notice.incidentId === incidentId) ranks.push(notice.contactRank);
    if (++seen === count) break;
  }
  return ranks;
}

describe('the response on the dev server with the real services', () => {
  test('engages agencies through their feeds, hears their acknowledgements and closes the incident on resolution', async ({
    infra,
    names,
    nats,
    temporal,
  }) => {
    expect(scoreSeverity(MEDIUM).level).toBe(2);
    const s = await startResponseStack(infra, names);
    try {
      const cc = await s.token(['coordinator']);
      const contacts = (id: string) => [
        { role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` },
        { role: 'deputy', name: 'Deputy', email: `deputy@${id}.example` },
      ];
      for (const [id, kind, clearance] of [
        ['cert-bayern', 'AGENCY_KIND_CSIRT', 'TLP_RED'],
        ['lka-bayern', 'AGENCY_KIND_LAW_ENFORCEMENT', 'TLP_AMBER'],
        ['cert-fr', 'AGENCY_KIND_CSIRT', 'TLP_RED'],
      ] as const) {
        const put = await rest(s, 'POST', '/v1/agencies', cc, {
          agency: {
            id,
            name: id,
            kind,
            jurisdictions: [id === 'cert-fr' ? 'FR' : 'DE-BY'],
            sectors: ['water-and-wastewater'],
            clearance,
            contacts: contacts(id),
          },
        });
        expect(put.status).toBe(200);
      }
      // A water works that a hospital depends on: its cascade reaches healthcare.
      for (const [id, sector, population] of [
        ['water-1', 'water-and-wastewater', 60_000],
        ['hospital-1', 'healthcare-and-public-health', 20_000],
      ] as const) {
        const put = await rest(s, 'POST', '/v1/assets', cc, {
          asset: {
            id,
            name: id,
            operatorId: 'operator-1',
            sector,
            jurisdiction: 'DE-BY',
            location: { lat: 48.1, lon: 11.6 },
            populationServed: population,
            criticality: 4,
            tlp: 'TLP_GREEN',
          },
          expectedVersion: 0,
        });
        expect(put.status).toBe(200);
      }
      expect(
        (
          await rest(s, 'POST', '/v1/dependencies', cc, {
            dependency: {
              dependentId: 'hospital-1',
              providerId: 'water-1',
              kind: 'water',
              timeToImpactHours: 2,
              degradation: 1,
            },
          })
        ).status,
      ).toBe(200);

      // The water works noticed an hour before it told Beacon: its clocks run from then.
      const awareAtMs = Date.now() - 3_600_000;
      const opened = await rest(s, 'POST', '/v1/incidents', cc, {
        title: 'Ransomware at a regional water works',
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
        sectors: ['water-and-wastewater'],
        jurisdictions: ['DE-BY'],
        severityInputs: MEDIUM,
        affectedAssets: [{ assetId: 'water-1', loss: 1 }],
        awareAt: new Date(awareAtMs).toISOString(),
      });
      expect(opened.status).toBe(201);
      const incidentId = (opened.body['incident'] as { id: string }).id;

      // The starter started its response, which coordinators find by search attribute.
      const running = await waitFor(
        async () => {
          const found = await listed(
            temporal,
            `IncidentId = '${incidentId}' AND IncidentStatus = 'active' AND ExecutionStatus = 'Running'`,
          );
          if (found.length === 0) throw new Error('not listed yet');
          return found;
        },
        { what: 'the running response in the visibility store', timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(running).toEqual([[responseWorkflowId(incidentId), 'RUNNING']]);
      // Starting it again (a redelivered incident.opened) reuses the running response.
      expect(await s.workflows.starter!.startResponse(incidentId)).toBe('started-or-running');
      const described = await temporal.workflow.getHandle(responseWorkflowId(incidentId)).describe();
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.Sectors)).toContain(
        'healthcare-and-public-health',
      );
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.Tlp)).toBe('AMBER');

      let status = await statusWhen(
        s,
        cc,
        incidentId,
        (x) =>
          x.engagements.length === 2 && x.engagements.every((e) => e.state === 'ENGAGEMENT_STATE_NOTIFIED'),
        'both Bavarian agencies notified',
      );
      expect(status.impact).toMatchObject({
        sectorsReached: ['healthcare-and-public-health', 'water-and-wastewater'],
      });
      expect(status.ncissLevel).toBeGreaterThanOrEqual(2);
      expect(status.engagements.map((e) => e.agencyId)).toEqual(['cert-bayern', 'lka-bayern']);
      expect(status.regimes.map((r) => r.regime)).toContain('NIS2');
      const dueAtMs = (id: string) => Date.parse(status.obligations.find((o) => o.id === id)?.dueAt ?? '');
      expect(dueAtMs('nis2-early-warning')).toBe(awareAtMs + 24 * 3_600_000);
      expect(dueAtMs('nis2-incident-notification')).toBe(awareAtMs + 72 * 3_600_000);
      expect(
        JSON.parse(status.obligations.find((o) => o.id === 'nis2-early-warning')!.draftJson),
      ).toMatchObject({
        incidentId,
        suspectedUnlawfulOrMalicious: true,
      });

      // A victim officer opens a case for the incident after triage: the response hears of it
      // from the victims service's event and follows it up; the disclosed risk escalates it.
      const officer = await s.token(['victim_officer'], 'vs-bayern');
      const victimCase = await rest(s, 'POST', '/v1/victim-cases', officer, {
        case: {
          incidentIds: [incidentId],
          jurisdiction: 'DE-BY',
          language: 'de',
          victim: {
            kind: 'VICTIM_KIND_PERSON',
            displayName: 'Jana Nováková',
            email: 'jana.novakova@example.org',
            preferredChannel: 'CONTACT_CHANNEL_EMAIL',
          },
          riskFlags: ['RISK_FLAG_SELF_HARM'],
          consents: [{ purpose: 'CONSENT_PURPOSE_CONTACT', granted: true, wordingVersion: 'v1' }],
        },
      });
      expect(victimCase.status).toBe(201);
      const caseId = (victimCase.body['case'] as { id: string }).id;
      await waitFor(
        async () => {
          // Victim follow-up is listed when asked for by kind.
          const kinds = ['victim', 'victim-started', 'victim-check-in', 'victim-escalated'];
          const query = kinds.map((k) => `kinds=${k}`).join('&');
          const { body } = await rest(s, 'GET', `/v1/responses/${incidentId}/timeline?${query}`, cc);
          const details = (Object.values(body).find(Array.isArray) as { detail: string }[]).map(
            (e) => e.detail,
          );
          if (!details.some((d) => d.includes(caseId) && d.includes('urgent')))
            throw new Error(`not yet: ${details.filter((d) => d.includes('victim')).join('; ')}`);
        },
        { what: 'the victim case followed up and escalated', timeoutMs: 30_000, intervalMs: 250 },
      );
      // The incident's follow-ups queue behind triage work (a campaign's cases must not starve
      // responses); the response keeps the default.
      const followUp = await temporal.workflow.getHandle(victimFollowUpsWorkflowId(incidentId)).describe();
      expect(followUp.priority?.priorityKey).toBe(5);
      expect(described.priority?.priorityKey ?? 0).toBe(0);

      // Each agency's first contact is asked through its feed, once.
      expect(await noticesIn(s, nats, 'cert-bayern', incidentId)).toEqual([0]);
      expect(await noticesIn(s, nats, 'lka-bayern', incidentId)).toEqual([0]);
      expect(await noticesIn(s, nats, 'cert-fr', incidentId)).toEqual([]);

      // cert-bayern acknowledges by replying on its feed's acknowledgement subject.
      const reply = await waitFor(
        async () => {
          const answer = JSON.parse(
            new TextDecoder().decode(
              (await nats.request(`${s.ackRoot}.cert-bayern.${incidentId}`, 'on it', { timeout: 5_000 }))
                .data,
            ),
          ) as { ok: boolean; message?: string };
          // Notify learns of the engagement from intake's event; until then it refuses.
          if (!answer.ok) throw new Error(answer.message);
          return answer;
        },
        { what: 'acknowledgement by feed', timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(reply).toMatchObject({ ok: true, first: true });
      // lka-bayern acknowledges through the gateway; another agency may not do it for it (a
      // refusal by role alone, the same whatever the incident).
      const lka = await s.token(['agency_analyst'], 'lka-bayern');
      const cert = await s.token(['agency_analyst'], 'cert-bayern');
      expect(
        (
          await rest(s, 'POST', `/v1/responses/${incidentId}/agencies/lka-bayern:acknowledge`, cert, {
            note: '',
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await rest(s, 'POST', `/v1/responses/${incidentId}/agencies/lka-bayern:acknowledge`, lka, {
            note: 'Kripo on it',
          })
        ).status,
      ).toBe(200);
      status = await statusWhen(
        s,
        cc,
        incidentId,
        (x) => x.engagements.every((e) => e.state === 'ENGAGEMENT_STATE_ACKNOWLEDGED'),
        'both acknowledged',
      );
      expect(status.engagements.map((e) => [e.agencyId, e.via, e.noticesSent])).toEqual([
        ['cert-bayern', 'feed', 1],
        ['lka-bayern', 'rest', 1],
      ]);
      // The engaged agency reads the response (issue 21, 4); an agency not engaged finds none.
      expect((await rest(s, 'GET', `/v1/responses/${incidentId}`, lka)).status).toBe(200);
      const outsider = await s.token(['agency_analyst'], 'police-elsewhere');
      expect((await rest(s, 'GET', `/v1/responses/${incidentId}`, outsider)).status).toBe(404);

      // A coordinator raises the severity and engages another agency in intake directly: the
      // response follows (a significant disruption of water supply: CER now applies too).
      expect(
        (
          await rest(s, 'POST', `/v1/incidents/${incidentId}:updateSeverity`, cc, {
            severityInputs: NCISS_HIGH,
          })
        ).status,
      ).toBe(200);
      expect(
        (await rest(s, 'POST', `/v1/incidents/${incidentId}:assignAgency`, cc, { agencyId: 'cert-fr' }))
          .status,
      ).toBe(200);
      status = await statusWhen(
        s,
        cc,
        incidentId,
        (x) =>
          x.regimes.some((r) => r.regime === 'CER') &&
          x.engagements.find((e) => e.agencyId === 'cert-fr')?.state === 'ENGAGEMENT_STATE_NOTIFIED',
        'the response following intake',
      );
      expect(status.ncissLevel).toBeGreaterThanOrEqual(3);
      expect(await noticesIn(s, nats, 'cert-fr', incidentId)).toEqual([0]);

      // Unassigned in intake directly, cert-fr leaves the response too: nobody pages it about
      // an incident it may no longer read.
      expect(
        (await rest(s, 'POST', `/v1/incidents/${incidentId}:unassignAgency`, cc, { agencyId: 'cert-fr' }))
          .status,
      ).toBe(200);
      status = await statusWhen(
        s,
        cc,
        incidentId,
        (x) => x.engagements.find((e) => e.agencyId === 'cert-fr')?.state === 'ENGAGEMENT_STATE_REMOVED',
        'the response following the unassignment',
      );
      expect(status.engagements.find((e) => e.agencyId === 'cert-bayern')?.state).toBe(
        'ENGAGEMENT_STATE_ACKNOWLEDGED',
      );

      // Removed from the response, lka-bayern is no longer engaged in intake either.
      expect(
        (
          await rest(s, 'POST', `/v1/responses/${incidentId}/agencies/lka-bayern:remove`, cc, {
            reason: 'not needed after all',
          })
        ).status,
      ).toBe(200);
      const { body } = await rest(s, 'GET', `/v1/incidents/${incidentId}`, cc);
      const engaged = (body as { incident: { engagedAgencyIds: string[] } }).incident.engagedAgencyIds;
      expect(engaged).toContain('cert-bayern');
      expect(engaged).not.toContain('lka-bayern');
      expect(engaged).not.toContain('cert-fr');

      // Resolving waits for the reports that must come first, and says which.
      const refused = await rest(s, 'POST', `/v1/responses/${incidentId}:resolve`, cc, {
        summary: 'restored',
      });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(refused.body)).toContain('NIS2 early warning (24 h) is not filed');
      for (const o of status.obligations.filter((x) => x.mustFileBeforeResolving)) {
        const filed = await rest(s, 'POST', `/v1/responses/${incidentId}/reports`, cc, {
          obligation: o.id,
          reference: `ref-${o.id}`,
        });
        expect(filed.status).toBe(200);
      }
      const resolved = await rest(s, 'POST', `/v1/responses/${incidentId}:resolve`, cc, {
        summary: 'SCADA rebuilt from backups',
      });
      expect(resolved.status).toBe(200);
      status = await statusWhen(s, cc, incidentId, (x) => x.phase === 'RESPONSE_PHASE_RESOLVED', 'resolved');
      for (const o of status.obligations.filter((x) => x.state !== 'OBLIGATION_STATE_FILED')) {
        expect(
          (
            await rest(s, 'POST', `/v1/responses/${incidentId}/reports`, cc, {
              obligation: o.id,
              reference: 'final',
            })
          ).status,
        ).toBe(200);
      }
      // cert-fr's unanswered engagement stayed ended.
      expect(status.engagements.find((e) => e.agencyId === 'cert-fr')?.state).toBe(
        'ENGAGEMENT_STATE_REMOVED',
      );
      const result = await temporal.workflow
        .getHandle<typeof incidentResponse>(responseWorkflowId(incidentId))
        .result();
      expect(result.phase).toBe('closed');
      // ...and once it closed, never starts a second one.
      expect(await s.workflows.starter!.startResponse(incidentId)).toBe('done');
      await waitFor(
        async () =>
          expect(await listed(temporal, `WorkflowId = '${responseWorkflowId(incidentId)}'`)).toEqual([
            [responseWorkflowId(incidentId), 'COMPLETED'],
          ]),
        { what: 'one execution of the response, completed', timeoutMs: 20_000, intervalMs: 250 },
      );
      // A closed response takes no more commands; an incident without one has none to show.
      const late = await rest(s, 'POST', `/v1/responses/${incidentId}:escalate`, cc, {});
      expect([late.status, late.body['grpcStatus']]).toEqual([400, 'FAILED_PRECONDITION']);
      expect((await rest(s, 'GET', `/v1/responses/inc_nosuchincident`, cc)).body).toMatchObject({
        grpcStatus: 'NOT_FOUND',
        detail: 'incident inc_nosuchincident not found',
      });
      const incident = await rest(s, 'GET', `/v1/incidents/${incidentId}`, cc);
      expect((incident.body['incident'] as { status: string }).status).toBe('INCIDENT_STATUS_CLOSED');
      await waitFor(
        async () => {
          const found = await listed(temporal, `IncidentId = '${incidentId}' AND IncidentStatus = 'closed'`);
          if (found.length === 0) throw new Error('not listed yet');
          expect(found).toEqual([[responseWorkflowId(incidentId), 'COMPLETED']]);
        },
        { what: 'the closed response in the visibility store', timeoutMs: 20_000, intervalMs: 250 },
      );
    } finally {
      await s.stop();
    }
  });
});
