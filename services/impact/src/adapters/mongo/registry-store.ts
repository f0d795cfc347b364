import type { AnyBulkWriteOperation, Collection, Db, Document, Filter } from 'mongodb';
import { TLP_LEVELS, type Sector, type Tlp } from '@beacon/domain';
import { ensureIndexes, isDuplicateKeyError, MAX_UPDATE_STATEMENTS } from '@beacon/platform';
import type { AssetScope } from '../../domain/access.js';
import {
  dependencyKey,
  type Asset,
  type Criticality,
  type Dependency,
  type DependencyKind,
} from '../../domain/model.js';
import { ImpactError } from '../../app/errors.js';
import type { Page, RegistryStore, StoredAsset } from '../../app/ports.js';

export interface AssetDoc {
  _id: string;
  name: string;
  operatorId: string;
  sector: string;
  jurisdiction: string;
  /** Null when the coordinates are not known (stored, so a replacement clears old ones). */
  location: { lat: number; lon: number } | null;
  populationServed: number;
  criticality: number;
  services: string[];
  tlp: Tlp;
  /** The label's rank (CLEAR 0 … RED 4), so scope filters can compare labels. */
  tlpRank: number;
  version: number;
  updatedAt: Date;
}

export interface DependencyDoc {
  /** `dependent|provider|kind`: one dependency per pair and kind. */
  _id: string;
  dependentId: string;
  providerId: string;
  kind: string;
  timeToImpactHours: number;
  degradation: number;
  backupHours: number;
}

const rank = (tlp: Tlp) => TLP_LEVELS.indexOf(tlp);

function assetFields(asset: Asset): Omit<AssetDoc, '_id' | 'version' | 'updatedAt'> {
  return {
    name: asset.name,
    operatorId: asset.operatorId,
    sector: asset.sector,
    jurisdiction: asset.jurisdiction,
    location: asset.location ? { lat: asset.location.lat, lon: asset.location.lon } : null,
    populationServed: asset.populationServed,
    criticality: asset.criticality,
    services: [...asset.services],
    tlp: asset.tlp,
    tlpRank: rank(asset.tlp),
  };
}

function assetFromDoc(doc: AssetDoc): StoredAsset {
  return {
    id: doc._id,
    name: doc.name,
    operatorId: doc.operatorId,
    sector: doc.sector as Sector,
    jurisdiction: doc.jurisdiction,
    ...(doc.location ? { location: doc.location } : {}),
    populationServed: doc.populationServed,
    criticality: doc.criticality as Criticality,
    services: doc.services,
    tlp: doc.tlp,
    version: doc.version,
    updatedAt: doc.updatedAt,
  };
}

function dependencyDoc(d: Dependency): DependencyDoc {
  return {
    _id: dependencyKey(d),
    dependentId: d.dependentId,
    providerId: d.providerId,
    kind: d.kind,
    timeToImpactHours: d.timeToImpactHours,
    degradation: d.degradation,
    backupHours: d.backupHours,
  };
}

function dependencyFromDoc(doc: DependencyDoc): Dependency {
  return {
    dependentId: doc.dependentId,
    providerId: doc.providerId,
    kind: doc.kind as DependencyKind,
    timeToImpactHours: doc.timeToImpactHours,
    degradation: doc.degradation,
    backupHours: doc.backupHours,
  };
}

/** `withinClearance` as a query over the label's rank. */
const withinLabel = (clearance: Tlp): Filter<AssetDoc> =>
  clearance === 'RED' ? {} : { tlpRank: { $lte: rank(clearance) } };

/** The scope rule of `canSeeAsset` as a query. */
function scopeFilter(scope: AssetScope): Filter<AssetDoc> | undefined {
  switch (scope.kind) {
    case 'all':
      return withinLabel(scope.clearance);
    case 'operator':
      return { operatorId: scope.operatorId, ...withinLabel(scope.clearance) };
    case 'none':
      return undefined;
  }
}

