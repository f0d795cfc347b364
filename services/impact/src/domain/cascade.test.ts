import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cascade, type InitialDamage } from './cascade.js';
import { AssetGraph } from './graph.js';
import type { Dependency, DependencyKind } from './model.js';
import { ncissFromImpact, summarise } from './summary.js';

type Edge = [
  dependent: string,
  provider: string,
  hours: number,
  degradation?: number,
  backup?: number,
  kind?: DependencyKind,
];

function graphOf(ids: readonly string[], edges: readonly Edge[], population = 1000): AssetGraph {
  const graph = new AssetGraph();
  for (const id of ids) {
    graph.putAsset({
      id,
      sector: 'energy',
      jurisdiction: 'DE-BY',
      operatorId: 'op',
      populationServed: population,
    });
  }
  for (const [
    dependentId,
    providerId,
    timeToImpactHours,
    degradation = 1,
    backupHours = 0,
    kind = 'power',
  ] of edges) {
    graph.putDependency({ dependentId, providerId, kind, timeToImpactHours, degradation, backupHours });
  }
  return graph;
}

function run(graph: AssetGraph, hit: Record<string, number>, horizonHours = 168) {
  const initial = Object.entries(hit).map(([id, loss]) => ({ node: graph.nodeOf(id)!, loss }));
  return cascade(graph.view(), initial, { horizonHours });
}

/** Each impacted asset's loss steps by id: the whole answer, independent of node numbering. */
function answer(graph: AssetGraph, result: ReturnType<typeof run>) {
  const out: Record<string, { hours: number; loss: number }[]> = {};
  for (const node of result.impactedNodes()) out[graph.idOf(node)] = result.steps(node);
  return out;
}

