import { SECTORS, TLP_LEVELS } from '@beacon/domain';
import { describe, expect, it } from 'vitest';
import { AssetGraph, cascade, dependencyKey, dependencyProblems, type Dependency } from '@beacon/impact';
import { ASSET_TYPES, generateRegion, streamRegion } from './index.js';

const region = generateRegion({ seed: 7, assets: 3_000 });
const typeOf = (id: string) => id.slice(0, id.indexOf('-'));

describe('generateRegion', () => {
  it('replays the same region from the same seed, and another from another seed', () => {
    expect(generateRegion({ seed: 7, assets: 3_000 })).toEqual(region);
    const other = generateRegion({ seed: 8, assets: 3_000 });
    expect(other.assets.map((a) => a.location)).not.toEqual(region.assets.map((a) => a.location));
    expect(other.dependencies).not.toEqual(region.dependencies);
  });

  it('streams exactly what it generates, every asset before any dependency', () => {
    const order: string[] = [];
    const counts = streamRegion(
      { seed: 7, assets: 3_000 },
      { asset: () => void order.push('a'), dependency: () => void order.push('d') },
    );
    expect(counts).toEqual({ assets: region.assets.length, dependencies: region.dependencies.length });
    expect(order.join('')).toBe('a'.repeat(3_000) + 'd'.repeat(region.dependencies.length));
  });

  it('makes the assets asked for, with about five dependencies each', () => {
    expect(region.assets).toHaveLength(3_000);
    expect(new Set(region.assets.map((a) => a.id)).size).toBe(3_000);
    const perAsset = region.dependencies.length / region.assets.length;
    expect(perAsset).toBeGreaterThan(4.5);
    expect(perAsset).toBeLessThan(5.5);
    expect(generateRegion({ seed: 1, assets: 0 })).toEqual({ assets: [], dependencies: [] });
  });

  it('makes only valid dependencies between known assets: no self-loops, no duplicates', () => {
    const ids = new Set(region.assets.map((a) => a.id));
    const keys = new Set(region.dependencies.map(dependencyKey));
    expect(keys.size).toBe(region.dependencies.length);
    expect(region.dependencies.filter((d) => dependencyProblems(d).length > 0)).toEqual([]);
    expect(region.dependencies.filter((d) => !ids.has(d.dependentId) || !ids.has(d.providerId))).toEqual([]);
    expect(region.dependencies.filter((d) => d.dependentId === d.providerId)).toEqual([]);
  });

  it('fills every registry field within its rules', () => {
    const sectors = new Set<string>(SECTORS);
    // One check per asset, one assertion for all: thousands of matcher calls took seconds on a
    // loaded machine.
    const broken = region.assets.filter(
      (asset) =>
        !sectors.has(asset.sector) ||
        !/^[a-z0-9][a-z0-9-]{0,62}$/.test(asset.operatorId) ||
        !/^DE-[A-Z]{2}$/.test(asset.jurisdiction) ||
        !(asset.criticality >= 1 && asset.criticality <= 5) ||
        !TLP_LEVELS.includes(asset.tlp) ||
        asset.tlp === 'RED' ||
        !(Number.isInteger(asset.populationServed) && asset.populationServed > 0) ||
        asset.services.length === 0 ||
        asset.name.length === 0 ||
        // Bavaria and the border towns of its neighbours.
        !asset.location ||
        !(asset.location.lat > 46.5 && asset.location.lat < 51.5) ||
        !(asset.location.lon > 8 && asset.location.lon < 15),
    );
    expect(broken).toEqual([]);
    expect(region.assets.length).toBeGreaterThan(0);
    const inBavaria = region.assets.filter((a) => a.jurisdiction === 'DE-BY').length;
    expect(inBavaria / region.assets.length).toBeGreaterThan(0.7);
    expect(new Set(region.assets.map((a) => a.jurisdiction)).size).toBeGreaterThan(1);
  });

  it('makes every kind of asset in roughly its share', () => {
    const counts = new Map<string, number>();
    for (const asset of region.assets) counts.set(typeOf(asset.id), (counts.get(typeOf(asset.id)) ?? 0) + 1);
    for (const type of ASSET_TYPES) {
      const expected = (type.perMille / 1_000) * region.assets.length;
      expect(counts.get(type.code) ?? 0, type.code).toBeGreaterThan(expected * 0.5);
      expect(counts.get(type.code) ?? 0, type.code).toBeLessThan(expected * 1.6 + 3);
    }
  });

  it('honours the jurisdiction and the number of operators', () => {
    const berlin = generateRegion({ seed: 3, assets: 500, jurisdiction: 'DE-BE', operators: 20 });
    const jurisdictions = new Set(berlin.assets.map((a) => a.jurisdiction));
    expect(jurisdictions.has('DE-BE')).toBe(true);
    expect([...jurisdictions].every((j) => j === 'DE-BE' || j === 'DE-BB')).toBe(true);
    expect(new Set(berlin.assets.map((a) => a.operatorId)).size).toBeLessThanOrEqual(20);
    expect(() => generateRegion({ seed: 1, assets: 10, jurisdiction: 'XX-YY' })).toThrow(RangeError);
    expect(() => generateRegion({ seed: 1.5, assets: 10 })).toThrow(RangeError);
    expect(() => generateRegion({ seed: 1, assets: 10, operators: 2 })).toThrow(RangeError);
  });

  it('powers every hospital from substations, behind generators of 24 to 72 hours', () => {
    const hospitals = region.assets.filter((a) => typeOf(a.id) === 'hosp');
    expect(hospitals.length).toBeGreaterThan(10);
    for (const hospital of hospitals) {
      const power = region.dependencies.filter((d) => d.dependentId === hospital.id && d.kind === 'power');
      expect(power.length).toBeGreaterThan(0);
      for (const d of power) {
        expect(typeOf(d.providerId)).toBe('sub');
        expect(d.backupHours).toBeGreaterThanOrEqual(24);
        expect(d.backupHours).toBeLessThanOrEqual(72);
      }
    }
  });

  it('closes cycles: a substation needs the exchange whose power it supplies', () => {
    const powers = new Set(
      region.dependencies.filter((d) => d.kind === 'power').map((d) => `${d.providerId}>${d.dependentId}`),
    );
    const cycles = region.dependencies.filter(
      (d) =>
        d.kind === 'communications' &&
        typeOf(d.dependentId) === 'sub' &&
        powers.has(`${d.dependentId}>${d.providerId}`),
    );
    expect(cycles.length).toBeGreaterThan(0);
  });

  it('lets a failed substation reach a hospital only once its backup has run out', () => {
    const graph = new AssetGraph();
    for (const asset of region.assets) graph.putAsset(asset);
    for (const d of region.dependencies) graph.putDependency(d);
    const view = graph.view();
    const needs = new Map<string, Dependency[]>();
    for (const d of region.dependencies) needs.set(d.dependentId, [...(needs.get(d.dependentId) ?? []), d]);

    // Hospitals whose power feed matters more than anything else they need, so that the loss
    // they reach is the one that feed delivers.
    const cases = region.assets
      .filter((a) => typeOf(a.id) === 'hosp')
      .flatMap((hospital) => {
        const own = needs.get(hospital.id) ?? [];
        const feed = own.find((d) => d.kind === 'power');
        const others = own.filter((d) => d.kind !== 'power');
        return feed && others.every((d) => d.degradation < feed.degradation) ? [{ hospital, feed }] : [];
      });
    expect(cases.length).toBeGreaterThan(0);

    for (const { hospital, feed } of cases) {
      const node = graph.nodeOf(hospital.id)!;
      const result = cascade(view, [{ node: graph.nodeOf(feed.providerId)!, loss: 1 }]);
      const outOfBackup = feed.backupHours + feed.timeToImpactHours;
      expect(result.firstImpactHours(node)).toBeGreaterThan(0);
      expect(result.lossAt(node, outOfBackup - 0.5)).toBeLessThan(feed.degradation);
      expect(result.lossAt(node, outOfBackup)).toBeCloseTo(feed.degradation, 6);
      expect(result.criticalPath(node).map((hop) => [graph.idOf(hop.node), hop.hours, hop.via])).toEqual([
        [feed.providerId, 0, undefined],
        [hospital.id, outOfBackup, 'power'],
      ]);
    }
  });
});
