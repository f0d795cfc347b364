/**
 * What an engaged agency sees of its own part, through the public gateway with the real
 * services, NATS, the Mongo-wire store and Temporal (issue 21, 4): its engagements listed with
 * their state, deadlines, escalation step and acknowledgement, and the responses it is engaged
 * on, read but never commanded. Every answer follows the trust policy on the incident as intake
 * has it now.
 */
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { responseV1 } from '@beacon/proto';
import { NCISS_HIGH, test as base, testNames, waitFor } from '@beacon/testkit';
import {
  coordinator,
  disengage,
  BERLIN,
  openIncident,
  person,
  registerAgency,
  shape,
  BAVARIA,
} from './support/engagement-scenario.js';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

const test = base.extend(
  'stack',
  { scope: 'file' },
  async ({ infra }, { onCleanup }): Promise<ResponseStack> => {
    const stack = await startResponseStack(infra, testNames());
    onCleanup(() => stack.stop());
    await registerAgency(stack, 'cert-water', BAVARIA);
    await registerAgency(stack, 'cert-berlin', BERLIN);
    return stack;
  },
);

interface Listed {
  incidentId: string;
  incidentTitle?: string;
  tlp?: string;
  phase?: string;
  ncissLevel?: number;
  state?: string;
  reasons?: string[];
  startedAt?: string;
  escalation?: {
    contactRank?: number;
    role?: string;
    notifiedAgencyId?: string;
    round?: number;
    noticesSent?: number;
    escalated?: boolean;
    notifiedAt?: string;
  };
  acknowledgeBy?: string;
  acknowledgement?: { at?: string; via?: string; by?: string };
  regulatoryDeadlines?: { obligation: string; dueAt?: string; state: string }[];
}

interface Page {
  engagements?: Listed[];
  nextPageToken?: string;
}

const list = async (s: ResponseStack, agencyId: string, bearer: string, query = '') => {
  const answer = await rest(s, 'GET', `/v1/agencies/${agencyId}/engagements${query}`, bearer);
  return { ...answer, page: answer.body as Page };
};

/** Lists until `check` holds: Visibility follows the responses a moment later. */
const listUntil = (
  s: ResponseStack,
  agencyId: string,
  bearer: string,
  what: string,
  check: (listed: Listed[]) => void,
) =>
  waitFor(
    async () => {
      const { status, page, body } = await list(s, agencyId, bearer, '?pageSize=100');
      if (status !== 200) throw new Error(`${status} ${JSON.stringify(body)}`);
      const listed = page.engagements ?? [];
      check(listed);
      return listed;
    },
    { what, timeoutMs: 20_000, intervalMs: 250 },
  );

const ids = (listed: Listed[]) => listed.map((e) => e.incidentId).sort();

