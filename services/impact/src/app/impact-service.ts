import { withinClearance } from '@beacon/domain';
import {
  assessmentScope,
  assetScope,
  canAssess,
  canManageAssetsOf,
  canSeeAsset,
  type AssetScope,
  type Caller,
} from '../domain/access.js';
import { DEFAULT_HORIZON_HOURS } from '../domain/cascade.js';
import { AssetGraph } from '../domain/graph.js';
import { assetProblems, dependencyProblems, type Asset, type Dependency } from '../domain/model.js';
import { assessmentFor, computeAssessment, factsToAssess, unknownIncident } from './assessment.js';
import { ImpactError, type RowProblem } from './errors.js';
import type {
  AffectedAsset,
  Assessment,
  AssessmentStore,
  Clock,
  IncidentFacts,
  Page,
  RegistryStore,
  SeverityFeed,
  StoredAsset,
} from './ports.js';

export interface ImpactServiceDeps {
  readonly registry: RegistryStore;
  readonly assessments: AssessmentStore;
  /** Raises the incident's NCISS inputs in intake; absent when no intake is configured. */
  readonly severity?: SeverityFeed;
  readonly clock: Clock;
  readonly uuid: () => string;
  /** A collision-resistant fingerprint of a string (SHA-256 in production). */
  readonly digest: (text: string) => string;
  /**
   * How old the graph may be against other replicas' registry changes: the registry's revision
   * is read at most this often. 0 unless given: every assessment, import and dependency change
   * reads it first (one small document), so it sees every change acknowledged before it began.
   */
  readonly registryCheckMs?: number;
  /** Told after every registry change made here (to re-assess the incidents it may move). */
  readonly onRegistryChanged?: () => void;
}

/** The graph is rebuilt at least this often, whatever the revision says. */
const FULL_RELOAD_MS = 10 * 60_000;

export const MAX_HORIZON_HOURS = 90 * 24;
export const MAX_IMPORT_ROWS = 1_000;
export { TOP_IMPACTS } from './assessment.js';

export type ImportRow = { readonly asset: Asset } | { readonly dependency: Dependency };

export type { IncidentFacts } from './ports.js';

const assessmentIdOf = (incidentId: string) => `incident-${incidentId}`;

/**
 * The registry and the assessments. The graph lives in memory; the store is the truth. Every
 * replica keeps its own graph: its own changes go into it at once, and other replicas' are
 * found through the registry's revision (raised after every change), read before the graph is
 * used (or once per `registryCheckMs`): when it moved, the graph is rebuilt from the store.
 * Concurrent uses share one read. Rebuilt in the background in any case every `FULL_RELOAD_MS`,
 * for a replica that stored a change and died before raising the revision.
 */
export class ImpactService {
  #graph = new AssetGraph();
  /** The revision the graph holds every change up to. */
  #revision = 0;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #loadedAt = Number.NEGATIVE_INFINITY;
  /**
   * The graph may lack what the store holds (a change here failed part-way, another replica's
   * came between two of ours, or a change named what the graph no longer has): rebuild.
   */
  #stale = false;
  /** Uses of the graph that asked for a revision check, numbered, and the last one a check covered. */
  #wanted = 0;
  #covered = 0;
  #refreshing: Promise<void> | undefined;
  /** Per rebuild under way: the changes made here meanwhile, to apply to the new graph too. */
  readonly #replays = new Set<((graph: AssetGraph) => void)[]>();
  readonly #checkMs: number;

  constructor(private readonly deps: ImpactServiceDeps) {
    this.#checkMs = deps.registryCheckMs ?? 0;
  }

  get graph(): AssetGraph {
    return this.#graph;
  }

  /** Builds the graph from the store. */
  async init(): Promise<void> {
    await this.#reload(await this.deps.registry.revision());
  }

