import { describe, expect, it, vi } from 'vitest';
import type { Caller } from '../domain/access.js';
import type { Asset, Dependency } from '../domain/model.js';
import { ImpactService, type ImportRow } from './impact-service.js';
import type { Assessment, AssessmentStore, RegistryStore, SeverityFeed, StoredAsset } from './ports.js';

/** Registry and assessments kept in maps: enough for the use cases' own logic. */
function fakes() {
  const assets = new Map<string, StoredAsset>();
  const dependencies = new Map<string, Dependency>();
  const assessments = new Map<string, Assessment & { handled: string[] }>();
  let revision = 0;
  /** `hold`: loads read the registry at once, then wait for it before handing it over. */
  const counts: { loads: number; hold?: Promise<void> } = { loads: 0 };
  const registry: RegistryStore = {
    load: async (onAsset, onDependency) => {
      counts.loads += 1;
      const [read, readDependencies] = [[...assets.values()], [...dependencies.values()]];
      await counts.hold;
      for (const a of read) onAsset(a);
      for (const d of readDependencies) onDependency(d);
    },
    revision: async () => revision,
    changed: async () => ++revision,
    getAsset: async (id) => assets.get(id),
    putAsset: async (asset, _v, now) => {
      const stored = { ...asset, version: (assets.get(asset.id)?.version ?? 0) + 1, updatedAt: now };
      assets.set(asset.id, stored);
      return stored;
    },
    putAssets: async (list, now) => {
      for (const a of list) assets.set(a.id, { ...a, version: 1, updatedAt: now });
    },
    deleteAsset: async (id) => assets.delete(id),
    listAssets: async () => ({ items: [...assets.values()], next: undefined }),
    dependenciesOf: async (id) => [...dependencies.values()].filter((d) => d.dependentId === id),
    putDependencies: async (list) => {
      for (const d of list) dependencies.set(`${d.dependentId}|${d.providerId}|${d.kind}`, d);
    },
    deleteDependency: async (d) => dependencies.delete(`${d.dependentId}|${d.providerId}|${d.kind}`),
    deleteDependenciesOf: async (_id, asProvider) => asProvider.length,
    dependencyPage: async () => ({ items: [], next: undefined }),
  };
  const store: AssessmentStore = {
    get: async (id) => assessments.get(id),
    handled: async (id, eventId) => assessments.get(id)?.handled.includes(eventId) ?? false,
    save: async (candidate, cause) => {
      const existing = assessments.get(candidate.id);
      const handled = [...(existing?.handled ?? []), ...(cause ? [cause] : [])];
      if (existing?.digest === candidate.digest) {
        existing.handled = handled;
        return { assessment: existing, changed: false };
      }
      const saved = { ...candidate, revision: (existing?.revision ?? 0) + 1, handled };
      assessments.set(candidate.id, saved);
      return { assessment: saved, changed: true };
    },
    incidentPage: async () => ({
      items: [...assessments.values()]
        .filter((a) => a.incidentId !== '')
        .map((a) => ({
          id: a.incidentId,
          tlp: a.incidentTlp,
          sectors: a.incidentSectors,
          affectedAssets: a.affectedAssets,
        })),
      next: undefined,
    }),
  };
  return { registry, store, assessments, counts };
}

const asset = (id: string, operatorId: string, populationServed = 1000): Asset => ({
  id,
  name: id,
  operatorId,
  sector: 'energy',
  jurisdiction: 'DE-BY',
  location: { lat: 48, lon: 11 },
  populationServed,
  criticality: 3,
  services: [],
  tlp: 'GREEN',
});
const dep = (dependentId: string, providerId: string): Dependency => ({
  dependentId,
  providerId,
  kind: 'power',
  timeToImpactHours: 1,
  degradation: 1,
  backupHours: 0,
});
const coordinator: Caller = { subject: 'cc', roles: ['coordinator'], agencyId: undefined, clearance: 'RED' };
const admin = (agencyId: string): Caller => ({
  subject: agencyId,
  roles: ['agency_admin'],
  agencyId,
  clearance: 'AMBER',
});

function service(severity?: SeverityFeed) {
  const f = fakes();
  let n = 0;
  const s = new ImpactService({
    registry: f.registry,
    assessments: f.store,
    ...(severity ? { severity } : {}),
    clock: { now: () => new Date('2026-11-28T12:00:00Z') },
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    digest: (text) => text,
  });
  return { s, ...f };
}

