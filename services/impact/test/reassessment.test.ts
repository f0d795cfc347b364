import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import type { impactV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { asset, dependency, impactCaller, intakeCaller, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const row = (value: impactV1.Asset | impactV1.Dependency): impactV1.ImportRow =>
  'operatorId' in value ? { row: { $case: 'asset', value } } : { row: { $case: 'dependency', value } };
const places = (a: impactV1.Assessment | undefined) =>
  (a?.byPlace ?? []).map((p) => `${p.sector} in ${p.jurisdiction}`).sort();

describe('an incident assessed before the registry knew an asset', () => {
  test('is re-assessed when the registry changes, by the places its cascade reaches', async ({
    stack: t,
  }) => {
    const cc = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const impact = impactCaller(t.impactClient, cc);
    // A satellite ground station in Ukraine; nothing registered depends on it yet.
    await impact('importRegistry', {
      rows: [
        row(asset('ground-station', { operatorId: 'op-sat', sector: 'communications', jurisdiction: 'UA' })),
      ],
      firstRow: 1,
    });
    const { incident } = await intakeCaller(t.intakeClient, cc)('openIncident', {
      title: 'Wiper on a satellite network',
      tlp: 3,
      classification: { rsitClass: 'availability', rsitType: 'sabotage' },
      sectors: ['communications'],
      jurisdictions: ['UA', 'DE'],
      observables: [],
      // Already what the station's cascade implies (10,000 people: high), so the first
      // assessment raises nothing: no incident event comes back to re-assess it meanwhile.
      severityInputs: { ...NCISS_BASELINE, potentialImpact: 'high' },
      affectedAssets: [{ assetId: 'ground-station', loss: 1 }],
      awareAt: new Date(Date.now() - 3_600_000),
    });
    const assessmentId = `incident-${incident!.id}`;
    const first = await waitFor(async () => (await impact('getAssessment', { assessmentId })).assessment!, {
      what: 'the first assessment',
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(places(first)).toEqual(['communications in UA']);
    expect(first.revision).toBe(1);

    // The registry learns, in a burst of three imports, of wind farms in Lower Saxony whose
    // remote control runs over that satellite link, and of an unrelated substation.
    await Promise.all([
      impact('importRegistry', {
        rows: [
          row(
            asset('wind-farm', {
              operatorId: 'op-wind',
              sector: 'energy',
              jurisdiction: 'DE-NI',
              populationServed: 40_000,
            }),
          ),
          row(dependency('wind-farm', 'ground-station', { kind: 'communications', timeToImpactHours: 1 })),
        ],
        firstRow: 1,
      }),
      impact('importRegistry', {
        rows: [row(asset('substation', { operatorId: 'op-grid', sector: 'energy', jurisdiction: 'FR' }))],
        firstRow: 1,
      }),
      impact('importRegistry', {
        rows: [
          row(
            asset('wind-farm-2', {
              operatorId: 'op-wind',
              sector: 'energy',
              jurisdiction: 'DE-NI',
              populationServed: 5_000,
            }),
          ),
          row(dependency('wind-farm-2', 'ground-station', { kind: 'communications', timeToImpactHours: 2 })),
        ],
        firstRow: 1,
      }),
    ]);
    // Nobody asks, and no incident event comes: impact re-assesses the incident itself.
    const second = await waitFor(
      async () => {
        const { assessment } = await impact('getAssessment', { assessmentId });
        if (assessment!.byPlace.find((p) => p.sector === 'energy')?.assets !== 2) throw new Error('not yet');
        return assessment!;
      },
      { what: 'the re-assessment', timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(second.revision).toBe(2);
    expect(places(second)).toEqual(['communications in UA', 'energy in DE-NI']);
    expect(second.byPlace.find((p) => p.sector === 'energy')).toMatchObject({
      assets: 2,
      population: '45000',
    });
    // Never energy in UA, nor anything in FR: the places, not sectors times jurisdictions.
    expect(second.bySector.map((s) => s.key).sort()).toEqual(['communications', 'energy']);

    // The cascade reaching another sector raises the incident's severity inputs in intake.
    await waitFor(
      async () => {
        const { incident: now } = await intakeCaller(t.intakeClient, cc)('getIncident', {
          incidentId: incident!.id,
        });
        if (now?.severityInputs?.crossSectorDependency === NCISS_BASELINE.crossSectorDependency) {
          throw new Error('not raised yet');
        }
      },
      { what: 'raised severity inputs', timeoutMs: 15_000, intervalMs: 100 },
    );
  });
});