  /**
   * The graph, with every change another replica made before this call began (or, with
   * `registryCheckMs`, up to that long before). A check already under way may have read the
   * revision before this call began, so the call waits for the next one, which every call
   * waiting meanwhile shares.
   */
  async #current(): Promise<AssetGraph> {
    if (!this.#stale && this.#now() - this.#checkedAt < this.#checkMs) return this.#graph;
    const ticket = ++this.#wanted;
    while (this.#covered < ticket) {
      if (!this.#refreshing) {
        const upTo = this.#wanted;
        this.#refreshing = this.#refresh()
          .then(() => void (this.#covered = Math.max(this.#covered, upTo)))
          .finally(() => (this.#refreshing = undefined));
      }
      await this.#refreshing;
    }
    return this.#graph;
  }

  async #refresh(): Promise<void> {
    const stale = this.#stale;
    this.#stale = false;
    const checkedAt = this.#now();
    let revision: number;
    try {
      // The revision first: a load begun after it holds every change up to it.
      revision = await this.deps.registry.revision();
    } catch (error) {
      this.#stale ||= stale;
      throw error;
    }
    if (stale || revision !== this.#revision) {
      await this.#reload(revision);
      return;
    }
    this.#checkedAt = checkedAt;
    if (checkedAt - this.#loadedAt >= FULL_RELOAD_MS) {
      // Nothing says the graph is behind: rebuild it without holding anyone up (a large
      // registry takes seconds to read); a failure leaves the graph as it is until next time.
      this.#loadedAt = checkedAt;
      this.#reload(revision, { background: true }).catch(() => undefined);
    }
  }

  /**
   * Reads the registry into a new graph and puts it in place, with the changes made here
   * while it was read (the read may have missed them). In the background, only if no other
   * rebuild has put its graph in place meanwhile.
   */
  async #reload(revision: number, { background = false } = {}): Promise<void> {
    const graphBefore = this.#graph;
    const at = this.#now();
    const graph = new AssetGraph();
    const replay: ((graph: AssetGraph) => void)[] = [];
    this.#replays.add(replay);
    try {
      // Every asset arrives before any dependency, and the store's keys are unique, so
      // dependencies take the bulk path with no replacement lookups and no buffering here.
      await this.deps.registry.load(
        (asset) => graph.putAsset(asset),
        (d) => {
          if (graph.nodeOf(d.dependentId) !== undefined && graph.nodeOf(d.providerId) !== undefined)
            graph.loadDependency(d);
        },
      );
    } catch (error) {
      if (!background) this.#stale = true;
      throw error;
    } finally {
      this.#replays.delete(replay);
    }
    if (background && this.#graph !== graphBefore) return;
    graph.compact();
    for (const change of replay) this.#applyTo(graph, change);
    this.#graph = graph;
    this.#revision = revision;
    this.#checkedAt = this.#loadedAt = at;
  }

  /**
   * A change made here: its store writes (`write`, which puts what it stored into the graph
   * with `#apply`), then the revision raised so that other replicas look — unless `changed`
   * says nothing was (a refusal changes nothing either, and makes no replica rebuild). A write
   * that failed part-way may have left the store ahead of the graph: rebuild, and raise.
   */
  async #change<T>(write: () => Promise<T>, changed: (result: T) => boolean = () => true): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (error) {
      if (!(error instanceof ImpactError)) {
        this.#stale = true;
        await this.#raise().catch(() => undefined);
      }
      throw error;
    }
    if (changed(result)) {
      await this.#raise();
      this.deps.onRegistryChanged?.();
    }
    return result;
  }

  async #raise(): Promise<void> {
    let revision: number;
    try {
      revision = await this.deps.registry.changed();
    } catch (error) {
      this.#stale = true;
      throw error;
    }
    // Another replica's change came in between: rebuild before the next use.
    if (revision === this.#revision + 1) this.#revision = revision;
    else this.#stale = true;
  }

  /** Puts a stored change into the graph, and into any graph being rebuilt. */
  #apply(change: (graph: AssetGraph) => void): void {
    this.#applyTo(this.#graph, change);
    for (const replay of this.#replays) replay.push(change);
  }

  #applyTo(graph: AssetGraph, change: (graph: AssetGraph) => void): void {
    try {
      change(graph);
    } catch {
      // The graph lacks what the change names (another replica removed it): rebuild.
      this.#stale = true;
    }
  }

