/**
 * Coordinators' and agencies' commands on a response, through the gateway against the real
 * services and the Temporal dev server: an escalation answers with the engagement after it
 * (the next contact notified), an acknowledgement records the door it came through (REST or
 * gRPC, whatever a client claims in its own headers), and every ransom payment owes its own
 * CIRCIA report within 24 hours of it.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';
import { notifyV1 } from '@beacon/proto';
import { NCISS_HIGH, test, waitFor } from '@beacon/testkit';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

interface Engagement {
  agencyId: string;
  state: string;
  contactRank?: number;
  noticesSent?: number;
  via?: string;
}
interface Obligation {
  id: string;
  title: string;
  state: string;
  dueAt?: string;
}
interface Status {
  ncissLevel?: number;
  engagements: Engagement[];
  obligations?: Obligation[];
  ransomPayments?: string[];
  resolveBlockers?: string[];
}

async function responseOf(s: ResponseStack, token: string, incidentId: string): Promise<Status> {
  const { status, body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, token);
  if (status !== 200) throw new Error(`GetResponse answered ${status}: ${JSON.stringify(body)}`);
  return body['status'] as Status;
}

function responseWhen(
  s: ResponseStack,
  token: string,
  incidentId: string,
  check: (status: Status) => boolean,
  what: string,
): Promise<Status> {
  return waitFor(
    async () => {
      const now = await responseOf(s, token, incidentId);
      if (!check(now)) throw new Error(`not yet: ${JSON.stringify(now.engagements)}`);
      return now;
    },
    { what, timeoutMs: 30_000, intervalMs: 250 },
  );
}

async function putCsirt(s: ResponseStack, token: string, id: string, jurisdiction: string) {
  const put = await rest(s, 'POST', '/v1/agencies', token, {
    agency: {
      id,
      name: id,
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: [jurisdiction],
      clearance: 'TLP_RED',
      contacts: [
        { role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` },
        { role: 'deputy', name: 'Deputy', email: `deputy@${id}.example` },
      ],
    },
  });
  expect(put.status).toBe(200);
}

async function openIncident(
  s: ResponseStack,
  token: string,
  fields: { jurisdictions: string[]; sectors: string[]; severityInputs: NcissInputs },
): Promise<string> {
  const opened = await rest(s, 'POST', '/v1/incidents', token, {
    title: 'Ransomware at a regional operator',
    tlp: 'TLP_AMBER',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    awareAt: new Date(Date.now() - 3_600_000).toISOString(),
    ...fields,
  });
  expect(opened.status).toBe(201);
  return (opened.body['incident'] as { id: string }).id;
}

/** A REST call with headers of the test's choosing. */
async function restWith(
  s: ResponseStack,
  path: string,
  token: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${s.http}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('commands on a response, through the gateway', () => {
  test('an escalation answers with the next contact notified; acknowledgements record the door they came through', async ({
    infra,
    names,
  }) => {
    const s = await startResponseStack(infra, names);
    const notifyOverGrpc = new notifyV1.NotifyServiceClient(
      `127.0.0.1:${s.gateway.grpcPort}`,
      credentials.createInsecure(),
    );
    try {
      const cc = await s.token(['coordinator']);
      for (const id of ['cert-one', 'cert-two', 'cert-three']) await putCsirt(s, cc, id, 'DE-BY');
      const incidentId = await openIncident(s, cc, {
        jurisdictions: ['DE-BY'],
        sectors: ['water-and-wastewater'],
        severityInputs: NCISS_HIGH,
      });
      await responseWhen(
        s,
        cc,
        incidentId,
        (x) =>
          x.engagements.length === 3 &&
          x.engagements.every((e) => e.state === 'ENGAGEMENT_STATE_NOTIFIED' && e.noticesSent === 1),
        'three CSIRTs notified at their first contact',
      );

      // The escalation's own answer shows cert-one at its deputy, its second notice sent.
      const escalated = await rest(s, 'POST', `/v1/responses/${incidentId}:escalate`, cc, {
        agencyId: 'cert-one',
      });
      expect(escalated.status).toBe(200);
      const after = (escalated.body['status'] as Status).engagements.find((e) => e.agencyId === 'cert-one');
      expect(after).toMatchObject({ state: 'ENGAGEMENT_STATE_NOTIFIED', contactRank: 1, noticesSent: 2 });

      // cert-one acknowledges over REST, claiming another door in its own header: REST stands.
      const one = await s.token(['agency_analyst'], 'cert-one');
      const byRest = await waitFor(
        async () => {
          const answer = await restWith(
            s,
            `/v1/agencies/cert-one/incidents/${incidentId}:acknowledge`,
            one,
            { note: 'on it' },
            { 'x-beacon-door': 'feed' },
          );
          // Notify learns of the engagement from intake's event; until then it is not found.
          if (answer.status === 404) throw new Error('notify does not know the engagement yet');
          return answer;
        },
        { what: 'the acknowledgement over REST', timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(byRest.status).toBe(200);

      // cert-two acknowledges over the gateway's gRPC door, claiming REST: gRPC stands.
      const two = await s.token(['agency_analyst'], 'cert-two');
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${two}`);
      metadata.set('x-beacon-door', 'rest');
      const byGrpc = await new Promise<notifyV1.AcknowledgeResponse>((resolve, reject) =>
        notifyOverGrpc.acknowledge(
          { agencyId: 'cert-two', incidentId, note: 'on it too' },
          metadata,
          { deadline: new Date(Date.now() + 15_000) },
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      );
      expect(byGrpc.first).toBe(true);

      // cert-three acknowledges through the response API over REST.
      const three = await s.token(['agency_analyst'], 'cert-three');
      const throughResponse = await rest(
        s,
        'POST',
        `/v1/responses/${incidentId}/agencies/cert-three:acknowledge`,
        three,
        { note: 'here' },
      );
      expect(throughResponse.status).toBe(200);

      const acknowledged = await responseWhen(
        s,
        cc,
        incidentId,
        (x) => x.engagements.every((e) => e.state === 'ENGAGEMENT_STATE_ACKNOWLEDGED'),
        'all three acknowledged',
      );
      expect(acknowledged.engagements.map((e) => [e.agencyId, e.via])).toEqual([
        ['cert-one', 'rest'],
        ['cert-three', 'rest'],
        ['cert-two', 'grpc'],
      ]);
    } finally {
      notifyOverGrpc.close();
      await s.stop();
    }
  });

  test('each ransom payment owes its own CIRCIA report, due 24 hours after it', async ({ infra, names }) => {
    const s = await startResponseStack(infra, names);
    try {
      const cc = await s.token(['coordinator']);
      // A baseline incident at a US operator: only ransom payments bring CIRCIA.
      const incidentId = await openIncident(s, cc, {
        jurisdictions: ['US-TX'],
        sectors: ['energy'],
        severityInputs: NCISS_BASELINE,
      });
      const triaged = await waitFor(
        async () => {
          const { body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, cc);
          const status = body['status'] as { phase?: string } | undefined;
          if (status?.phase !== 'RESPONSE_PHASE_ACTIVE') throw new Error('not active yet');
          return status as Status;
        },
        { what: 'the response active', timeoutMs: 30_000, intervalMs: 250 },
      );
      // Level 0 is there to read, not left out as proto3 JSON would.
      expect(triaged.ncissLevel).toBe(0);

      const first = Date.now() - 5 * 3_600_000;
      const second = Date.now() - 2 * 3_600_000;
      const pay = (paidAtMs: number) =>
        rest(s, 'POST', `/v1/responses/${incidentId}:recordRansomPayment`, cc, {
          paidAt: new Date(paidAtMs).toISOString(),
        });
      expect((await pay(first)).status).toBe(200);
      const paid = await pay(second);
      expect(paid.status).toBe(200);
      const status = paid.body['status'] as Status;
      expect(status.ransomPayments).toEqual([new Date(first).toISOString(), new Date(second).toISOString()]);
      const ransom = (status.obligations ?? [])
        .filter((o) => o.id.startsWith('circia-ransom-payment-report'))
        .map((o) => [o.id, o.dueAt, o.state]);
      expect(ransom).toEqual([
        [
          'circia-ransom-payment-report',
          new Date(first + 24 * 3_600_000).toISOString(),
          'OBLIGATION_STATE_OPEN',
        ],
        [
          'circia-ransom-payment-report-2',
          new Date(second + 24 * 3_600_000).toISOString(),
          'OBLIGATION_STATE_OPEN',
        ],
      ]);
      expect(status.resolveBlockers).toEqual([
        expect.stringMatching(/^CIRCIA ransom payment report \(24 h after payment\) is not filed/),
        expect.stringMatching(
          /^CIRCIA ransom payment report for payment 2 \(24 h after payment\) is not filed/,
        ),
      ]);

      // The same payment twice is one payment.
      const again = await pay(second);
      expect([again.status, again.body['grpcStatus']]).toEqual([400, 'FAILED_PRECONDITION']);
      expect(String(again.body['detail'])).toContain('is already recorded');

      // The timeline says what the second payment owes; the second report files on its own.
      const { body: timeline } = await rest(s, 'GET', `/v1/responses/${incidentId}/timeline`, cc);
      const details = (Object.values(timeline).find(Array.isArray) as { detail: string }[]).map(
        (e) => e.detail,
      );
      expect(details).toContain(
        `ransom payment 2 at ${new Date(second).toISOString()}: CIRCIA ransom payment report for payment 2 (24 h after payment) due ${new Date(second + 24 * 3_600_000).toISOString()}`,
      );
      const filed = await rest(s, 'POST', `/v1/responses/${incidentId}/reports`, cc, {
        obligation: 'circia-ransom-payment-report-2',
        reference: 'CISA-RP-2',
      });
      expect(filed.status).toBe(200);
      const afterFiling = filed.body['status'] as Status;
      expect(
        (afterFiling.obligations ?? [])
          .filter((o) => o.id.startsWith('circia-ransom-payment-report'))
          .map((o) => [o.id, o.state]),
      ).toEqual([
        ['circia-ransom-payment-report', 'OBLIGATION_STATE_OPEN'],
        ['circia-ransom-payment-report-2', 'OBLIGATION_STATE_FILED'],
      ]);
    } finally {
      await s.stop();
    }
  });
});
