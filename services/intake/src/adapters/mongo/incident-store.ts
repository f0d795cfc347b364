import type { Collection, Db, Filter, MongoClient } from 'mongodb';
import {
  ensureIndexes,
  GroupCommit,
  PendingSweep,
  type OutboxAnnouncer,
  type PendingMarks,
} from '@beacon/platform';
import type { IncidentScope } from '../../domain/access.js';
import type { Incident } from '../../domain/incident.js';
import type { Change } from '../../domain/rules.js';
import type { IncidentListOptions, IncidentPage, IncidentStore, PendingAudit } from '../../app/ports.js';
import {
  auditRecordFromDoc,
  auditRecordToDoc,
  incidentFields,
  incidentFromDoc,
  tlpRank,
  type IncidentDoc,
} from './documents.js';
import { afterCursor, encodeCursor, filterQuery, sortKeys, sortSpec } from './incident-query.js';
import { outboxUpdate, type EventEncoder } from './outbox.js';
import { NewestIndex } from './newest-index.js';

export { BadCursorError } from './incident-query.js';

/**
 * The policy's read scope as a query, so a list never loads what the caller may not see: for
 * the centre every label within its clearance, for an agency those labels where it is named or
 * the label is a community one.
 */
export function scopeFilter(scope: IncidentScope): Filter<IncidentDoc> | undefined {
  switch (scope.kind) {
    case 'none':
      return undefined;
    case 'centre':
      return scope.labels.length === 0 ? undefined : { tlpRank: { $in: scope.labels.map(tlpRank) } };
    case 'agency': {
      if (scope.labels.length === 0) return undefined;
      const labels = { tlpRank: { $in: scope.labels.map(tlpRank) } };
      const community = scope.communityLabels.map(tlpRank);
      return {
        ...labels,
        $or: [
          { engagedAgencyIds: scope.agencyId },
          { sourceAgencyId: scope.agencyId },
          ...(community.length > 0 ? [{ tlpRank: { $in: community } }] : []),
        ],
      };
    }
  }
}

/** Marks of the incidents with pending work of each kind (see `PendingMarks`). */
export interface IncidentMarks {
  /** Audit records stored with their change, not yet in the log (`auditPending`). */
  readonly audits: PendingMarks;
  /** Merged incidents the survivor may not have taken in yet (`mergePending`). */
  readonly merges: PendingMarks;
}

type AuditsDoc = Pick<IncidentDoc, '_id' | 'auditPending'>;

export interface IncidentStoreOptions {
  /**
   * The relay: its claim goes into every write that gives a document events, and it is told
   * the document's id afterwards, so it publishes them at once without a write of its own.
   */
  readonly relay?: OutboxAnnouncer;
  /** Without marks, every recovery sweep reads the whole collection (as releases before). */
  readonly marks?: IncidentMarks;
  /** Intake's clock: the default list looks for openings up to its now. */
  readonly now?: () => Date;
  /**
   * Where the index of openings lives (`incidentsIndexDb`); the incidents' own database unless
   * given.
   */
  readonly indexDb?: Db;
}

/**
 * The database beside intake's that holds the index of openings, `<database>_index`. On FerretDB
 * a database is one SQLite file with one writer at a time, and the index's upsert was the
 * longest write of an opening under intake's lock (`pnpm bench intake`: 2.8 of about 10 ms held
 * per submission, the lock the ceiling of submissions per second); in a file of its own it
 * queues only behind other openings' entries. On MongoDB it is one more database.
 */
export function incidentsIndexDb(client: MongoClient, database: string): Db {
  return client.db(`${database}_index`);
}

export class MongoIncidentStore implements IncidentStore {
  readonly collection: Collection<IncidentDoc>;
  readonly #writes: GroupCommit<IncidentDoc>;
  readonly #db: Db;
  readonly #audits: PendingSweep<AuditsDoc> | undefined;
  readonly #newest: NewestIndex;

  readonly #relay: OutboxAnnouncer | undefined;
  readonly #marks: IncidentMarks | undefined;
  readonly #now: () => Date;

