import { SECTORS, TLP_LEVELS, type Sector, type Tlp } from '@beacon/domain';
import { DEPENDENCY_KINDS, type Dependency, type DependencyKind } from './model.js';

/**
 * The dependency graph in the compact form the cascade walks: compressed sparse rows of
 * "who depends on this provider", one typed array per attribute. Edits are buffered and folded
 * in by `compact()` (O(assets + dependencies)), which the next read triggers; the cascade then
 * touches no objects at all. About 17 bytes per dependency once compacted.
 */
export class AssetGraph {
  #ids: string[] = [];
  readonly #index = new Map<string, number>();
  #alive = new Uint8Array(16);
  #sector = new Uint8Array(16);
  #jurisdiction = new Uint32Array(16);
  #operator = new Uint32Array(16);
  #population = new Float64Array(16);
  #tlp = new Uint8Array(16);
  readonly #jurisdictions = new Interner();
  readonly #operators = new Interner();

  #csr: Csr = emptyCsr(0);
  /** CSR edges deleted or replaced since the last compaction. */
  readonly #removed = new Set<number>();
  readonly #pending = new EdgeBuffer();
  /** Pending edges superseded before compaction. */
  readonly #pendingRemoved = new Set<number>();
  /** Where each live pending edge sits in `#pending`, by `edgeKey`. */
  readonly #pendingAt = new Map<string, number>();

  get assetCount(): number {
    return this.#index.size;
  }

  /** Node slots, including those of removed assets (never reused until a rebuild). */
  get nodeCount(): number {
    return this.#ids.length;
  }

  get dependencyCount(): number {
    return (
      this.#csr.dependents.length - this.#removed.size + this.#pending.length - this.#pendingRemoved.size
    );
  }

  nodeOf(id: string): number | undefined {
    return this.#index.get(id);
  }

  idOf(node: number): string {
    const id = this.#ids[node];
    if (id === undefined) throw new RangeError(`no node ${node}`);
    return id;
  }

