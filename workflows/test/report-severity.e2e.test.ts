/**
 * Severity for incidents reports open (issue 21 point 7), end to end through the gateway's REST
 * door on the real services and the Temporal dev server: a report's own NCISS inputs open its
 * incident at their level; impact raises a report-opened incident whose affected assets cut
 * power to hundreds of thousands of people, as it does for one a coordinator opened; another
 * agency's joining report is recorded as a proposal and changes nothing; and the response's
 * timeline says which inputs came from the reporter and which from impact's cascade.
 */
import { describe, expect } from 'vitest';
import { test, waitFor } from '@beacon/testkit';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

interface IncidentJson {
  id: string;
  severity: { score: number; level: number; levelName: string };
  severityInputs: Record<string, string>;
  severityOrigins?: Record<string, { source: string; agencyId?: string; reportId?: string }>;
  severityProposals?: {
    reportId: string;
    reporterAgencyId?: string;
    severityInputs: Record<string, string>;
  }[];
}

async function incident(s: ResponseStack, token: string, id: string): Promise<IncidentJson> {
  const { status, body } = await rest(s, 'GET', `/v1/incidents/${id}`, token);
  if (status !== 200) throw new Error(`GetIncident answered ${status}`);
  return body['incident'] as IncidentJson;
}

async function timeline(s: ResponseStack, token: string, id: string): Promise<string[]> {
  const { status, body } = await rest(s, 'GET', `/v1/responses/${id}/timeline`, token);
  if (status !== 200) throw new Error(`the timeline answered ${status}`);
  return (Object.values(body).find(Array.isArray) as { detail: string }[]).map((e) => e.detail);
}

const report = (
  title: string,
  severityInputs: Record<string, string>,
  extra: Record<string, unknown> = {},
) => ({
  title,
  description: 'Breakers opened from the dispatch centre; operator workstations wiped.',
  tlp: 'TLP_GREEN',
  classification: { rsitClass: 'availability', rsitType: 'sabotage' },
  sectors: ['energy'],
  jurisdictions: ['UA'],
  observables: [{ type: 'ipv4', value: '198.51.100.23' }],
  awareAt: new Date(Date.now() - 3_600_000).toISOString(),
  severityInputs,
  ...extra,
});

/** What the first grid operator knows an hour in: 0.18 + 0.10 + 0.10·6/7 + 0.14 + 0.08·1/6 = 52. */
const OPERATOR = {
  functionalImpact: 'denial-critical',
  observedActivity: 'effect',
  location: 'critical-systems',
  informationImpact: 'destruction-critical',
};