  constructor(
    db: Db,
    private readonly encode: EventEncoder,
    options: IncidentStoreOptions = {},
  ) {
    this.collection = db.collection<IncidentDoc>('incidents');
    this.#db = db;
    this.#relay = options.relay;
    this.#marks = options.marks;
    this.#now = options.now ?? (() => new Date());
    this.#newest = new NewestIndex(options.indexDb ?? db, this.collection);
    this.#writes = new GroupCommit(this.collection);
    this.#audits =
      options.marks &&
      new PendingSweep<AuditsDoc>(options.marks.audits, {
        read: (_id) => this.collection.findOne<AuditsDoc>({ _id }, { projection: { auditPending: 1 } }),
        pending: (doc) => Object.keys(doc.auditPending ?? {}).length > 0,
        scan: (_before, limit) => this.#scanAudits(limit),
      });
  }

  /**
   * Write-ahead (see `PendingMarks`): the marks of the pending work `change` and `audit` give the
   * incident, stored before the write that gives it.
   */
  async #mark(change: Change, events: number, audit: PendingAudit | undefined): Promise<void> {
    const id = change.incident.id;
    await Promise.all([
      events > 0 ? this.#relay?.mark(id) : undefined,
      audit ? this.#marks?.audits.mark(id) : undefined,
      change.incident.mergePending ? this.#marks?.merges.mark(id) : undefined,
    ]);
  }

  /**
   * The newest-first index everywhere; on MongoDB also one per selective filter and order of
   * `list`. FerretDB 1.24 on SQLite serves only `_id` lookups from an index and scans for the
   * rest, so there they would only slow every write and are left out.
   */
  async init(): Promise<{ secondaryIndexes: boolean }> {
    await Promise.all([this.#marks?.audits.init(), this.#marks?.merges.init()]);
    await ensureIndexes(this.collection, [{ key: { openedAt: -1, _id: -1 }, name: 'newest' }]);
    await this.#newest.init();
    const info = await this.#db.command({ buildInfo: 1 }).catch(() => ({}));
    if ('ferretdbVersion' in info) return { secondaryIndexes: false };
    const newest = { openedAt: -1, _id: -1 } as const;
    await ensureIndexes(this.collection, [
      { key: { status: 1, ...newest }, name: 'by_status' },
      { key: { sectors: 1, ...newest }, name: 'by_sector' },
      { key: { jurisdictions: 1, ...newest }, name: 'by_jurisdiction' },
      { key: { 'classification.rsitClass': 1, ...newest }, name: 'by_rsit_class' },
      { key: { 'severity.level': -1, ...newest }, name: 'by_nciss_level' },
      { key: { updatedAt: -1, _id: -1 }, name: 'recently_updated' },
    ]);
    return { secondaryIndexes: true };
  }

  async get(id: string): Promise<Incident | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? incidentFromDoc(doc) : undefined;
  }

  async insert(change: Change, audit?: PendingAudit): Promise<'inserted' | 'exists'> {
    const now = change.incident.updatedAt;
    const { set, count } = outboxUpdate(change.events, this.encode, now, change.incident.version * 100);
    // `set` is keyed by path (`outbox.<id>`): the insert takes the entries by id.
    const outbox = Object.fromEntries(
      Object.entries(set).map(([path, entry]) => [path.slice('outbox.'.length), entry]),
    );
    await Promise.all([
      this.#mark(change, count, audit),
      this.#newest.enter(change.incident.id, change.incident.openedAt),
    ]);
    const claim = count > 0 ? this.#relay?.claimForWrite() : undefined;
    const inserted = await this.#writes.insertOne({
      _id: change.incident.id,
      ...incidentFields(change.incident),
      outbox,
      ...claim,
      ...(audit ? { auditPending: { [audit.key]: auditRecordToDoc(audit.record) } } : {}),
    });
    if (!inserted) return 'exists';
    // A new document's outbox is what this write put there: the relay needs no read of it.
    if (claim) this.#relay?.announceCreated(change.incident.id, { outbox, ...claim });
    return 'inserted';
  }

  async save(change: Change, expectedVersion: number, audit?: PendingAudit): Promise<boolean> {
    const { set, count } = outboxUpdate(
      change.events,
      this.encode,
      change.incident.updatedAt,
      change.incident.version * 100,
    );
    await this.#mark(change, count, audit);
    const claim = count > 0 ? this.#relay?.claimForWrite() : undefined;
    const result = await this.collection.updateOne(
      { _id: change.incident.id, version: expectedVersion },
      {
        $set: {
          ...incidentFields(change.incident),
          ...set,
          ...claim,
          ...(audit ? { [`auditPending.${audit.key}`]: auditRecordToDoc(audit.record) } : {}),
        },
      },
    );
    if (result.matchedCount === 1 && claim) this.#relay?.announce(change.incident.id);
    return result.matchedCount === 1;
  }

  async auditAppended(incidentId: string, key: string): Promise<void> {
    await this.#writes.updateById(incidentId, { $unset: { [`auditPending.${key}`]: '' } });
  }

  /**
   * From the marks, and their incidents by `_id`; a full read at start-up and then rarely (see
   * `PendingSweep`), or at every call without marks.
   */
  async pendingAudits(before: Date, limit: number) {
    const docs = this.#audits ? await this.#audits.find(before, limit) : await this.#scanAudits(limit);
    return docs
      .flatMap((doc) =>
        Object.entries(doc.auditPending ?? {}).map(([key, record]) => ({
          incidentId: doc._id,
          audit: { key, record: auditRecordFromDoc(record) },
        })),
      )
      .filter(({ audit }) => audit.record.at < before)
      .sort((a, b) => a.audit.record.at.getTime() - b.audit.record.at.getTime())
      .slice(0, limit);
  }

  /** Reads every incident with pending records on FerretDB (no index serves the filter). */
  #scanAudits(limit: number): Promise<AuditsDoc[]> {
    return this.collection
      .find<AuditsDoc>({ auditPending: { $exists: true, $ne: {} } }, { projection: { auditPending: 1 } })
      .limit(limit)
      .toArray();
  }

  /**
   * One read by `_id` each: FerretDB 1.24 serves only `_id` equality from an index, and `$in`
   * scans the whole collection (0.7 s at 20,000 documents, measured).
   */
  async getMany(ids: readonly string[]): Promise<Incident[]> {
    const docs = await Promise.all([...new Set(ids)].map((_id) => this.collection.findOne({ _id })));
    return docs.filter((doc) => doc !== null).map(incidentFromDoc);
  }

  async openedBetween(scope: IncidentScope, from: Date, to: Date, limit: number) {
    const filter = scopeFilter(scope);
    if (!filter) return [];
    const docs = await this.collection
      .find(
        { $and: [filter, { openedAt: { $gte: from, $lt: to } }] },
        { projection: { openedAt: 1, classification: 1, sectors: 1, jurisdictions: 1 } },
      )
      .limit(limit)
      .toArray();
    return docs.map(({ openedAt, classification, sectors, jurisdictions }) => ({
      openedAt,
      classification,
      sectors,
      jurisdictions,
    }));
  }

  /**
   * A page of the incidents in scope that match, in the order asked (newest first by default).
   * The scope is one operand of the `$and`: the filter can only narrow it.
   */
  async list(scope: IncidentScope, options: IncidentListOptions): Promise<IncidentPage> {
    const filter = scopeFilter(scope);
    if (!filter) return { incidents: [] };
    const query = { status: options.status, filter: options.filter, order: options.order };
    const keys = sortKeys(options.order);
    const and: Filter<IncidentDoc>[] = [filter];
    if (options.status) and.push({ status: options.status });
    if (options.filter) and.push(filterQuery(options.filter));
    if (options.cursor) and.push(afterCursor(options.cursor, keys, query));
    // The default first page, the one every screen opens with, from the openings by hour.
    const newestFirst = keys.length === 2 && keys[0]!.path === 'openedAt' && keys[0]!.descending;
    const docs =
      (and.length === 1 && newestFirst
        ? await this.#newest.newest(scope, options.limit + 1, this.#now())
        : undefined) ??
      (await this.collection
        .find({ $and: and })
        .sort(sortSpec(keys))
        .limit(options.limit + 1)
        .toArray());
    const page = docs.slice(0, options.limit);
    const last = page.at(-1);
    const incidents = page.map(incidentFromDoc);
    return docs.length > options.limit && last
      ? { incidents, next: encodeCursor(last, keys, query) }
      : { incidents };
  }
}