  sectorOf(node: number): Sector {
    return SECTORS[this.#sector[node] ?? 0] as Sector;
  }

  jurisdictionOf(node: number): string {
    return this.#jurisdictions.value(this.#jurisdiction[node] ?? 0);
  }

  operatorOf(node: number): string {
    return this.#operators.value(this.#operator[node] ?? 0);
  }

  populationOf(node: number): number {
    return this.#population[node] ?? 0;
  }

  tlpOf(node: number): Tlp {
    return TLP_LEVELS[this.#tlp[node] ?? 0] as Tlp;
  }

  /** Adds or updates the attributes the cascade summarises by; returns the asset's node. */
  putAsset(asset: {
    readonly id: string;
    readonly sector: Sector;
    readonly jurisdiction: string;
    readonly operatorId: string;
    readonly populationServed: number;
    readonly tlp?: Tlp;
  }): number {
    let node = this.#index.get(asset.id);
    if (node === undefined) {
      node = this.#ids.length;
      this.#ids.push(asset.id);
      this.#index.set(asset.id, node);
      this.#grow(node + 1);
    }
    this.#alive[node] = 1;
    this.#sector[node] = SECTORS.indexOf(asset.sector);
    this.#jurisdiction[node] = this.#jurisdictions.intern(asset.jurisdiction);
    this.#operator[node] = this.#operators.intern(asset.operatorId);
    this.#population[node] = asset.populationServed;
    this.#tlp[node] = TLP_LEVELS.indexOf(asset.tlp ?? 'CLEAR');
    return node;
  }

  /** Removes the asset and, at the next compaction, every dependency that names it. */
  removeAsset(id: string): boolean {
    const node = this.#index.get(id);
    if (node === undefined) return false;
    this.#index.delete(id);
    this.#alive[node] = 0;
    // Removing assets is rare; folding in at once keeps counts and rows exact.
    this.compact();
    return true;
  }

  /** Adds the dependency, or replaces the one with the same dependent, provider and kind. */
  putDependency(d: Dependency): void {
    const dependent = this.#requireNode(d.dependentId);
    const provider = this.#requireNode(d.providerId);
    const kind = DEPENDENCY_KINDS.indexOf(d.kind);
    this.#forget(dependent, provider, kind);
    this.#pendingAt.set(edgeKey(provider, dependent, kind), this.#pending.length);
    this.#pending.push(
      provider,
      dependent,
      toSeconds(d.timeToImpactHours),
      toSeconds(d.backupHours),
      d.degradation,
      kind,
    );
    this.#dirty = true;
    // Bounds the pending index: compaction is linear, so folding in at this size stays amortised O(1).
    if (this.#pending.length > Math.max(65_536, this.#csr.dependents.length)) this.compact();
  }

  /**
   * Adds a dependency without looking for one it replaces: the bulk path for loading a
   * registry whose keys are already unique (the store's `_id`). Skipping the lookup keeps a
   * load of millions of dependencies linear and free of per-edge garbage.
   */
  loadDependency(d: Dependency): void {
    const kind = DEPENDENCY_KINDS.indexOf(d.kind);
    this.#pending.push(
      this.#requireNode(d.providerId),
      this.#requireNode(d.dependentId),
      toSeconds(d.timeToImpactHours),
      toSeconds(d.backupHours),
      d.degradation,
      kind,
    );
    this.#dirty = true;
  }

  removeDependency(d: Pick<Dependency, 'dependentId' | 'providerId' | 'kind'>): boolean {
    const dependent = this.#index.get(d.dependentId);
    const provider = this.#index.get(d.providerId);
    if (dependent === undefined || provider === undefined) return false;
    const removed = this.#forget(dependent, provider, DEPENDENCY_KINDS.indexOf(d.kind));
    if (removed) this.#dirty = true;
    return removed;
  }

  #dirty = false;

  /** The compacted graph the cascade reads; folds in pending edits first. */
  view(): GraphView {
    if (this.#dirty) this.compact();
    return {
      nodeCount: this.#ids.length,
      alive: this.#alive,
      ...this.#csr,
    };
  }

  /** The dependencies on `providerId`: who needs it, for what. */
  dependentsOf(providerId: string): Dependency[] {
    const provider = this.#index.get(providerId);
    if (provider === undefined) return [];
    const g = this.view();
    const found: Dependency[] = [];
    for (let e = g.offsets[provider] ?? 0; e < (g.offsets[provider + 1] ?? 0); e++) {
      if (g.alive[g.dependents[e]!] === 1) found.push(edgeOf(this, g, provider, e));
    }
    return found;
  }

  /** Every dependency of the compacted graph, provider-major. */
  *dependencies(): Generator<Dependency> {
    const g = this.view();
    for (let provider = 0; provider < g.nodeCount; provider++) {
      for (let e = g.offsets[provider] ?? 0; e < (g.offsets[provider + 1] ?? 0); e++) {
        yield edgeOf(this, g, provider, e);
      }
    }
  }

  /** Rebuilds the rows: counting sort of surviving and pending edges by provider. */
  compact(): void {
    const n = this.#ids.length;
    const old = this.#csr;
    const alive = this.#alive;
    const counts = new Uint32Array(n + 1);
    const keepOld = (e: number, provider: number) =>
      !this.#removed.has(e) && alive[provider] === 1 && alive[old.dependents[e] ?? 0] === 1;
    const keepPending = (i: number) =>
      !this.#pendingRemoved.has(i) &&
      alive[this.#pending.provider[i] ?? 0] === 1 &&
      alive[this.#pending.dependent[i] ?? 0] === 1;

    for (let p = 0; p < old.offsets.length - 1; p++) {
      for (let e = old.offsets[p] ?? 0; e < (old.offsets[p + 1] ?? 0); e++)
        if (keepOld(e, p)) counts[p + 1]!++;
    }
    for (let i = 0; i < this.#pending.length; i++)
      if (keepPending(i)) counts[this.#pending.provider[i]! + 1]!++;
    for (let p = 0; p < n; p++) counts[p + 1]! += counts[p]!;

    const next = emptyCsr(counts[n]!);
    next.offsets = counts.slice();
    const cursor = counts;
    const place = (
      provider: number,
      dependent: number,
      ttl: number,
      backup: number,
      deg: number,
      kind: number,
    ) => {
      const at = cursor[provider]!++;
      next.dependents[at] = dependent;
      next.timeToImpact[at] = ttl;
      next.backup[at] = backup;
      next.degradation[at] = deg;
      next.kind[at] = kind;
    };
    for (let p = 0; p < old.offsets.length - 1; p++) {
      for (let e = old.offsets[p] ?? 0; e < (old.offsets[p + 1] ?? 0); e++) {
        if (keepOld(e, p)) {
          place(
            p,
            old.dependents[e]!,
            old.timeToImpact[e]!,
            old.backup[e]!,
            old.degradation[e]!,
            old.kind[e]!,
          );
        }
      }
    }
    const pending = this.#pending;
    for (let i = 0; i < pending.length; i++) {
      if (keepPending(i)) {
        place(
          pending.provider[i]!,
          pending.dependent[i]!,
          pending.ttl[i]!,
          pending.backup[i]!,
          pending.degradation[i]!,
          pending.kind[i]!,
        );
      }
    }
    this.#csr = next;
    this.#removed.clear();
    this.#pending.clear();
    this.#pendingRemoved.clear();
    this.#pendingAt.clear();
    this.#dirty = false;
  }

  /** Marks the existing edge (dependent needs provider for kind) as gone; true if there was one. */
  #forget(dependent: number, provider: number, kind: number): boolean {
    const csr = this.#csr;
    if (provider < csr.offsets.length - 1) {
      for (let e = csr.offsets[provider]!; e < csr.offsets[provider + 1]!; e++) {
        if (csr.dependents[e] === dependent && csr.kind[e] === kind && !this.#removed.has(e)) {
          this.#removed.add(e);
          return true;
        }
      }
    }
    const key = edgeKey(provider, dependent, kind);
    const at = this.#pendingAt.get(key);
    if (at === undefined) return false;
    this.#pendingAt.delete(key);
    this.#pendingRemoved.add(at);
    return true;
  }

  #requireNode(id: string): number {
    const node = this.#index.get(id);
    if (node === undefined) throw new RangeError(`unknown asset ${id}`);
    return node;
  }

  #grow(size: number): void {
    if (size <= this.#alive.length) return;
    const capacity = Math.max(size, this.#alive.length * 2);
    this.#alive = resized(this.#alive, capacity);
    this.#sector = resized(this.#sector, capacity);
    this.#jurisdiction = resized(this.#jurisdiction, capacity);
    this.#operator = resized(this.#operator, capacity);
    this.#population = resized(this.#population, capacity);
    this.#tlp = resized(this.#tlp, capacity);
  }
}

/** The compacted graph: node `p`'s dependents are `dependents[offsets[p] .. offsets[p+1])`. */
export interface GraphView extends Csr {
  readonly nodeCount: number;
  /** 1 for a live asset, 0 for a removed one. */
  readonly alive: Uint8Array;
}

interface Csr {
  offsets: Uint32Array;
  dependents: Uint32Array;
  /** Seconds. */
  timeToImpact: Uint32Array;
  /** Seconds. */
  backup: Uint32Array;
  degradation: Float64Array;
  kind: Uint8Array;
}

function emptyCsr(edges: number): Csr {
  return {
    offsets: new Uint32Array(1),
    dependents: new Uint32Array(edges),
    timeToImpact: new Uint32Array(edges),
    backup: new Uint32Array(edges),
    degradation: new Float64Array(edges),
    kind: new Uint8Array(edges),
  };
}

/** Hours to the whole seconds the rows store: inputs are kept to the second. */
export const toSeconds = (hours: number) => Math.round(hours * 3600);

/** The dependency stored at CSR edge `e` of `provider`. */
export function edgeOf(graph: AssetGraph, view: GraphView, provider: number, e: number): Dependency {
  return {
    dependentId: graph.idOf(view.dependents[e]!),
    providerId: graph.idOf(provider),
    kind: DEPENDENCY_KINDS[view.kind[e]!] as DependencyKind,
    timeToImpactHours: view.timeToImpact[e]! / 3600,
    backupHours: view.backup[e]! / 3600,
    degradation: view.degradation[e]!,
  };
}

const edgeKey = (provider: number, dependent: number, kind: number) => `${provider}:${dependent}:${kind}`;

type TypedArray = Uint8Array | Uint32Array | Int32Array | Float64Array;

function resized<T extends TypedArray>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  return next;
}

/** Small string tables: operators and jurisdictions repeat across thousands of assets. */
class Interner {
  readonly #values: string[] = [];
  readonly #codes = new Map<string, number>();
  intern(value: string): number {
    let code = this.#codes.get(value);
    if (code === undefined) {
      code = this.#values.length;
      this.#values.push(value);
      this.#codes.set(value, code);
    }
    return code;
  }
  value(code: number): string {
    return this.#values[code] ?? '';
  }
}

/** Edges added since the last compaction, as growable columns. */
class EdgeBuffer {
  length = 0;
  provider = new Uint32Array(64);
  dependent = new Uint32Array(64);
  ttl = new Uint32Array(64);
  backup = new Uint32Array(64);
  degradation = new Float64Array(64);
  kind = new Uint8Array(64);

  push(
    provider: number,
    dependent: number,
    ttl: number,
    backup: number,
    degradation: number,
    kind: number,
  ): void {
    if (this.length === this.provider.length) {
      const capacity = this.length * 2;
      this.provider = resized(this.provider, capacity);
      this.dependent = resized(this.dependent, capacity);
      this.ttl = resized(this.ttl, capacity);
      this.backup = resized(this.backup, capacity);
      this.degradation = resized(this.degradation, capacity);
      this.kind = resized(this.kind, capacity);
    }
    const i = this.length++;
    this.provider[i] = provider;
    this.dependent[i] = dependent;
    this.ttl[i] = ttl;
    this.backup[i] = backup;
    this.degradation[i] = degradation;
    this.kind[i] = kind;
  }

  clear(): void {
    this.length = 0;
    this.provider = new Uint32Array(64);
    this.dependent = new Uint32Array(64);
    this.ttl = new Uint32Array(64);
    this.backup = new Uint32Array(64);
    this.degradation = new Float64Array(64);
    this.kind = new Uint8Array(64);
  }
}
