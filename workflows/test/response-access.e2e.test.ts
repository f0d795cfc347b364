/**
 * Who the response API answers, through the public gateway with the real services: every call
 * is decided by the trust policy on the incident as intake has it now, clearance bounds the
 * coordination centre too, and a refusal about an incident the caller may not read is the same
 * answer as for an incident that does not exist (issue 19: acknowledging an engagement used to
 * answer "agency X is not engaged on this incident" for a hidden incident and "this incident
 * has no response" for a made-up id).
 */
import { describe, expect } from 'vitest';
import { NCISS_BASELINE, type Tlp } from '@beacon/domain';
import type { Role } from '@beacon/platform';
import { test as base, testNames, waitFor } from '@beacon/testkit';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

const test = base.extend(
  'stack',
  { scope: 'file' },
  async ({ infra }, { onCleanup }): Promise<ResponseStack> => {
    const stack = await startResponseStack(infra, testNames());
    onCleanup(() => stack.stop());
    await registerAgency(stack, 'cert-water');
    return stack;
  },
);

const token = (s: ResponseStack, roles: Role[], clearance: Tlp, agencyId?: string) =>
  s.issuer.mint({
    subject: `${agencyId ?? 'cc'}-${roles.join('+')}-${clearance}`,
    roles,
    clearance,
    ...(agencyId ? { agencyId } : {}),
  });

const coordinator = (s: ResponseStack) => token(s, ['coordinator'], 'RED');

/** An agency the responses engage for Bavarian water incidents. */
async function registerAgency(s: ResponseStack, id: string) {
  const put = await rest(s, 'POST', '/v1/agencies', await coordinator(s), {
    agency: {
      id,
      name: id,
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: ['DE-BY'],
      sectors: ['water-and-wastewater'],
      clearance: 'TLP_RED',
      contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
    },
  });
  expect(put.status).toBe(200);
}

interface Engagement {
  agencyId: string;
  state: string;
}

/** Opens an incident and waits until its response has engaged and notified `agencyId`. */
async function openIncident(s: ResponseStack, tlp: Tlp, agencyId: string): Promise<string> {
  const cc = await coordinator(s);
  const opened = await rest(s, 'POST', '/v1/incidents', cc, {
    title: `Intrusion at a water works (${tlp})`,
    tlp: `TLP_${tlp.replace('+', '_')}`,
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE-BY'],
    severityInputs: NCISS_BASELINE,
    awareAt: new Date(Date.now() - 600_000).toISOString(),
  });
  expect(opened.status).toBe(201);
  const incidentId = (opened.body['incident'] as { id: string }).id;
  await waitFor(
    async () => {
      const { status, body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, cc);
      const engagements = (body['status'] as { engagements?: Engagement[] } | undefined)?.engagements;
      const engaged = engagements?.find((e) => e.agencyId === agencyId);
      if (status !== 200 || engaged?.state !== 'ENGAGEMENT_STATE_NOTIFIED')
        throw new Error(`not yet: ${status} ${JSON.stringify(body)}`);
      const incident = await rest(s, 'GET', `/v1/incidents/${incidentId}`, cc);
      const named = (incident.body['incident'] as { engagedAgencyIds: string[] }).engagedAgencyIds;
      if (!named.includes(agencyId)) throw new Error(`not yet engaged in intake: ${named.join(', ')}`);
    },
    { what: `${agencyId} notified of the ${tlp} incident`, timeoutMs: 30_000, intervalMs: 250 },
  );
  return incidentId;
}

const acknowledge = async (s: ResponseStack, incidentId: string, agencyId: string, bearer: string) =>
  rest(s, 'POST', `/v1/responses/${incidentId}/agencies/${agencyId}:acknowledge`, bearer, {
    note: 'on it',
  });

/** A refusal with the incident's id taken out: what must not differ between two incidents. */
const shape = (answer: { status: number; body: Record<string, unknown> }, incidentId: string) => ({
  status: answer.status,
  body: { ...answer.body, detail: String(answer.body['detail']).replaceAll(incidentId, '<id>') },
});