describe('severity of incidents reports open', () => {
  test('the reporter’s inputs, impact’s cascade and another agency’s proposal, each where it belongs and named on the timeline', async ({
    infra,
    names,
  }) => {
    const s = await startResponseStack(infra, names);
    try {
      const cc = await s.token(['coordinator']);
      const certUa = await s.token(['agency_analyst'], 'cert-ua');
      const operatorA = await s.token(['agency_analyst'], 'oblenergo-a');
      const operatorB = await s.token(['agency_analyst'], 'oblenergo-b');

      // A report with grave inputs opens its incident at their level, without waiting for anyone.
      const grave = await rest(
        s,
        'POST',
        '/v1/reports',
        certUa,
        report(
          'Wiper on a ministry network',
          { ...OPERATOR, actor: 'nation-state', recoverability: 'extended' },
          {
            observables: [{ type: 'domain', value: 'wiper-c2.example' }],
            sectors: ['government-facilities'],
          },
        ),
      );
      expect(grave.status).toBe(201);
      const graveIncident = grave.body['incident'] as IncidentJson;
      // 52 + actor 0.08·5/6 + recoverability 0.12·2/3 = 66.6
      expect(graveIncident.severity).toEqual({ score: 67, level: 3, levelName: 'high' });
      expect(graveIncident.severityOrigins?.['actor']).toMatchObject({
        source: 'SEVERITY_INPUT_SOURCE_REPORTER',
        agencyId: 'cert-ua',
      });

      // Three operators' substations, 545,000 people, and a water utility on the first one.
      const substations = [
        ['substation-a', 'oblenergo-a', 200_000],
        ['substation-b', 'oblenergo-b', 180_000],
        ['substation-c', 'oblenergo-c', 165_000],
      ] as const;
      for (const [id, operatorId, populationServed] of [
        ...substations,
        ['water-works', 'vodokanal', 60_000] as const,
      ]) {
        const put = await rest(s, 'POST', '/v1/assets', cc, {
          asset: {
            id,
            name: id,
            operatorId,
            sector: id === 'water-works' ? 'water-and-wastewater' : 'energy',
            jurisdiction: 'UA-26',
            location: { lat: 48.9, lon: 24.7 },
            populationServed,
            criticality: 5,
            tlp: 'TLP_GREEN',
          },
          expectedVersion: 0,
        });
        expect(put.status).toBe(200);
      }
      const dependency = await rest(s, 'POST', '/v1/dependencies', cc, {
        dependency: {
          dependentId: 'water-works',
          providerId: 'substation-a',
          kind: 'power',
          timeToImpactHours: 2,
          degradation: 1,
        },
      });
      expect(dependency.status).toBe(200);

      const opened = await rest(
        s,
        'POST',
        '/v1/reports',
        operatorA,
        report('Substations switched off remotely', OPERATOR, {
          affectedAssets: substations.map(([assetId]) => ({ assetId, loss: 1 })),
        }),
      );
      expect(opened.status).toBe(201);
      const openedIncident = opened.body['incident'] as IncidentJson;
      const reportA = (opened.body['report'] as { id: string }).id;
      const id = openedIncident.id;
      // What the reporter said, and nothing yet of the cascade.
      expect(openedIncident.severity).toEqual({ score: 52, level: 2, levelName: 'medium' });

      // Impact assesses the report-opened incident and raises what the cascade implies.
      const raised = await waitFor(
        async () => {
          const now = await incident(s, cc, id);
          if (now.severityInputs['potentialImpact'] !== 'very-high') throw new Error('not raised yet');
          return now;
        },
        { what: 'impact raising the severity', timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(raised.severityInputs).toMatchObject({
        ...OPERATOR,
        potentialImpact: 'very-high',
        crossSectorDependency: 'low',
      });
      // 52 + 0.16 + 0.12·1/3 = 72: Severe.
      expect(raised.severity).toEqual({ score: 72, level: 4, levelName: 'severe' });
      expect(raised.severityOrigins).toMatchObject({
        functionalImpact: {
          source: 'SEVERITY_INPUT_SOURCE_REPORTER',
          agencyId: 'oblenergo-a',
          reportId: reportA,
        },
        potentialImpact: { source: 'SEVERITY_INPUT_SOURCE_IMPACT' },
        crossSectorDependency: { source: 'SEVERITY_INPUT_SOURCE_IMPACT' },
      });

      // The second operator's report joins, judging it graver: recorded, not applied.
      const joined = await rest(
        s,
        'POST',
        '/v1/reports',
        operatorB,
        report('Our substation too', { actor: 'nation-state', recoverability: 'not-recoverable' }),
      );
      expect(joined.status).toBe(201);
      expect(joined.body['attached']).toBe(true);
      const reportB = joined.body['report'] as { id: string; severityInputs: Record<string, string> };
      expect(reportB.severityInputs).toMatchObject({
        actor: 'nation-state',
        recoverability: 'not-recoverable',
      });
      const after = await incident(s, cc, id);
      expect(after.severity).toEqual(raised.severity);
      expect(after.severityInputs).toEqual(raised.severityInputs);
      expect(after.severityOrigins).toEqual(raised.severityOrigins);
      expect(after.severityProposals).toEqual([
        {
          reportId: reportB.id,
          reporterAgencyId: 'oblenergo-b',
          severityInputs: expect.objectContaining({
            actor: 'nation-state',
            recoverability: 'not-recoverable',
          }) as unknown,
          proposedAt: expect.any(String) as unknown,
        },
      ]);

      // The coordinator's timeline says whose each input is, and what was proposed.
      const details = await waitFor(
        async () => {
          const now = await timeline(s, cc, id);
          if (!now.some((d) => d.startsWith('proposed by reporter oblenergo-b')))
            throw new Error('no proposal yet');
          if (!now.some((d) => d.includes("impact's cascade"))) throw new Error('no cascade yet');
          return now;
        },
        { what: 'the proposal and the cascade on the timeline', timeoutMs: 30_000, intervalMs: 250 },
      );
      const triage = details.find((d) => d.startsWith('NCISS level'))!;
      expect(triage).toContain(
        `from reporter oblenergo-a (report ${reportA}): functional impact denial-critical`,
      );
      // Impact raised them before triage read the incident or while it ran: either way, as impact's.
      expect(details.find((d) => d.includes("impact's cascade"))).toMatch(
        /potential impact (none → )?very-high/,
      );
      expect(details.find((d) => d.startsWith('proposed by reporter oblenergo-b'))).toBe(
        `proposed by reporter oblenergo-b (report ${reportB.id}), not applied (only the source agency's reports and coordinators revise the severity): actor nation-state, recoverability not-recoverable`,
      );

      // A coordinator takes part of it: the timeline names the coordinator for what moved.
      await waitFor(
        async () => {
          const { status } = await rest(s, 'POST', `/v1/responses/${id}:changeSeverity`, cc, {
            severityInputs: { ...raised.severityInputs, actor: 'nation-state' },
          });
          if (status !== 200) throw new Error(`ChangeSeverity answered ${status}`);
        },
        { what: 'the response out of triage', timeoutMs: 30_000, intervalMs: 250 },
      );
      const changed = await incident(s, cc, id);
      expect(changed.severityOrigins?.['actor']).toMatchObject({
        source: 'SEVERITY_INPUT_SOURCE_COORDINATOR',
      });
      expect(await timeline(s, cc, id)).toContain(
        'changed by a coordinator: actor unknown → nation-state (a coordinator)',
      );
    } finally {
      await s.stop();
    }
  });
});
