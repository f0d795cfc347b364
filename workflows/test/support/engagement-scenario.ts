/**
 * Incidents that engage known agencies, and the people who look at them, for the suites about
 * what an engaged agency sees (its engagements, the responses it is engaged on).
 */
import { expect } from 'vitest';
import { NCISS_BASELINE, type Tlp } from '@beacon/domain';
import type { Role } from '@beacon/platform';
import { waitFor } from '@beacon/testkit';
import { rest, type ResponseStack } from './stack.js';

/** CSIRTs are engaged by where an incident is: one region each keeps them apart. */
export const BAVARIA = 'DE-BY';
export const BERLIN = 'DE-BE';

/** A token for a person: the subject names the agency, roles and clearance. */
export const person = (s: ResponseStack, roles: Role[], clearance: Tlp, agencyId?: string) =>
  s.issuer.mint({
    subject: `${agencyId ?? 'cc'}-${roles.join('+')}-${clearance}`,
    roles,
    clearance,
    ...(agencyId ? { agencyId } : {}),
  });

export const coordinator = (s: ResponseStack, clearance: Tlp = 'RED') =>
  person(s, ['coordinator'], clearance);

/** A CSIRT the responses engage for water incidents in `region`, with one contact. */
export async function registerAgency(s: ResponseStack, id: string, region: string): Promise<void> {
  const put = await rest(s, 'POST', '/v1/agencies', await coordinator(s), {
    agency: {
      id,
      name: id,
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: [region],
      sectors: ['water-and-wastewater'],
      clearance: 'TLP_RED',
      contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
    },
  });
  expect(put.status).toBe(200);
}

export interface EngagementJson {
  agencyId: string;
  state: string;
}

/** Opens a water incident in `region` and waits until its response has notified `agencyId`. */
export async function openIncident(
  s: ResponseStack,
  tlp: Tlp,
  region: string,
  agencyId: string,
  title = `Intrusion at a water works in ${region} (${tlp})`,
): Promise<string> {
  const cc = await coordinator(s);
  const opened = await rest(s, 'POST', '/v1/incidents', cc, {
    title,
    tlp: `TLP_${tlp.replace('+', '_')}`,
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['water-and-wastewater'],
    jurisdictions: [region],
    severityInputs: NCISS_BASELINE,
    awareAt: new Date(Date.now() - 600_000).toISOString(),
  });
  expect(opened.status).toBe(201);
  const incidentId = (opened.body['incident'] as { id: string }).id;
  await waitFor(
    async () => {
      const { status, body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, cc);
      const engagements = (body['status'] as { engagements?: EngagementJson[] } | undefined)?.engagements;
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

/** A coordinator removes the agency from the response and waits until intake no longer names it. */
export async function disengage(s: ResponseStack, incidentId: string, agencyId: string): Promise<void> {
  const cc = await coordinator(s);
  const removed = await rest(s, 'POST', `/v1/responses/${incidentId}/agencies/${agencyId}:remove`, cc, {
    reason: 'not needed after all',
  });
  expect(removed.status).toBe(200);
  await waitFor(
    async () => {
      const { body } = await rest(s, 'GET', `/v1/incidents/${incidentId}`, cc);
      const incident = body['incident'] as { engagedAgencyIds?: string[] } | undefined;
      if (!incident) throw new Error(`not read: ${JSON.stringify(body)}`);
      if ((incident.engagedAgencyIds ?? []).includes(agencyId)) throw new Error('still engaged in intake');
    },
    { what: `${agencyId} unassigned in intake`, timeoutMs: 20_000, intervalMs: 250 },
  );
}

/** A refusal with the ids taken out: what must not differ between two requests. */
export const shape = (answer: { status: number; body: Record<string, unknown> }, ...ids: string[]) => ({
  status: answer.status,
  body: {
    ...answer.body,
    detail: ids.reduce((detail, id) => detail.replaceAll(id, '<id>'), String(answer.body['detail'])),
  },
});