export class MongoRegistryStore implements RegistryStore {
  readonly assets: Collection<AssetDoc>;
  readonly dependencies: Collection<DependencyDoc>;
  readonly #revision: Collection<{ _id: string; revision: number }>;

  constructor(db: Db) {
    this.assets = db.collection<AssetDoc>('assets');
    this.dependencies = db.collection<DependencyDoc>('dependencies');
    this.#revision = db.collection('registry');
  }

  /** One small document, read by its string `_id` (index-served on FerretDB too). */
  async revision(): Promise<number> {
    return (await this.#revision.findOne({ _id: 'graph' }))?.revision ?? 0;
  }

  async changed(): Promise<number> {
    const raised = await this.#revision.findOneAndUpdate(
      { _id: 'graph' },
      { $inc: { revision: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    return raised?.revision ?? 0;
  }

  async init(): Promise<void> {
    await ensureIndexes(this.assets, [{ key: { operatorId: 1, _id: 1 }, name: 'by_operator' }]);
    // No secondary index on dependencies: their `_id` starts with the dependent's id, so the
    // `_id` index serves "what does this asset need", and the graph in memory knows who needs
    // an asset. Each index would cost every bulk import a second write per row.
  }

  async load(onAsset: (asset: StoredAsset) => void, onDependency: (d: Dependency) => void): Promise<void> {
    for await (const doc of this.assets.find({}, { batchSize: 10_000 })) onAsset(assetFromDoc(doc));
    for await (const doc of this.dependencies.find({}, { batchSize: 10_000 }))
      onDependency(dependencyFromDoc(doc));
  }

  async getAsset(id: string): Promise<StoredAsset | undefined> {
    const doc = await this.assets.findOne({ _id: id });
    return doc ? assetFromDoc(doc) : undefined;
  }

  async putAsset(asset: Asset, expectedVersion: number, now: Date): Promise<StoredAsset> {
    if (expectedVersion === 0) {
      const doc: AssetDoc = { _id: asset.id, ...assetFields(asset), version: 1, updatedAt: now };
      try {
        await this.assets.insertOne(doc);
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new ImpactError('already-exists', `asset ${asset.id} exists`);
        throw error;
      }
      return assetFromDoc(doc);
    }
    const doc = await this.assets.findOneAndUpdate(
      { _id: asset.id, version: expectedVersion },
      { $set: { ...assetFields(asset), updatedAt: now }, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    if (!doc) {
      const exists = await this.assets.findOne({ _id: asset.id }, { projection: { version: 1 } });
      throw exists
        ? new ImpactError(
            'conflict',
            `asset ${asset.id} is at version ${exists.version}, not ${expectedVersion}`,
          )
        : new ImpactError('not-found', `no asset ${asset.id}`);
    }
    return assetFromDoc(doc);
  }

  /**
   * Bulk path of the import: one `insertMany` for the batch (the store's fastest write), and
   * an update by `_id` only for the rows that already existed.
   */
  async putAssets(assets: readonly Asset[], now: Date): Promise<void> {
    const docs = assets.map((a): AssetDoc => ({ _id: a.id, ...assetFields(a), version: 1, updatedAt: now }));
    const existing: AssetDoc[] = [];
    try {
      await this.assets.insertMany(docs, { ordered: false });
    } catch (error) {
      const failures = writeErrorsOf(error);
      if (!failures || failures.some((f) => f.code !== 11000)) throw error;
      for (const f of failures) existing.push(docs[f.index]!);
    }
    if (existing.length === 0) return;
    const updates: AnyBulkWriteOperation<AssetDoc>[] = existing.map(({ _id, version: _v, ...fields }) => ({
      updateOne: { filter: { _id }, update: { $set: fields, $inc: { version: 1 } } },
    }));
    await bulkInChunks(this.assets, updates);
  }

  async deleteAsset(id: string): Promise<boolean> {
    return (await this.assets.deleteOne({ _id: id })).deletedCount === 1;
  }

  async listAssets(
    scope: AssetScope,
    filter: { readonly operatorId?: string; readonly sector?: string },
    after: string | undefined,
    limit: number,
  ): Promise<Page<StoredAsset>> {
    const visible = scopeFilter(scope);
    if (!visible) return { items: [], next: undefined };
    const query: Filter<AssetDoc> = {
      ...visible,
      ...(filter.operatorId ? { operatorId: filter.operatorId } : {}),
      ...(filter.sector ? { sector: filter.sector } : {}),
      ...(after ? { _id: { $gt: after } } : {}),
    };
    if (scope.kind === 'operator' && filter.operatorId && filter.operatorId !== scope.operatorId) {
      return { items: [], next: undefined };
    }
    const docs = await this.assets
      .find(query)
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map(assetFromDoc);
    return { items, next: docs.length > limit ? items.at(-1)?.id : undefined };
  }

  async dependenciesOf(dependentId: string): Promise<Dependency[]> {
    const docs = await this.dependencies
      .find(dependentRange(dependentId))
      .sort({ _id: 1 })
      .limit(10_000)
      .toArray();
    return docs.map(dependencyFromDoc);
  }

  async putDependencies(dependencies: readonly Dependency[]): Promise<void> {
    const docs = dependencies.map(dependencyDoc);
    const existing: DependencyDoc[] = [];
    try {
      await this.dependencies.insertMany(docs, { ordered: false });
    } catch (error) {
      const failures = writeErrorsOf(error);
      if (!failures || failures.some((f) => f.code !== 11000)) throw error;
      for (const f of failures) existing.push(docs[f.index]!);
    }
    if (existing.length === 0) return;
    await bulkInChunks(
      this.dependencies,
      existing.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc } })),
    );
  }

  async deleteDependency(d: Pick<Dependency, 'dependentId' | 'providerId' | 'kind'>): Promise<boolean> {
    return (await this.dependencies.deleteOne({ _id: dependencyKey(d) })).deletedCount === 1;
  }

  async deleteDependenciesOf(assetId: string, asProvider: readonly Dependency[]): Promise<number> {
    const [own, others] = await Promise.all([
      this.dependencies.deleteMany(dependentRange(assetId)),
      asProvider.length > 0
        ? this.dependencies.deleteMany({ _id: { $in: asProvider.map(dependencyKey) } })
        : Promise.resolve({ deletedCount: 0 }),
    ]);
    return own.deletedCount + others.deletedCount;
  }

  async dependencyPage(
    after: string | undefined,
    limit: number,
  ): Promise<Page<Dependency & { key: string }>> {
    const docs = await this.dependencies
      .find(after ? { _id: { $gt: after } } : {})
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map((doc) => ({ ...dependencyFromDoc(doc), key: doc._id }));
    return { items, next: docs.length > limit ? items.at(-1)?.key : undefined };
  }
}

/** Updates in commands FerretDB can carry (see `MAX_UPDATE_STATEMENTS`). */
async function bulkInChunks<T extends Document>(
  collection: Collection<T>,
  operations: readonly AnyBulkWriteOperation<T>[],
): Promise<void> {
  for (let i = 0; i < operations.length; i += MAX_UPDATE_STATEMENTS) {
    await collection.bulkWrite(operations.slice(i, i + MAX_UPDATE_STATEMENTS), { ordered: false });
  }
}

/** Every dependency key of one dependent: `<id>|…`, and `}` sorts right after `|`. */
function dependentRange(dependentId: string): Filter<DependencyDoc> {
  return { _id: { $gte: `${dependentId}|`, $lt: `${dependentId}}` } };
}

/** The per-document failures of an unordered bulk insert, or undefined for another error. */
function writeErrorsOf(error: unknown): { index: number; code: number }[] | undefined {
  if (typeof error !== 'object' || error === null || !('writeErrors' in error)) return undefined;
  const raw = error.writeErrors;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((e: { index: number; code: number }) => ({ index: e.index, code: e.code }));
}