/** ListAgencyEngagements at the gateway's gRPC door: the answer, or the refusal's code. */
async function listGrpc(
  s: ResponseStack,
  agencyId: string,
  bearer: string,
): Promise<responseV1.ListAgencyEngagementsResponse | ServiceError> {
  const client = new responseV1.ResponseServiceClient(
    `127.0.0.1:${s.gateway.grpcPort}`,
    credentials.createInsecure(),
  );
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${bearer}`);
  try {
    return await new Promise((resolve) =>
      client.listAgencyEngagements({ agencyId, pageSize: 0, pageToken: '' }, metadata, (error, answer) =>
        resolve(error ?? answer),
      ),
    );
  } finally {
    client.close();
  }
}

describe("an agency's engagements", () => {
  test('an agency lists only its own, with state, deadlines, step and acknowledgement', async ({
    stack: s,
  }) => {
    const amber = await openIncident(s, 'AMBER', BAVARIA, 'cert-water', 'Water works intrusion');
    const analyst = await person(s, ['agency_analyst'], 'RED', 'cert-water');

    const [row] = await listUntil(s, 'cert-water', analyst, 'the AMBER engagement listed', (listed) =>
      expect(ids(listed)).toEqual([amber]),
    );
    expect(row).toMatchObject({
      incidentId: amber,
      incidentTitle: 'Water works intrusion',
      tlp: 'TLP_AMBER',
      phase: 'RESPONSE_PHASE_ACTIVE',
      state: 'ENGAGEMENT_STATE_NOTIFIED',
      escalation: { role: 'duty-officer', notifiedAgencyId: 'cert-water', round: 1, noticesSent: 1 },
    });
    expect(row!.escalation?.escalated ?? false).toBe(false);
    // A baseline incident: the default policy waits 8 hours at each contact, and no regime applies.
    const waited = (e: Listed) => Date.parse(e.acknowledgeBy!) - Date.parse(e.escalation!.notifiedAt!);
    expect(row!.ncissLevel ?? 0).toBe(0);
    expect(waited(row!)).toBe(480 * 60_000);
    expect(row!.regulatoryDeadlines ?? []).toEqual([]);

    // A coordinator raises the severity: the wait at the contact shortens, NIS2's clock starts.
    const cc = await coordinator(s);
    const raised = await rest(s, 'POST', `/v1/responses/${amber}:changeSeverity`, cc, {
      severityInputs: NCISS_HIGH,
    });
    expect(raised.status).toBe(200);
    const [after] = await listUntil(s, 'cert-water', analyst, 'the NIS2 deadlines listed', ([e]) =>
      expect(e?.regulatoryDeadlines?.length ?? 0).toBeGreaterThan(0),
    );
    const response = (await rest(s, 'GET', `/v1/responses/${amber}`, cc)).body['status'] as {
      ncissLevel: number;
      awareAt: string;
      obligations: { id: string; dueAt?: string; state: string }[];
    };
    expect(response.ncissLevel).toBe(3);
    expect(after!.ncissLevel).toBe(response.ncissLevel);
    expect(waited(after!)).toBe([480, 240, 120, 60, 30, 15][response.ncissLevel]! * 60_000);
    // The deadlines are the response's unfiled reports, soonest first: NIS2's early warning
    // 24 hours after the awareness time.
    expect(after!.regulatoryDeadlines!.map((d) => [d.obligation, d.dueAt])).toEqual(
      response.obligations.filter((o) => o.state !== 'OBLIGATION_STATE_FILED').map((o) => [o.id, o.dueAt]),
    );
    expect(after!.regulatoryDeadlines![0]).toMatchObject({
      obligation: 'nis2-early-warning',
      state: 'OBLIGATION_STATE_OPEN',
    });
    expect(Date.parse(after!.regulatoryDeadlines![0]!.dueAt!)).toBe(
      Date.parse(response.awareAt) + 24 * 3_600_000,
    );

    // Another agency's list is refused by role alone: the same for an agency that exists and
    // one that does not, and the refused caller is served its own (empty) list.
    const stranger = await person(s, ['agency_analyst'], 'RED', 'cert-berlin');
    const other = await list(s, 'cert-water', stranger);
    expect(other.status).toBe(403);
    expect(shape(other, 'cert-water')).toEqual(
      shape(await list(s, 'no-such-agency', stranger), 'no-such-agency'),
    );
    expect(JSON.stringify(other.body)).not.toContain(amber);
    const own = await list(s, 'cert-berlin', stranger);
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.body)).not.toContain(amber);
    // The same at the gateway's gRPC door.
    const overGrpc = await listGrpc(s, 'cert-water', analyst);
    expect('engagements' in overGrpc ? overGrpc.engagements.map((e) => e.incidentId) : overGrpc).toEqual([
      amber,
    ]);
    expect(await listGrpc(s, 'cert-water', stranger)).toMatchObject({ code: grpcStatus.PERMISSION_DENIED });
    // Victim officers list nobody's, not even their organisation's.
    const officer = await person(s, ['victim_officer'], 'RED', 'cert-water');
    expect((await list(s, 'cert-water', officer)).status).toBe(403);

    // The agency acknowledges: who, when and how are listed.
    const acked = await rest(s, 'POST', `/v1/responses/${amber}/agencies/cert-water:acknowledge`, analyst, {
      note: 'on it',
    });
    expect(acked.status).toBe(200);
    await listUntil(s, 'cert-water', analyst, 'the acknowledgement listed', ([e]) => {
      expect(e).toMatchObject({
        state: 'ENGAGEMENT_STATE_ACKNOWLEDGED',
        acknowledgement: { via: 'rest', by: 'cert-water-agency_analyst-RED' },
      });
      expect(e!.acknowledgeBy).toBeUndefined();
    });
  });

  test('a coordinator lists any agency’s, within its clearance, a page at a time', async ({ stack: s }) => {
    const green = await openIncident(s, 'GREEN', BERLIN, 'cert-berlin');
    const red = await openIncident(s, 'RED', BERLIN, 'cert-berlin');
    const high = await coordinator(s, 'RED');
    const all = ids(
      await listUntil(s, 'cert-berlin', high, 'both engagements listed', (listed) =>
        expect(ids(listed)).toEqual(expect.arrayContaining([green, red])),
      ),
    );
    // Cleared for AMBER, the coordinator does not see the RED incident, nor learn it is there.
    const amberCleared = await coordinator(s, 'AMBER');
    const low = await list(s, 'cert-berlin', amberCleared, '?pageSize=100');
    expect(low.status).toBe(200);
    expect(ids(low.page.engagements ?? [])).toContain(green);
    expect(JSON.stringify(low.body)).not.toContain(red);

    // A page at a time: one per page, every engagement once, the last page without a token.
    const first = await list(s, 'cert-berlin', high, '?pageSize=1');
    expect(first.page.engagements).toHaveLength(1);
    expect(first.page.nextPageToken).toBeTruthy();
    const second = await list(s, 'cert-berlin', high, `?pageSize=1&pageToken=${first.page.nextPageToken}`);
    expect(second.status).toBe(200);
    const seen = [...(first.page.engagements ?? []), ...(second.page.engagements ?? [])];
    let token = second.page.nextPageToken;
    while (token) {
      const next = await list(s, 'cert-berlin', high, `?pageSize=1&pageToken=${token}`);
      seen.push(...(next.page.engagements ?? []));
      token = next.page.nextPageToken;
    }
    expect(ids(seen)).toEqual(all);
    // A token is for the list it came from: replayed for another agency it is refused.
    const replayed = await list(s, 'cert-water', high, `?pageSize=1&pageToken=${first.page.nextPageToken}`);
    expect(replayed.status).toBe(400);
    expect(JSON.stringify(replayed.body)).toContain('page_token');
    expect((await list(s, 'cert-berlin', high, '?pageSize=101')).status).toBe(400);
  });
});

describe('the response of an incident an agency is engaged on', () => {
  test('is read by the engaged agency, not by others (as not found), and never commanded by it', async ({
    stack: s,
  }) => {
    const engaged = await openIncident(s, 'AMBER', BAVARIA, 'cert-water');
    const elsewhere = await openIncident(s, 'AMBER', BERLIN, 'cert-berlin');
    const community = await openIncident(s, 'GREEN', BERLIN, 'cert-berlin');
    const madeUp = 'inc_01jxxxxxxxxxxxxxxxxxxxxxxx';
    const analyst = await person(s, ['agency_analyst'], 'RED', 'cert-water');

    const read = await rest(s, 'GET', `/v1/responses/${engaged}`, analyst);
    expect(read.status).toBe(200);
    const engagements = (read.body['status'] as { engagements: { agencyId: string; state: string }[] })
      .engagements;
    expect(engagements).toContainEqual(expect.objectContaining({ agencyId: 'cert-water' }));
    const timeline = await rest(s, 'GET', `/v1/responses/${engaged}/timeline`, analyst);
    expect(timeline.status).toBe(200);
    expect((timeline.body['entries'] as { kind: string }[]).map((e) => e.kind)).toContain('triage');

    // Not engaged: the AMBER incident and even a GREEN one (readable, but the response is the
    // engaged agencies' business) answer exactly as a made-up id.
    for (const incidentId of [elsewhere, community]) {
      for (const path of ['', '/timeline']) {
        const denied = await rest(s, 'GET', `/v1/responses/${incidentId}${path}`, analyst);
        expect(denied.body).toMatchObject({
          grpcStatus: 'NOT_FOUND',
          detail: `incident ${incidentId} not found`,
        });
        expect(shape(denied, incidentId)).toEqual(
          shape(await rest(s, 'GET', `/v1/responses/${madeUp}${path}`, analyst), madeUp),
        );
      }
    }

    // Commands stay the coordinators', refused by role before the incident is looked at.
    const commands: [string, unknown][] = [
      [`/v1/responses/${engaged}:escalate`, {}],
      [`/v1/responses/${engaged}/agencies/cert-water:remove`, { reason: 'done' }],
      [`/v1/responses/${engaged}/agencies`, { agencyId: 'cert-berlin', reason: 'help' }],
      [`/v1/responses/${engaged}:resolve`, { summary: 'done' }],
    ];
    for (const [path, body] of commands) {
      const refused = await rest(s, 'POST', path, analyst, body);
      expect(refused.status, path).toBe(403);
      expect(refused.body).toMatchObject({ grpcStatus: 'PERMISSION_DENIED' });
    }
    const admin = await person(s, ['agency_admin'], 'RED', 'cert-water');
    expect((await rest(s, 'POST', `/v1/responses/${engaged}:escalate`, admin, {})).status).toBe(403);
    // The coordinator is served the same command.
    expect(
      (await rest(s, 'POST', `/v1/responses/${engaged}:escalate`, await coordinator(s), {})).status,
    ).toBe(200);
    // Cleared below the label, the engaged agency's analyst reads nothing of it.
    const greenCleared = await person(s, ['agency_analyst'], 'GREEN', 'cert-water');
    expect((await rest(s, 'GET', `/v1/responses/${engaged}`, greenCleared)).status).toBe(404);
  });

  test('a disengaged agency no longer lists or reads an AMBER incident; a GREEN one stays listed as removed', async ({
    stack: s,
  }) => {
    const amber = await openIncident(s, 'AMBER', BAVARIA, 'cert-water');
    const green = await openIncident(s, 'GREEN', BAVARIA, 'cert-water');
    const analyst = await person(s, ['agency_analyst'], 'RED', 'cert-water');
    await listUntil(s, 'cert-water', analyst, 'both listed while engaged', (listed) =>
      expect(ids(listed)).toEqual(expect.arrayContaining([amber, green])),
    );
    expect((await rest(s, 'GET', `/v1/responses/${amber}`, analyst)).status).toBe(200);

    await disengage(s, amber, 'cert-water');
    await disengage(s, green, 'cert-water');

    const listed = await listUntil(
      s,
      'cert-water',
      analyst,
      'the GREEN engagement listed as removed',
      (rows) => expect(rows.find((e) => e.incidentId === green)?.state).toBe('ENGAGEMENT_STATE_REMOVED'),
    );
    expect(ids(listed)).not.toContain(amber);
    expect(JSON.stringify(listed)).not.toContain(amber);
    for (const incidentId of [amber, green]) {
      const denied = await rest(s, 'GET', `/v1/responses/${incidentId}`, analyst);
      expect(denied.body).toMatchObject({
        grpcStatus: 'NOT_FOUND',
        detail: `incident ${incidentId} not found`,
      });
    }
    // The coordinator still lists the AMBER engagement, as removed.
    await listUntil(
      s,
      'cert-water',
      await coordinator(s),
      'the AMBER engagement listed to the centre',
      (rows) => expect(rows.find((e) => e.incidentId === amber)?.state).toBe('ENGAGEMENT_STATE_REMOVED'),
    );
  });
});
