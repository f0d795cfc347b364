/**
 * The response follows the incident as impact learns more: a registry import after triage
 * moves the cascade, impact re-assesses the incident by itself, and the running response
 * engages the agencies of the places newly reached — and only of those places — and says why
 * on its timeline. On the Temporal dev server with the real services in this process.
 */
import { describe, expect } from 'vitest';
import { NCISS_HIGH, test, waitFor } from '@beacon/testkit';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

interface Status {
  engagements: { agencyId: string; reasons: string[] }[];
  regimes: { regime: string }[];
}

async function status(s: ResponseStack, token: string, incidentId: string): Promise<Status> {
  const { status: code, body } = await rest(s, 'GET', `/v1/responses/${incidentId}`, token);
  if (code !== 200) throw new Error(`GetResponse answered ${code}`);
  return body['status'] as Status;
}

async function timeline(s: ResponseStack, token: string, incidentId: string): Promise<string[]> {
  const { body } = await rest(s, 'GET', `/v1/responses/${incidentId}/timeline`, token);
  return (Object.values(body).find(Array.isArray) as { detail: string }[]).map((e) => e.detail);
}

async function putAsset(s: ResponseStack, token: string, id: string, sector: string, jurisdiction: string) {
  const put = await rest(s, 'POST', '/v1/assets', token, {
    asset: {
      id,
      name: id,
      operatorId: `op-${id}`,
      sector,
      jurisdiction,
      location: { lat: 50, lon: 10 },
      populationServed: 40_000,
      criticality: 4,
      tlp: 'TLP_GREEN',
    },
    expectedVersion: 0,
  });
  expect(put.status).toBe(200);
}

describe('a response that follows its incident', () => {
  test('engages the agencies of the places a later registry import brings into the cascade, and no others', async ({
    infra,
    names,
  }) => {
    const s = await startResponseStack(infra, names);
    try {
      const cc = await s.token(['coordinator']);
      const agencies = [
        ['cert-ua', 'AGENCY_KIND_CSIRT', ['UA'], []],
        ['cert-de', 'AGENCY_KIND_CSIRT', ['DE'], []],
        ['de-wind', 'AGENCY_KIND_OPERATOR', ['DE-NI'], ['energy']],
        ['ua-energy', 'AGENCY_KIND_OPERATOR', ['UA'], ['energy']],
        ['ua-energy-kyiv', 'AGENCY_KIND_OPERATOR', ['UA-30'], ['energy']],
      ] as const;
      for (const [id, kind, jurisdictions, sectors] of agencies) {
        const put = await rest(s, 'POST', '/v1/agencies', cc, {
          agency: {
            id,
            name: id,
            kind,
            jurisdictions,
            sectors,
            clearance: 'TLP_RED',
            contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
          },
        });
        expect(put.status).toBe(200);
      }
      // A satellite ground station; nothing registered depends on it yet.
      await putAsset(s, cc, 'ground-station', 'communications', 'UA');

      const opened = await rest(s, 'POST', '/v1/incidents', cc, {
        title: 'Wiper on a satellite network',
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'availability', rsitType: 'sabotage' },
        sectors: ['communications'],
        jurisdictions: ['UA'],
        severityInputs: NCISS_HIGH,
        affectedAssets: [{ assetId: 'ground-station', loss: 1 }],
        awareAt: new Date(Date.now() - 3_600_000).toISOString(),
      });
      expect(opened.status).toBe(201);
      const incidentId = (opened.body['incident'] as { id: string }).id;

      const triaged = await waitFor(
        async () => {
          const now = await status(s, cc, incidentId);
          if (!now.engagements.some((e) => e.agencyId === 'cert-ua')) throw new Error('not engaged yet');
          return now;
        },
        { what: 'the response after triage', timeoutMs: 30_000, intervalMs: 250 },
      );
      // Reported in UA only: its CSIRT, and no EU regime.
      expect(triaged.engagements.map((e) => e.agencyId)).toEqual(['cert-ua']);
      expect(triaged.regimes ?? []).toEqual([]);

      // Later, the registry learns that wind farms in Lower Saxony are controlled over that
      // satellite link. Nobody re-assesses by hand.
      await putAsset(s, cc, 'wind-farm', 'energy', 'DE-NI');
      const dependency = await rest(s, 'POST', '/v1/dependencies', cc, {
        dependency: {
          dependentId: 'wind-farm',
          providerId: 'ground-station',
          kind: 'communications',
          timeToImpactHours: 1,
          degradation: 1,
        },
      });
      expect(dependency.status).toBe(200);

      const followed = await waitFor(
        async () => {
          const now = await status(s, cc, incidentId);
          if (!now.engagements.some((e) => e.agencyId === 'de-wind'))
            throw new Error('de-wind not engaged yet');
          // The regimes follow the engagements, a workflow task or two later.
          if (!now.regimes?.some((r) => r.regime === 'CER')) throw new Error('CER not applied yet');
          return now;
        },
        { what: 'the response following the re-assessment', timeoutMs: 45_000, intervalMs: 250 },
      );
      // The operator of the place reached, for that place, and the CSIRT of its country; never
      // the energy operators of UA, which the reports name for communications only.
      expect(followed.engagements.map((e) => e.agencyId).sort()).toEqual(['cert-de', 'cert-ua', 'de-wind']);
      expect(followed.engagements.find((e) => e.agencyId === 'cert-de')!.reasons).toEqual([
        'CSIRT for DE-NI (reached by the cascade)',
      ]);
      expect(followed.engagements.find((e) => e.agencyId === 'de-wind')!.reasons[0]).toMatch(
        /^operator in energy in DE-NI \(reached by the cascade\), NCISS level [3-5]$/,
      );
      const details = await timeline(s, cc, incidentId);
      expect(
        details.some((d) => d.startsWith('re-assessed:') && d.includes('newly reached: energy in DE-NI')),
      ).toBe(true);
      // Energy reached in a member state brings CER, as the timeline says.
      expect(details.some((d) => d.startsWith('CER applies:') && d.includes('CER sector(s) energy'))).toBe(
        true,
      );
    } finally {
      await s.stop();
    }
  });
});