  #now(): number {
    return this.deps.clock.now().getTime();
  }

  async putAsset(caller: Caller, asset: Asset, expectedVersion: number): Promise<StoredAsset> {
    this.#requireManage(caller, asset.operatorId);
    this.#requireLabelWithin(caller, asset);
    const existing = await this.deps.registry.getAsset(asset.id);
    if (existing && !canSeeAsset(assetScope(caller), existing)) {
      // Taken by an asset this caller may not see: answered exactly as the store answers for
      // a visible one (create) or a missing one (replace). Asset ids are one namespace, so that
      // an id is taken is all a refused create can tell, never by whom or what.
      throw expectedVersion === 0
        ? new ImpactError('already-exists', `asset ${asset.id} exists`)
        : notFound(asset.id);
    }
    return this.#change(async () => {
      const stored = await this.deps.registry.putAsset(asset, expectedVersion, this.deps.clock.now());
      this.#apply((graph) => graph.putAsset(stored));
      return stored;
    });
  }

  /**
   * The asset and what it depends on, without the providers the caller may not see (their
   * ids are other operators' or above its clearance): how many were left out is said.
   */
  async getAsset(
    caller: Caller,
    id: string,
  ): Promise<{ asset: StoredAsset; dependencies: Dependency[]; withheldDependencies: number }> {
    const asset = await this.deps.registry.getAsset(id);
    if (!asset || !canSeeAsset(assetScope(caller), asset)) throw notFound(id);
    const all = await this.deps.registry.dependenciesOf(id);
    await this.#current();
    const dependencies = all.filter((d) => this.#visibleNode(caller, d.providerId) !== undefined);
    return { asset, dependencies, withheldDependencies: all.length - dependencies.length };
  }

  listAssets(
    caller: Caller,
    filter: { readonly operatorId?: string; readonly sector?: string },
    after: string | undefined,
    limit: number,
  ): Promise<Page<StoredAsset>> {
    return this.deps.registry.listAssets(assetScope(caller), filter, after, limit);
  }

  async deleteAsset(caller: Caller, id: string): Promise<number> {
    const asset = await this.deps.registry.getAsset(id);
    if (!asset || !canSeeAsset(assetScope(caller), asset)) throw notFound(id);
    this.#requireManage(caller, asset.operatorId);
    // Dependencies first: a crash in between leaves an asset without them, which a retry
    // finishes, never a dependency naming a missing asset.
    const dependents = (await this.#current()).dependentsOf(id);
    return this.#change(async () => {
      const removed = await this.deps.registry.deleteDependenciesOf(id, dependents);
      await this.deps.registry.deleteAsset(id);
      this.#apply((graph) => graph.removeAsset(id));
      return removed;
    });
  }

  async putDependency(caller: Caller, dependency: Dependency): Promise<Dependency> {
    const problems = dependencyProblems(dependency);
    if (problems.length > 0) throw new ImpactError('failed-precondition', problems[0]!.message);
    await this.#current();
    const dependent = this.#requireVisible(caller, dependency.dependentId);
    this.#requireVisible(caller, dependency.providerId);
    this.#requireManage(caller, this.graph.operatorOf(dependent));
    await this.#change(async () => {
      await this.deps.registry.putDependencies([dependency]);
      this.#apply((graph) => graph.putDependency(dependency));
    });
    return dependency;
  }

  async deleteDependency(
    caller: Caller,
    key: Pick<Dependency, 'dependentId' | 'providerId' | 'kind'>,
  ): Promise<void> {
    await this.#current();
    const dependent = this.#visibleNode(caller, key.dependentId);
    if (dependent === undefined) throw notFound(key.dependentId);
    this.#requireManage(caller, this.graph.operatorOf(dependent));
    // One naming a provider the caller may not see is, to it, no such dependency.
    const removed =
      this.#visibleNode(caller, key.providerId) !== undefined &&
      (await this.#change(
        async () => {
          const found = await this.deps.registry.deleteDependency(key);
          if (found) this.#apply((graph) => graph.removeDependency(key));
          return found;
        },
        (found) => found,
      ));
    if (!removed) throw new ImpactError('not-found', 'no such dependency');
  }

  /**
   * Stores every valid row of one import batch and reports each invalid one by row and
   * field. Assets go first, so a batch may hold assets and the dependencies between them.
   */
  async importRows(
    caller: Caller,
    rows: readonly ImportRow[],
    firstRow: number,
  ): Promise<{ assets: number; dependencies: number; errors: RowProblem[] }> {
    await this.#current();
    const errors: RowProblem[] = [];
    const assets: Asset[] = [];
    const batchOperators = new Map<string, string>();
    rows.forEach((row, i) => {
      if (!('asset' in row)) return;
      const problems = assetProblems(row.asset);
      if (problems.length > 0) {
        for (const p of problems)
          errors.push({ row: firstRow + i, field: `asset.${p.field}`, message: p.message });
        return;
      }
      const refuse = (field: string, message: string) =>
        errors.push({ row: firstRow + i, field: `asset.${field}`, message });
      if (!canManageAssetsOf(caller, row.asset.operatorId)) {
        refuse('operatorId', 'you may not manage this operator’s assets');
        return;
      }
      if (!withinClearance(caller, row.asset.tlp)) {
        refuse('tlp', 'is above your clearance');
        return;
      }
      if (
        this.graph.nodeOf(row.asset.id) !== undefined &&
        this.#visibleNode(caller, row.asset.id) === undefined
      ) {
        // Taken by an asset this caller may not see: that the id is taken is all it learns.
        refuse('id', 'is already taken');
        return;
      }
      assets.push(row.asset);
      batchOperators.set(row.asset.id, row.asset.operatorId);
    });
    const dependencies: Dependency[] = [];
    rows.forEach((row, i) => {
      if (!('dependency' in row)) return;
      const d = row.dependency;
      const problems = dependencyProblems(d);
      for (const field of ['dependentId', 'providerId'] as const) {
        if (!batchOperators.has(d[field]) && this.#visibleNode(caller, d[field]) === undefined) {
          problems.push({ field, message: `unknown asset ${d[field]}` });
        }
      }
      if (problems.length > 0) {
        for (const p of problems)
          errors.push({ row: firstRow + i, field: `dependency.${p.field}`, message: p.message });
        return;
      }
      const operator = batchOperators.get(d.dependentId) ?? this.#operatorOf(d.dependentId);
      if (!canManageAssetsOf(caller, operator)) {
        errors.push({
          row: firstRow + i,
          field: 'dependency.dependentId',
          message: 'you may not manage this operator’s assets',
        });
        return;
      }
      dependencies.push(d);
    });

    const now = this.deps.clock.now();
    if (assets.length > 0 || dependencies.length > 0) {
      await this.#change(async () => {
        if (assets.length > 0) {
          await this.deps.registry.putAssets(assets, now);
          this.#apply((graph) => {
            for (const asset of assets) graph.putAsset(asset);
          });
        }
        if (dependencies.length > 0) {
          await this.deps.registry.putDependencies(dependencies);
          this.#apply((graph) => {
            for (const d of dependencies) graph.putDependency(d);
          });
        }
      });
    }
    return { assets: assets.length, dependencies: dependencies.length, errors };
  }

  /**
   * One page of the registry the caller may see: assets by id, then dependencies by key
   * (those whose dependent the caller may see). The cursor says which part and where.
   */
  async exportPage(
    caller: Caller,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ rows: ImportRow[]; next: string | undefined }> {
    const scope = assetScope(caller);
    const [part, after] = cursor ? [cursor.slice(0, 1), cursor.slice(2) || undefined] : ['a', undefined];
    if (part === 'a') {
      const page = await this.deps.registry.listAssets(scope, {}, after, limit);
      const rows = page.items.map((asset) => ({ asset }));
      return { rows, next: page.next ? `a:${page.next}` : 'd:' };
    }
    const page = await this.deps.registry.dependencyPage(after, limit);
    await this.#current();
    const rows = page.items
      .filter(
        (d) =>
          this.#visibleNode(caller, d.dependentId) !== undefined &&
          this.#visibleNode(caller, d.providerId) !== undefined,
      )
      .map(({ key: _key, ...dependency }) => ({ dependency }));
    return { rows, next: page.next ? `d:${page.next}` : undefined };
  }

  /**
   * Assesses an incident (its announced assets unless given) or a what-if set of assets.
   * Assets the caller names but may not see count as unknown, and an incident above its
   * clearance (or not announced yet: assumed RED) is answered as one impact has never heard of;
   * the answer is the assessment as the caller may read it (`assessmentFor`).
   */
  async assess(
    caller: Caller,
    request: {
      readonly incidentId?: string;
      readonly affectedAssets: readonly AffectedAsset[];
      readonly horizonHours?: number;
    },
  ): Promise<Assessment> {
    if (!canAssess(caller))
      throw new ImpactError('permission-denied', 'assessments are for the coordination centre');
    const previous = request.incidentId
      ? await this.deps.assessments.get(assessmentIdOf(request.incidentId))
      : undefined;
    const facts = factsToAssess(caller, request, previous);
    await this.#current();
    const assessment = this.#compute(
      facts,
      request.horizonHours ?? DEFAULT_HORIZON_HOURS,
      request.affectedAssets.length > 0
        ? (node) => this.#visibleNode(caller, this.graph.idOf(node), assessmentScope(caller)) !== undefined
        : undefined,
    );
    // Naming other assets replaces the incident's assessment for everyone: only a caller
    // cleared for the whole of the one it replaces may. Anyone else gets its result unstored,
    // whether the assets it named exist or not.
    if (previous && request.affectedAssets.length > 0 && !withinClearance(caller, previous.tlp)) {
      const preview = assessmentFor(caller, { ...assessment, revision: previous.revision });
      if (!preview) throw unknownIncident(facts.id);
      return preview;
    }
    const { assessment: saved } = await this.deps.assessments.save(assessment);
    if (saved.incidentId) await this.#feedSeverity(saved);
    const readable = assessmentFor(caller, saved);
    if (!readable) throw unknownIncident(facts.id);
    return readable;
  }

  /** The assessment as the caller may read it; one it may not read is answered as missing. */
  async getAssessment(caller: Caller, id: string): Promise<Assessment> {
    if (!canAssess(caller))
      throw new ImpactError('permission-denied', 'assessments are for the coordination centre');
    const assessment = await this.deps.assessments.get(id);
    const readable = assessment && assessmentFor(caller, assessment);
    if (!readable) throw new ImpactError('not-found', `no assessment ${id}`);
    return readable;
  }

  /**
   * An incident was opened or changed: assess it when it names affected assets. Idempotent by
   * event id, and a re-delivery or a change that leaves the cascade as it was publishes nothing.
   */
  async onIncident(eventId: string, incident: IncidentFacts): Promise<'assessed' | 'unchanged' | 'skipped'> {
    if (incident.affectedAssets.length === 0) return 'skipped';
    const id = assessmentIdOf(incident.id);
    if (await this.deps.assessments.handled(id, eventId)) {
      // A redelivery: the assessment is stored, but raising the severity may have failed.
      const stored = await this.deps.assessments.get(id);
      if (stored) await this.#feedSeverity(stored);
      return 'skipped';
    }
    await this.#current();
    const assessment = this.#compute(incident, DEFAULT_HORIZON_HOURS);
    const { assessment: saved, changed } = await this.deps.assessments.save(assessment, eventId);
    // Unchanged: intake already holds what it implies (or the event that changed it is being
    // redelivered, and raises it above). Most incident events change nothing here — among
    // them the severity change this very raise causes — so they cost intake no round trip.
    if (!changed) return 'unchanged';
    await this.#feedSeverity(saved);
    return 'assessed';
  }

  /** Assesses an incident again on the current registry, as its last announcement named it. */
  async reassess(incident: IncidentFacts): Promise<'assessed' | 'unchanged'> {
    await this.#current();
    const { assessment, changed } = await this.deps.assessments.save(
      this.#compute(incident, DEFAULT_HORIZON_HOURS),
    );
    if (changed) await this.#feedSeverity(assessment);
    return changed ? 'assessed' : 'unchanged';
  }

  #compute(
    incident: IncidentFacts,
    horizonHours: number,
    mayName?: (node: number) => boolean,
  ): Omit<Assessment, 'revision'> {
    return computeAssessment(this.graph, incident, horizonHours, {
      id: incident.id ? assessmentIdOf(incident.id) : `whatif-${this.deps.uuid()}`,
      assessedAt: this.deps.clock.now(),
      digest: this.deps.digest,
      ...(mayName ? { mayName } : {}),
    });
  }

  /** Idempotent: intake is changed only when the cascade implies more than it holds. */
  async #feedSeverity(assessment: Assessment): Promise<void> {
    await this.deps.severity?.raise(assessment.incidentId, {
      crossSectorDependency: assessment.crossSectorDependency,
      potentialImpact: assessment.potentialImpact,
    });
  }

  /**
   * The asset's node in the graph if the caller may see it. One it may not see and one that
   * does not exist are the same to the caller: every refusal below says "unknown asset".
   */
  #visibleNode(caller: Caller, id: string, scope: AssetScope = assetScope(caller)): number | undefined {
    const node = this.graph.nodeOf(id);
    if (node === undefined) return undefined;
    const asset = { operatorId: this.graph.operatorOf(node), tlp: this.graph.tlpOf(node) };
    return canSeeAsset(scope, asset) ? node : undefined;
  }

  #requireVisible(caller: Caller, id: string): number {
    const node = this.#visibleNode(caller, id);
    if (node === undefined) throw new ImpactError('failed-precondition', `unknown asset ${id}`);
    return node;
  }

  #operatorOf(assetId: string): string {
    const node = this.graph.nodeOf(assetId);
    if (node === undefined) throw new ImpactError('failed-precondition', `unknown asset ${assetId}`);
    return this.graph.operatorOf(node);
  }

  /** Nobody labels an asset above what it may read back. */
  #requireLabelWithin(caller: Caller, asset: Asset): void {
    if (!withinClearance(caller, asset.tlp)) {
      throw new ImpactError('permission-denied', 'you may not label an asset above your clearance');
    }
  }

  #requireManage(caller: Caller, operatorId: string): void {
    if (!canManageAssetsOf(caller, operatorId)) {
      throw new ImpactError('permission-denied', 'you may not manage this operator’s assets');
    }
  }
}

function notFound(id: string): ImpactError {
  return new ImpactError('not-found', `no asset ${id}`);
}