/** Two replicas over one registry, at the time `now` gives. */
async function replicas(now: () => number, registryCheckMs?: number) {
  const shared = fakes();
  const replica = () =>
    new ImpactService({
      registry: shared.registry,
      assessments: shared.store,
      clock: { now: () => new Date(now()) },
      uuid: () => 'u',
      digest: (text) => text,
      ...(registryCheckMs === undefined ? {} : { registryCheckMs }),
    });
  const [a, b] = [replica(), replica()];
  await Promise.all([a.init(), b.init()]);
  return { shared, a, b };
}

describe('ImpactService', () => {
  it('raises the severity again on a redelivery when the first attempt failed', async () => {
    const raised: string[] = [];
    let fail = true;
    const { s } = service({
      raise: async (incidentId, inputs) => {
        if (fail) throw new Error('intake away');
        raised.push(`${incidentId}:${inputs.potentialImpact}`);
      },
    });
    await s.importRows(
      coordinator,
      [
        { asset: asset('grid', 'op', 50_000) },
        { asset: asset('water', 'op', 20_000) },
        { dependency: dep('water', 'grid') },
      ],
      1,
    );
    const incident = {
      id: 'inc_1',
      tlp: 'AMBER' as const,
      sectors: ['energy'],
      affectedAssets: [{ assetId: 'grid', loss: 1 }],
    };
    await expect(s.onIncident('evt-1', incident)).rejects.toThrow('intake away');
    fail = false;
    await expect(s.onIncident('evt-1', incident)).resolves.toBe('skipped');
    expect(raised).toEqual(['inc_1:high']);
    // a later event with the same facts stores nothing new and asks intake nothing
    await expect(s.onIncident('evt-2', incident)).resolves.toBe('unchanged');
    expect(raised).toEqual(['inc_1:high']);
  });

  it('lets an operator import only its own assets and dependencies among them; another operator’s asset reads as a missing one', async () => {
    const { s } = service();
    await s.importRows(coordinator, [{ asset: asset('grid', 'op-grid') }], 1);
    const rows: ImportRow[] = [
      { asset: asset('bank', 'op-bank') },
      { asset: asset('vault', 'op-other') },
      { asset: asset('grid', 'op-bank') },
      { dependency: dep('bank', 'grid') },
      { dependency: dep('grid', 'bank') },
      { dependency: dep('bank', 'nowhere') },
      { asset: { ...asset('bank-red', 'op-bank'), tlp: 'RED' } },
    ];
    const result = await s.importRows(admin('op-bank'), rows, 10);
    expect(result.assets).toBe(1);
    expect(result.dependencies).toBe(0);
    expect(result.errors.map((e) => [e.row, e.field, e.message])).toEqual([
      [11, 'asset.operatorId', 'you may not manage this operator’s assets'],
      // the id is taken: that is all the operator learns, not by whom
      [12, 'asset.id', 'is already taken'],
      [16, 'asset.tlp', 'is above your clearance'],
      // the grid exists, but to op-bank it is what a missing asset is
      [13, 'dependency.providerId', 'unknown asset grid'],
      [14, 'dependency.dependentId', 'unknown asset grid'],
      [15, 'dependency.providerId', 'unknown asset nowhere'],
    ]);
    expect(s.graph.operatorOf(s.graph.nodeOf('grid')!)).toBe('op-grid');
    // the coordination centre declares the dependency across operators
    const { dependencies } = await s.importRows(coordinator, [{ dependency: dep('bank', 'grid') }], 1);
    expect(dependencies).toBe(1);
  });

  it('assesses only for the coordination centre and names assets it does not know', async () => {
    const { s } = service();
    await s.importRows(coordinator, [{ asset: asset('grid', 'op') }], 1);
    await expect(
      s.assess(admin('op'), { affectedAssets: [{ assetId: 'grid', loss: 1 }] }),
    ).rejects.toMatchObject({
      kind: 'permission-denied',
    });
    const a = await s.assess(coordinator, {
      affectedAssets: [
        { assetId: 'grid', loss: 1 },
        { assetId: 'ghost', loss: 1 },
      ],
    });
    expect(a.unknownAssetIds).toEqual(['ghost']);
    expect(a.id).toMatch(/^whatif-/);
    await expect(s.assess(coordinator, { incidentId: 'inc_9', affectedAssets: [] })).rejects.toMatchObject({
      kind: 'failed-precondition',
    });
  });

  it("sees another replica's registry changes once its check period has passed, and rebuilds only for them", async () => {
    let now = Date.parse('2026-11-28T12:00:00Z');
    const { shared, a, b } = await replicas(() => now, 1_000);
    const whatIf = (s: ImpactService) =>
      s.assess(coordinator, { affectedAssets: [{ assetId: 'grid', loss: 1 }] });

    await a.importRows(
      coordinator,
      [{ asset: asset('grid', 'op') }, { asset: asset('water', 'op') }, { dependency: dep('water', 'grid') }],
      1,
    );
    expect((await whatIf(a)).impactedAssets).toBe(2);
    // Within its check period B may answer from the graph it has (documented staleness) ...
    expect((await whatIf(b)).unknownAssetIds).toEqual(['grid']);
    // ... and after it, B has A's change.
    now += 1_000;
    const seen = await whatIf(b);
    expect(seen.unknownAssetIds).toEqual([]);
    expect(seen.impactedAssets).toBe(2);

    // A removal on B reaches A the same way.
    await b.deleteAsset(coordinator, 'water');
    now += 1_000;
    expect((await whatIf(a)).impactedAssets).toBe(1);

    // A replica's own change is in its graph already: no rebuild for it.
    const loads = shared.counts.loads;
    await a.putAsset(coordinator, asset('hospital', 'op'), 0);
    await a.putDependency(coordinator, dep('hospital', 'grid'));
    now += 1_000;
    expect((await whatIf(a)).impactedAssets).toBe(2);
    expect(shared.counts.loads).toBe(loads);

    // A replica that stored a change and died before raising the revision: the others find
    // it when they rebuild in the background, at the latest ten minutes on.
    expect((await whatIf(b)).impactedAssets).toBe(2);
    await shared.registry.putDependencies([dep('water-2', 'grid')]);
    await shared.registry.putAsset(asset('water-2', 'op'), 0, new Date(now));
    now += 60_000;
    expect((await whatIf(b)).impactedAssets).toBe(2);
    now += 9 * 60_000;
    await vi.waitFor(async () => expect((await whatIf(b)).impactedAssets).toBe(3));
  });

  it('keeps a change made here while a rebuild was reading the registry', async () => {
    const { shared, a, b } = await replicas(() => Date.parse('2026-11-28T12:00:00Z'));
    await b.putAsset(coordinator, asset('grid', 'op'), 0);
    // A's next use rebuilds (B changed the registry); the rebuild reads the registry, then
    // stalls while A stores an asset of its own.
    let release!: () => void;
    shared.counts.hold = new Promise((resolve) => (release = resolve));
    const assessing = a.assess(coordinator, { affectedAssets: [{ assetId: 'grid', loss: 1 }] });
    await vi.waitFor(() => expect(shared.counts.loads).toBeGreaterThan(2));
    await a.putAsset(coordinator, asset('water', 'op'), 0);
    release();
    await assessing;
    expect(a.graph.nodeOf('grid')).toBeDefined();
    expect(a.graph.nodeOf('water')).toBeDefined();
    await a.putDependency(coordinator, dep('water', 'grid'));
  });

  it('does not answer from a check that read the revision before the call began', async () => {
    const { shared, a, b } = await replicas(() => Date.parse('2026-11-28T12:00:00Z'));
    await b.putAsset(coordinator, asset('grid', 'op'), 0);
    let release!: () => void;
    shared.counts.hold = new Promise((resolve) => (release = resolve));
    const first = a.assess(coordinator, { affectedAssets: [{ assetId: 'grid', loss: 1 }] });
    await vi.waitFor(() => expect(shared.counts.loads).toBeGreaterThan(2));
    // B's change is acknowledged while A's rebuild (from before it) is still reading.
    await b.putAsset(coordinator, asset('water', 'op'), 0);
    const second = a.assess(coordinator, { affectedAssets: [{ assetId: 'water', loss: 1 }] });
    release();
    expect((await first).unknownAssetIds).toEqual([]);
    expect((await second).unknownAssetIds).toEqual([]);
  });
});
