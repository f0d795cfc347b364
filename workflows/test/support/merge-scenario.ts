/**
 * Two incidents, each with its response, and a coordinator merging them through the gateway:
 * the set-up and the expectations the merge tests share (normal run and worker killed mid-merge).
 *
 * The survivor is a suspected crime in Bavaria known for an hour (cert-bayern, lka-bayern); the
 * merged one the same attack seen in Bavaria, France and the Netherlands, known for 30 hours
 * (cert-bayern, cert-fr, cert-nl), which cert-fr acknowledged before the merge.
 */
import { jetstream } from '@nats-io/jetstream';
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';
import { waitFor } from '@beacon/testkit';
import { responseWorkflowId } from '../../src/index.js';
import { statusQuery, timelineQuery, type ResponseStatus } from '../../src/workflows/definitions.js';
import type { incidentResponse } from '../../src/workflows/index.js';
import { rest, type ResponseStack } from './stack.js';

type Nats = Parameters<typeof jetstream>[0];

/** NCISS level 2 (Medium): NIS2 applies to an EU water works, nobody escalates for hours. */
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

const HOUR = 3_600_000;

/** Workflows a visibility query finds, as sorted [workflow id, status]. */
async function listed(temporal: Client, query: string): Promise<[string, string][]> {
  const found: [string, string][] = [];
  for await (const wf of temporal.workflow.list({ query })) found.push([wf.workflowId, wf.status.name]);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Waits until a visibility query finds exactly what `check` accepts. */
function listedWhen(
  temporal: Client,
  query: string,
  check: (found: [string, string][]) => boolean,
  what: string,
) {
  return waitFor(
    async () => {
      const found = await listed(temporal, query);
      if (!check(found)) throw new Error(`not yet: ${JSON.stringify(found)}`);
      return found;
    },
    { what, timeoutMs: 120_000, intervalMs: 250 },
  );
}

const response = (temporal: Client, incidentId: string) =>
  temporal.workflow.getHandle<typeof incidentResponse>(responseWorkflowId(incidentId));

function statusWhen(
  temporal: Client,
  incidentId: string,
  check: (s: ResponseStatus) => boolean,
  what: string,
) {
  return waitFor(
    async () => {
      const status = await response(temporal, incidentId).query(statusQuery);
      if (!check(status))
        throw new Error(
          `not yet: ${status.phase} ${JSON.stringify(status.agencies.map((a) => [a.agencyId, a.state]))}`,
        );
      return status;
    },
    { what, timeoutMs: 120_000, intervalMs: 250 },
  );
}

/** Engagement notices about one incident in one agency's feed. */
async function notices(s: ResponseStack, nats: Nats, agencyId: string, incidentId: string) {
  const info = await (
    await jetstream(nats).jetstreamManager()
  ).streams.info(s.feeds.stream, {
    subjects_filter: `${s.feeds.root}.${agencyId}.${incidentId}.*.notify.engagement-requested`,
  });
  return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}

const engagementsOf = (status: ResponseStatus) => status.agencies.map((a) => [a.agencyId, a.state] as const);

export interface TwoResponses {
  readonly survivorId: string;
  readonly mergedId: string;
  readonly survivorAware: Date;
  readonly mergedAware: Date;
  /** The coordinator merges, confirming the merged incident's (earlier) awareness time. */
  merge(): Promise<void>;
}

/** Registers the agencies, opens both incidents and waits until both responses engaged theirs. */
export async function twoResponses(s: ResponseStack, temporal: Client, nats: Nats): Promise<TwoResponses> {
  const cc = await s.token(['coordinator']);
  for (const [id, kind, jurisdiction] of [
    ['cert-bayern', 'AGENCY_KIND_CSIRT', 'DE-BY'],
    ['lka-bayern', 'AGENCY_KIND_LAW_ENFORCEMENT', 'DE-BY'],
    ['cert-fr', 'AGENCY_KIND_CSIRT', 'FR'],
    ['cert-nl', 'AGENCY_KIND_CSIRT', 'NL'],
  ] as const) {
    const put = await rest(s, 'POST', '/v1/agencies', cc, {
      agency: {
        id,
        name: id,
        kind,
        jurisdictions: [jurisdiction],
        sectors: ['water-and-wastewater'],
        clearance: 'TLP_RED',
        contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
      },
    });
    expect(put.status).toBe(200);
  }
  const open = async (body: Record<string, unknown>) => {
    const opened = await rest(s, 'POST', '/v1/incidents', cc, {
      tlp: 'TLP_AMBER',
      sectors: ['water-and-wastewater'],
      severityInputs: MEDIUM,
      ...body,
    });
    expect(opened.status).toBe(201);
    return (opened.body['incident'] as { id: string }).id;
  };
  const survivorAware = new Date(Date.now() - HOUR);
  const survivorId = await open({
    title: 'Ransomware at a Bavarian water works',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    jurisdictions: ['DE-BY'],
    awareAt: survivorAware.toISOString(),
  });
  // Its 24-hour NIS2 early warning is already overdue.
  const mergedAware = new Date(Date.now() - 30 * HOUR);
  const mergedId = await open({
    title: 'Outage at water works in three countries',
    classification: { rsitClass: 'availability', rsitType: 'outage' },
    jurisdictions: ['DE-BY', 'FR', 'NL'],
    awareAt: mergedAware.toISOString(),
  });

  const notified = (status: ResponseStatus, ids: string[]) =>
    ids.every((id) => status.agencies.some((a) => a.agencyId === id && a.state === 'notified'));
  await statusWhen(
    temporal,
    survivorId,
    (x) => x.phase === 'active' && notified(x, ['cert-bayern', 'lka-bayern']),
    'the survivor response engaged its agencies',
  );
  await statusWhen(
    temporal,
    mergedId,
    (x) => x.phase === 'active' && notified(x, ['cert-bayern', 'cert-fr', 'cert-nl']),
    'the merged response engaged its agencies',
  );
  // cert-fr acknowledges the merged incident on its feed.
  await waitFor(
    async () => {
      const answer = JSON.parse(
        new TextDecoder().decode(
          (await nats.request(`${s.ackRoot}.cert-fr.${mergedId}`, 'on it', { timeout: 5_000 })).data,
        ),
      ) as { ok: boolean; message?: string };
      if (!answer.ok) throw new Error(answer.message);
    },
    { what: 'cert-fr acknowledged by feed', timeoutMs: 20_000, intervalMs: 250 },
  );
  await statusWhen(
    temporal,
    mergedId,
    (x) => x.agencies.some((a) => a.agencyId === 'cert-fr' && a.state === 'acknowledged'),
    'cert-fr acknowledged on the merged incident',
  );
  await listedWhen(
    temporal,
    `WorkflowType = 'regulatoryClock' AND ExecutionStatus = 'Running' AND IncidentId IN ('${survivorId}', '${mergedId}')`,
    (found) => found.length === 2,
    'a NIS2 clock for each incident',
  );
  const before = await response(temporal, survivorId).query(statusQuery);
  expect(before.obligations.find((o) => o.id === 'nis2-early-warning')).toMatchObject({
    state: 'open',
    dueAtMs: survivorAware.getTime() + 24 * HOUR,
  });
  return {
    survivorId,
    mergedId,
    survivorAware,
    mergedAware,
    merge: async () => {
      const merged = await rest(s, 'POST', `/v1/incidents/${survivorId}:merge`, cc, {
        mergedId,
        awareAt: mergedAware.toISOString(),
      });
      expect(merged.status).toBe(200);
    },
  };
}

/**
 * One survivor: the merged response completed, handed over, without asking intake; the
 * survivor's runs with every agency of both once — its own two, cert-fr as acknowledged on the
 * merged incident (nobody pages it again), cert-nl engaged anew as it was still waiting there —
 * and one set of clocks, counting from the earlier awareness time.
 */
export async function expectOneSurvivor(
  s: ResponseStack,
  temporal: Client,
  nats: Nats,
  { survivorId, mergedId, mergedAware }: TwoResponses,
): Promise<void> {
  const outcome = await response(temporal, mergedId).result();
  expect(outcome).toMatchObject({ phase: 'closed', mergedInto: survivorId });
  expect(outcome.agencies.map((a) => [a.agencyId, a.state])).toEqual([
    ['cert-bayern', 'removed'],
    ['cert-fr', 'acknowledged'],
    ['cert-nl', 'removed'],
  ]);

  const after = await statusWhen(
    temporal,
    survivorId,
    (x) =>
      x.agencies.length === 4 &&
      x.agencies.some((a) => a.agencyId === 'cert-nl' && a.state === 'notified') &&
      x.obligations.some((o) => o.id === 'nis2-early-warning' && o.state === 'overdue'),
    'the survivor took the merged response over',
  );
  expect(after.phase).toBe('active');
  expect(engagementsOf(after)).toEqual([
    ['cert-bayern', 'notified'],
    ['cert-fr', 'acknowledged'],
    ['cert-nl', 'notified'],
    ['lka-bayern', 'notified'],
  ]);
  expect(after.awareAtMs).toBe(mergedAware.getTime());
  expect(after.jurisdictions).toEqual(['DE-BY', 'FR', 'NL']);
  expect(after.obligations.find((o) => o.id === 'nis2-early-warning')?.dueAtMs).toBe(
    mergedAware.getTime() + 24 * HOUR,
  );
  const timeline = await response(temporal, survivorId).query(timelineQuery);
  expect(timeline.filter((e) => e.kind === 'merged').map((e) => e.detail)).toEqual([
    expect.stringContaining(`incident ${mergedId} merged into this one`),
  ]);

  // The engagements run inside the responses: no workflow of their own on either incident, and
  // the merged incident's ended with its response (closed above).
  expect(
    await listed(
      temporal,
      `WorkflowType = 'agencyEngagement' AND IncidentId IN ('${survivorId}', '${mergedId}')`,
    ),
  ).toEqual([]);
  // Notices about the survivor: one to each agency it engages itself, none to cert-fr.
  for (const [agencyId, count] of [
    ['cert-bayern', 1],
    ['lka-bayern', 1],
    ['cert-nl', 1],
    ['cert-fr', 0],
  ] as const) {
    await waitFor(
      async () => {
        const n = await notices(s, nats, agencyId, survivorId);
        if (n < count) throw new Error(`${n} notices`);
      },
      { what: `the notice to ${agencyId}`, timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(await notices(s, nats, agencyId, survivorId)).toBe(count);
  }

  // One set of clocks: the survivor's NIS2 clock, now counting from the earlier awareness (its
  // early warning overdue at once); the merged incident's clock ended, handed over.
  const clocks = await listedWhen(
    temporal,
    `WorkflowType = 'regulatoryClock' AND ExecutionStatus = 'Running' AND IncidentId IN ('${survivorId}', '${mergedId}')`,
    (found) => found.length === 1,
    'one running clock',
  );
  expect(clocks).toEqual([[`incident-${survivorId}-clock-nis2`, 'RUNNING']]);
  expect(await temporal.workflow.getHandle(`incident-${mergedId}-clock-nis2`).result()).toMatchObject({
    regime: 'NIS2',
    handedOverTo: survivorId,
  });
  await waitFor(
    async () => {
      const entries = await response(temporal, survivorId).query(timelineQuery);
      if (!entries.some((e) => e.kind === 'overdue' && e.obligation === 'nis2-early-warning'))
        throw new Error('no overdue alarm yet');
    },
    { what: "the survivor's clock raising the early warning overdue", timeoutMs: 20_000, intervalMs: 250 },
  );
}