describe('the response API answers by the trust policy, on the incident as intake has it now', () => {
  test('acknowledging on a hidden incident answers exactly as on a made-up one; the engaged agency is served', async ({
    stack: s,
  }) => {
    const hidden = await openIncident(s, 'RED', 'cert-water');
    const outsider = await token(s, ['agency_analyst'], 'RED', 'police-elsewhere');

    // An agency neither source of nor engaged on the RED incident, acknowledging for itself.
    const onHidden = await acknowledge(s, hidden, 'police-elsewhere', outsider);
    const madeUp = 'inc_01jzzzzzzzzzzzzzzzzzzzzzzz';
    const onMadeUp = await acknowledge(s, madeUp, 'police-elsewhere', outsider);
    expect(shape(onHidden, hidden)).toEqual(shape(onMadeUp, madeUp));
    expect(onHidden.status).toBe(404);
    expect(onHidden.body).toMatchObject({ grpcStatus: 'NOT_FOUND', detail: `incident ${hidden} not found` });
    expect(JSON.stringify(onHidden.body)).not.toMatch(/engaged|response/);

    // Answering for another agency is refused by role alone, the same for every incident.
    const forAnother = await acknowledge(s, hidden, 'cert-water', outsider);
    const forAnotherMadeUp = await acknowledge(s, madeUp, 'cert-water', outsider);
    expect(forAnother.status).toBe(403);
    expect(shape(forAnother, hidden)).toEqual(shape(forAnotherMadeUp, madeUp));

    // The engaged agency acknowledges its own engagement on the same incident.
    const engaged = await token(s, ['agency_analyst'], 'RED', 'cert-water');
    const served = await acknowledge(s, hidden, 'cert-water', engaged);
    expect(served.status).toBe(200);
    const cc = await coordinator(s);
    await waitFor(
      async () => {
        const { body } = await rest(s, 'GET', `/v1/responses/${hidden}`, cc);
        const engagements = (body['status'] as { engagements: (Engagement & { via: string })[] }).engagements;
        expect(engagements.find((e) => e.agencyId === 'cert-water')).toMatchObject({
          state: 'ENGAGEMENT_STATE_ACKNOWLEDGED',
          via: 'rest',
        });
      },
      { what: 'the acknowledgement recorded', timeoutMs: 20_000, intervalMs: 250 },
    );

    // Cleared below the incident, the same agency gets the answer for a made-up id.
    const downgraded = await token(s, ['agency_analyst'], 'AMBER', 'cert-water');
    expect(shape(await acknowledge(s, hidden, 'cert-water', downgraded), hidden)).toEqual(
      shape(await acknowledge(s, madeUp, 'cert-water', downgraded), madeUp),
    );
  });

  test('"not engaged" is said only to an agency that may read the incident', async ({ stack: s }) => {
    const green = await openIncident(s, 'GREEN', 'cert-water');
    const amber = await openIncident(s, 'AMBER', 'cert-water');
    const bystander = await token(s, ['agency_analyst'], 'RED', 'cert-bystander');

    // GREEN is the community's to read: the bystander learns only what it may see anyway.
    const onGreen = await acknowledge(s, green, 'cert-bystander', bystander);
    expect(onGreen.status).toBe(400);
    expect(onGreen.body).toMatchObject({ grpcStatus: 'FAILED_PRECONDITION' });
    expect(String(onGreen.body['detail'])).toContain('cert-bystander is not engaged');
    // AMBER is not: the same request reads as a missing incident.
    const onAmber = await acknowledge(s, amber, 'cert-bystander', bystander);
    expect(onAmber.body).toMatchObject({ grpcStatus: 'NOT_FOUND', detail: `incident ${amber} not found` });

    // Removed from the response (and so from the incident), the once-engaged agency is answered
    // as a stranger to it; while engaged it was served.
    const engaged = await token(s, ['agency_analyst'], 'RED', 'cert-water');
    const cc = await coordinator(s);
    const removed = await rest(s, 'POST', `/v1/responses/${amber}/agencies/cert-water:remove`, cc, {
      reason: 'not needed after all',
    });
    expect(removed.status).toBe(200);
    await waitFor(
      async () => {
        const { body } = await rest(s, 'GET', `/v1/incidents/${amber}`, cc);
        const incident = body['incident'] as { engagedAgencyIds?: string[] } | undefined;
        if (!incident) throw new Error(`not read: ${JSON.stringify(body)}`);
        // An empty list is left out of the JSON.
        const named = incident.engagedAgencyIds ?? [];
        if (named.includes('cert-water')) throw new Error('still engaged in intake');
      },
      { what: 'cert-water unassigned in intake', timeoutMs: 20_000, intervalMs: 250 },
    );
    const afterRemoval = await acknowledge(s, amber, 'cert-water', engaged);
    expect(afterRemoval.body).toMatchObject({
      grpcStatus: 'NOT_FOUND',
      detail: `incident ${amber} not found`,
    });
    expect((await acknowledge(s, green, 'cert-water', engaged)).status).toBe(200);
  });

  test('clearance bounds coordinators and auditors: a CLEAR-cleared one finds no RED response', async ({
    stack: s,
  }) => {
    const red = await openIncident(s, 'RED', 'cert-water');
    const madeUp = 'inc_01jyyyyyyyyyyyyyyyyyyyyyyy';
    for (const role of ['coordinator', 'auditor'] as const) {
      const low = await token(s, [role], 'CLEAR');
      const high = await token(s, [role], 'RED');
      const denied = await rest(s, 'GET', `/v1/responses/${red}`, low);
      expect(denied.body).toMatchObject({ grpcStatus: 'NOT_FOUND', detail: `incident ${red} not found` });
      expect(shape(denied, red)).toEqual(shape(await rest(s, 'GET', `/v1/responses/${madeUp}`, low), madeUp));
      expect((await rest(s, 'GET', `/v1/responses/${red}/timeline`, low)).status).toBe(404);
      const served = await rest(s, 'GET', `/v1/responses/${red}`, high);
      expect(served.status).toBe(200);
      expect((served.body['status'] as { incidentId: string }).incidentId).toBe(red);
    }
    // Commands too: the CLEAR-cleared coordinator cannot escalate what it cannot read.
    const low = await token(s, ['coordinator'], 'CLEAR');
    const escalated = await rest(s, 'POST', `/v1/responses/${red}:escalate`, low, {});
    expect(escalated.body).toMatchObject({ grpcStatus: 'NOT_FOUND', detail: `incident ${red} not found` });
    const byCleared = await rest(s, 'POST', `/v1/responses/${red}:escalate`, await coordinator(s), {});
    expect(byCleared.status).toBe(200);
  });
});
