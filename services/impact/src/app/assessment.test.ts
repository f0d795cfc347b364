import { describe, expect, it } from 'vitest';
import type { Tlp } from '@beacon/domain';
import { AssetGraph } from '../domain/graph.js';
import type { Asset } from '../domain/model.js';
import { assessmentFor, computeAssessment } from './assessment.js';

const asset = (id: string, operatorId: string, tlp: Tlp, populationServed = 1000): Asset => ({
  id,
  name: id,
  operatorId,
  sector: 'energy',
  jurisdiction: 'DE-BY',
  location: { lat: 48, lon: 11 },
  populationServed,
  criticality: 3,
  services: [],
  tlp,
});

/** The grid (GREEN) runs an AMBER control centre, which a GREEN water works needs. */
function region() {
  const graph = new AssetGraph();
  graph.putAsset(asset('grid', 'op-grid', 'GREEN', 100));
  graph.putAsset(asset('scada', 'op-grid', 'AMBER', 10));
  graph.putAsset(asset('water', 'op-water', 'GREEN', 1000));
  const power = { kind: 'power' as const, timeToImpactHours: 1, degradation: 1, backupHours: 0 };
  graph.putDependency({ dependentId: 'scada', providerId: 'grid', ...power });
  graph.putDependency({ dependentId: 'water', providerId: 'scada', ...power });
  return graph;
}

const made = { id: 'whatif-1', assessedAt: new Date('2026-12-01T00:00:00Z'), digest: (t: string) => t };
const assess = (graph: AssetGraph, incidentTlp: Tlp = 'CLEAR') =>
  computeAssessment(
    graph,
    { id: 'inc_1', tlp: incidentTlp, sectors: [], affectedAssets: [{ assetId: 'grid', loss: 1 }] },
    168,
    made,
  );

describe('an assessment read within a clearance', () => {
  it('carries the most restrictive label of every asset it measures, and shows the whole of it to a reader cleared for that', () => {
    const whole = assess(region());
    expect(whole.tlp).toBe('AMBER');
    const amber = assessmentFor({ clearance: 'AMBER' }, { ...whole, revision: 1 })!;
    expect(amber).toMatchObject({ withheldAssets: 0, impactedAssets: 3, populationAffected: 1110 });
    expect(amber).not.toHaveProperty('views');
  });

  it('leaves an asset above the reader’s clearance out of every list, chain and figure, and says how many it left out', () => {
    const green = assessmentFor({ clearance: 'GREEN' }, { ...assess(region()), revision: 1 })!;
    expect(green).toMatchObject({
      tlp: 'GREEN',
      withheldAssets: 1,
      impactedAssets: 2,
      populationAffected: 1100,
    });
    expect(green.topImpacts.map((i) => i.assetId)).toEqual(['water', 'grid']);
    // the water works' chain runs through the control centre: the hop is skipped
    expect(green.topImpacts[0]!.criticalPath.map((h) => h.assetId)).toEqual(['grid', 'water']);
    expect(green.byOperator).toEqual([
      { key: 'op-water', assets: 1, population: 1000 },
      { key: 'op-grid', assets: 1, population: 100 },
    ]);
    expect(green.populationOverTime.at(-1)?.population).toBe(1100);
    // (the digest, a fingerprint of the whole, never leaves the service)
    const { digest: _digest, ...shown } = green;
    expect(JSON.stringify(shown)).not.toContain('scada');
  });

  it('is not read at all below the incident’s own label', () => {
    const whole = { ...assess(region(), 'AMBER'), revision: 1 };
    expect(assessmentFor({ clearance: 'GREEN' }, whole)).toBeUndefined();
    expect(assessmentFor({ clearance: 'AMBER' }, whole)).toMatchObject({ withheldAssets: 0 });
  });

  it('treats an asset its requester may not see as unknown, exactly as a missing one', () => {
    const graph = region();
    const scada = graph.nodeOf('scada')!;
    const a = computeAssessment(
      graph,
      {
        id: '',
        tlp: 'CLEAR',
        sectors: [],
        affectedAssets: [
          { assetId: 'scada', loss: 1 },
          { assetId: 'ghost', loss: 1 },
        ],
      },
      168,
      { ...made, mayName: (node) => node !== scada },
    );
    expect(a).toMatchObject({ unknownAssetIds: ['scada', 'ghost'], impactedAssets: 0, tlp: 'CLEAR' });
  });
});