describe('cascade on graphs checked by hand', () => {
  it('walks a chain, adding each time-to-impact', () => {
    // hospital needs water (6 h of tanks), water needs power (2 h)
    const g = graphOf(
      ['grid', 'water', 'hospital'],
      [
        ['water', 'grid', 2],
        ['hospital', 'water', 6],
      ],
    );
    const r = run(g, { grid: 1 });
    expect(answer(g, r)).toEqual({
      grid: [{ hours: 0, loss: 1 }],
      water: [{ hours: 2, loss: 1 }],
      hospital: [{ hours: 8, loss: 1 }],
    });
    expect(r.criticalPath(g.nodeOf('hospital')!).map((h) => [g.idOf(h.node), h.hours, h.via])).toEqual([
      ['grid', 0, undefined],
      ['water', 2, 'power'],
      ['hospital', 8, 'power'],
    ]);
  });

  it('takes the earliest of two ways round a diamond, and the worse loss when it comes later', () => {
    // d depends on b (fast, half loss) and c (slow, full loss); both depend on a
    const g = graphOf(
      ['a', 'b', 'c', 'd'],
      [
        ['b', 'a', 1],
        ['c', 'a', 1],
        ['d', 'b', 1, 0.5],
        ['d', 'c', 10],
      ],
    );
    const r = run(g, { a: 1 });
    const d = g.nodeOf('d')!;
    expect(r.steps(d)).toEqual([
      { hours: 2, loss: 0.5 },
      { hours: 11, loss: 1 },
    ]);
    expect(r.firstImpactHours(d)).toBe(2);
    expect(r.maxLoss(d)).toBe(1);
    expect(r.lossAt(d, 5)).toBe(0.5);
    expect(r.criticalPath(d).map((h) => g.idOf(h.node))).toEqual(['a', 'c', 'd']);
  });

  it('ends on a cycle instead of going round it', () => {
    // substation control needs telecoms, telecoms need the substation's power
    const g = graphOf(
      ['substation', 'telecom', 'bank'],
      [
        ['telecom', 'substation', 4, 1, 0, 'power'],
        ['substation', 'telecom', 1, 0.5, 0, 'communications'],
        ['bank', 'telecom', 0, 1, 0, 'communications'],
      ],
    );
    const r = run(g, { telecom: 0.4 });
    expect(answer(g, r)).toEqual({
      telecom: [
        { hours: 0, loss: 0.4 },
        // substation: 0.4 × 0.5 = 0.2 at hour 1, back to telecom at hour 5: 0.2 < 0.4, no change
      ],
      bank: [{ hours: 0, loss: 0.4 }],
      substation: [{ hours: 1, loss: 0.2 }],
    });
  });

  it('starts the clock only when a backup runs out', () => {
    // generators for 72 h, then the hospital is down 1 h later
    const g = graphOf(['grid', 'hospital'], [['hospital', 'grid', 1, 1, 72]]);
    const r = run(g, { grid: 1 });
    expect(r.firstImpactHours(g.nodeOf('hospital')!)).toBe(73);
    expect(run(g, { grid: 1 }, 72).firstImpactHours(g.nodeOf('hospital')!)).toBeUndefined();
  });

  it('passes on partial loss as a product of degradations, and stops below 1 %', () => {
    const g = graphOf(
      ['a', 'b', 'c', 'd'],
      [
        ['b', 'a', 1, 0.5],
        ['c', 'b', 1, 0.5],
        ['d', 'c', 1, 0.03],
      ],
    );
    const r = run(g, { a: 0.8 });
    expect(r.maxLoss(g.nodeOf('b')!)).toBeCloseTo(0.4);
    expect(r.maxLoss(g.nodeOf('c')!)).toBeCloseTo(0.2);
    // 0.2 × 0.03 = 0.006: noise
    expect(r.maxLoss(g.nodeOf('d')!)).toBe(0);
    expect(r.impactedCount).toBe(3);
  });

  it('stops at the horizon and skips removed assets and dependencies', () => {
    const g = graphOf(
      ['a', 'b', 'c', 'd'],
      [
        ['b', 'a', 100],
        ['c', 'b', 100],
        ['d', 'a', 1],
      ],
    );
    expect(answer(g, run(g, { a: 1 }))).toEqual({
      a: [{ hours: 0, loss: 1 }],
      d: [{ hours: 1, loss: 1 }],
      b: [{ hours: 100, loss: 1 }],
    });
    g.removeDependency({ dependentId: 'd', providerId: 'a', kind: 'power' });
    g.removeAsset('b');
    expect(answer(g, run(g, { a: 1 }))).toEqual({ a: [{ hours: 0, loss: 1 }] });
  });

  it('replaces a dependency put twice instead of keeping both', () => {
    const g = graphOf(['a', 'b'], [['b', 'a', 5]]);
    g.putDependency({
      dependentId: 'b',
      providerId: 'a',
      kind: 'power',
      timeToImpactHours: 9,
      degradation: 1,
      backupHours: 0,
    });
    expect(g.dependencyCount).toBe(1);
    expect(run(g, { a: 1 }).firstImpactHours(g.nodeOf('b')!)).toBe(9);
    g.compact();
    g.putDependency({
      dependentId: 'b',
      providerId: 'a',
      kind: 'power',
      timeToImpactHours: 3,
      degradation: 1,
      backupHours: 0,
    });
    expect([...g.dependencies()].map((d) => d.timeToImpactHours)).toEqual([3]);
  });
});

describe('edges of the arithmetic', () => {
  it('keeps inputs exact: a 1 % degradation still spreads at the 1 % threshold, and a 0.3 h delay fits a 0.3 h horizon', () => {
    const g = graphOf(
      ['a', 'b', 'c'],
      [
        ['b', 'a', 0, 0.01],
        ['c', 'a', 0.3],
      ],
    );
    const r = run(g, { a: 1 }, 0.3);
    expect(r.maxLoss(g.nodeOf('b')!)).toBe(0.01);
    expect(r.firstImpactHours(g.nodeOf('c')!)).toBe(0.3);
    expect([...g.dependencies()].map((d) => [d.degradation, d.timeToImpactHours])).toEqual([
      [0.01, 0],
      [1, 0.3],
    ]);
  });

  it('counts dependencies right after an asset goes', () => {
    const g = graphOf(['a', 'b'], [['b', 'a', 1]]);
    g.removeAsset('a');
    expect(g.dependencyCount).toBe(0);
    expect(g.assetCount).toBe(1);
  });

  it('picks the same critical path whichever of two equal dependencies was stored first', () => {
    const via = (kinds: DependencyKind[]) => {
      const g = graphOf(
        ['a', 'b'],
        kinds.map((kind): Edge => ['b', 'a', 2, 1, 0, kind]),
      );
      return run(g, { a: 1 }).criticalPath(g.nodeOf('b')!)[1]?.via;
    };
    expect(via(['power', 'water'])).toBe(via(['water', 'power']));
  });

  it('samples the horizon itself when it falls between two samples', () => {
    const g = graphOf(['a', 'b'], [['b', 'a', 168.5]], 1000);
    const s = summarise(g, run(g, { a: 1 }, 169));
    expect(s.populationAffected).toBe(2000);
    expect(s.populationOverTime.at(-1)).toEqual({ hours: 169, population: 2000 });
  });

  it('loads a registry in bulk to the same answer as one put at a time', () => {
    const edges: Edge[] = [
      ['b', 'a', 1],
      ['c', 'b', 2, 0.5],
      ['a', 'c', 1, 0.2],
    ];
    const bulk = graphOf(['a', 'b', 'c'], []);
    for (const [dependentId, providerId, timeToImpactHours, degradation = 1] of edges) {
      bulk.loadDependency({
        dependentId,
        providerId,
        kind: 'power',
        timeToImpactHours,
        degradation,
        backupHours: 0,
      });
    }
    const one = graphOf(['a', 'b', 'c'], edges);
    expect(answer(bulk, run(bulk, { a: 1 }))).toEqual(answer(one, run(one, { a: 1 })));
  });
});

describe('summaries', () => {
  it('counts people over time, by sector, and feeds NCISS', () => {
    const g = new AssetGraph();
    const put = (
      id: string,
      sector: 'energy' | 'water-and-wastewater' | 'healthcare-and-public-health',
      population: number,
    ) =>
      g.putAsset({ id, sector, jurisdiction: 'DE-BY', operatorId: `op-${id}`, populationServed: population });
    put('grid', 'energy', 50_000);
    put('water', 'water-and-wastewater', 40_000);
    put('hospital', 'healthcare-and-public-health', 10_000);
    const dep = (
      dependentId: string,
      providerId: string,
      timeToImpactHours: number,
      degradation: number,
    ): Dependency => ({
      dependentId,
      providerId,
      kind: 'power',
      timeToImpactHours,
      degradation,
      backupHours: 0,
    });
    g.putDependency(dep('water', 'grid', 2, 0.5));
    g.putDependency(dep('hospital', 'water', 3, 1));
    const result = cascade(g.view(), [{ node: g.nodeOf('grid')!, loss: 1 }], { horizonHours: 168 });
    const s = summarise(g, result);
    expect(s.impactedAssets).toBe(3);
    expect(s.populationAffected).toBe(50_000 + 20_000 + 5_000);
    expect(s.populationOverTime.slice(0, 6).map((p) => p.population)).toEqual([
      50_000, 50_000, 70_000, 70_000, 70_000, 75_000,
    ]);
    expect(s.populationOverTime).toHaveLength(169);
    expect(s.bySector.map((t) => [t.key, t.population])).toEqual([
      ['energy', 50_000],
      ['water-and-wastewater', 20_000],
      ['healthcare-and-public-health', 5_000],
    ]);
    expect(s.topImpacts[2]?.criticalPath.map((h) => h.assetId)).toEqual(['grid', 'water', 'hospital']);
    expect(ncissFromImpact(s, new Set(['energy']))).toEqual({
      crossSectorDependency: 'medium',
      potentialImpact: 'high',
    });
    expect(ncissFromImpact({ bySector: [], populationAffected: 0 }, new Set())).toEqual({
      crossSectorDependency: 'none',
      potentialImpact: 'none',
    });
  });
});

/** Random graphs of up to 12 assets, cycles included, with random initial damage. */
const arbitraryCase = fc
  .integer({ min: 2, max: 12 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.uniqueArray(
        fc.record({
          dependent: fc.integer({ min: 0, max: n - 1 }),
          provider: fc.integer({ min: 0, max: n - 1 }),
          hours: fc.integer({ min: 0, max: 60 }),
          backup: fc.constantFrom(0, 0, 4, 72),
          degradation: fc.constantFrom(0.1, 0.25, 0.5, 0.9, 1),
        }),
        { maxLength: 40, selector: (e) => `${e.dependent}-${e.provider}` },
      ),
      hits: fc.uniqueArray(
        fc.record({
          node: fc.integer({ min: 0, max: n - 1 }),
          loss: fc.double({ min: 0.02, max: 1, noNaN: true }),
        }),
        { minLength: 1, maxLength: 4, selector: (h) => h.node },
      ),
    }),
  )
  .map((c) => ({ ...c, edges: c.edges.filter((e) => e.dependent !== e.provider) }));

type Case = typeof arbitraryCase extends fc.Arbitrary<infer T> ? T : never;

/** The case's graph, its assets registered in `order` (which fixes their node numbers). */
function build(c: Case, order: (i: number) => number = (i) => i) {
  const g = new AssetGraph();
  for (let i = 0; i < c.n; i++) {
    g.putAsset({
      id: `asset-${order(i)}`,
      sector: 'energy',
      jurisdiction: 'DE',
      operatorId: 'op',
      populationServed: 1,
    });
  }
  for (const e of c.edges) {
    g.putDependency({
      dependentId: `asset-${e.dependent}`,
      providerId: `asset-${e.provider}`,
      kind: 'power',
      timeToImpactHours: e.hours,
      degradation: e.degradation,
      backupHours: e.backup,
    });
  }
  return g;
}

function assess(g: AssetGraph, hits: readonly { node: number; loss: number }[]) {
  const initial: InitialDamage[] = hits.map((h) => ({ node: g.nodeOf(`asset-${h.node}`)!, loss: h.loss }));
  return cascade(g.view(), initial, { horizonHours: 168 });
}

describe('cascade properties', () => {
  it('is monotone: more initial damage never means less or later impact', () => {
    fc.assert(
      fc.property(
        arbitraryCase,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 11 }),
        (c, boost, extra) => {
          const g = build(c);
          const base = assess(g, c.hits);
          const more = [
            ...c.hits.map((h) => ({ ...h, loss: Math.min(1, h.loss + boost * (1 - h.loss)) })),
            { node: extra % c.n, loss: 1 },
          ];
          const worse = assess(g, more);
          for (let i = 0; i < c.n; i++) {
            const node = g.nodeOf(`asset-${i}`)!;
            expect(worse.maxLoss(node)).toBeGreaterThanOrEqual(base.maxLoss(node));
            for (const { hours } of base.steps(node)) {
              expect(worse.lossAt(node, hours)).toBeGreaterThanOrEqual(base.lossAt(node, hours));
            }
            const before = base.firstImpactHours(node);
            if (before !== undefined) expect(worse.firstImpactHours(node)).toBeLessThanOrEqual(before);
          }
        },
      ),
    );
  });

  it('does not depend on the order assets, dependencies or initial damage are given in', () => {
    fc.assert(
      fc.property(arbitraryCase, fc.integer({ min: 1, max: 1000 }), (c, seed) => {
        const reversed = { ...c, edges: [...c.edges].reverse(), hits: [...c.hits].reverse() };
        const g1 = build(c);
        // a different node numbering: assets registered in a rotated order
        const g2 = build(reversed, (i) => (i + seed) % c.n);
        expect(answer(g2, assess(g2, reversed.hits))).toEqual(answer(g1, assess(g1, c.hits)));
      }),
    );
  });
});
