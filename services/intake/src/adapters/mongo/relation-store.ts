import type { Collection, Db } from 'mongodb';
import { GroupCommit, type OutboxAnnouncer, type OutboxFields } from '@beacon/platform';
import type { Tlp } from '@beacon/domain';
import type { PossibleRelation } from '../../domain/relation.js';
import type { PendingAudit, RelationStore } from '../../app/ports.js';
import { auditRecordFromDoc, auditRecordToDoc, type AuditRecordDoc } from './documents.js';
import { outboxUpdate, type EventEncoder } from './outbox.js';

export interface RelationDoc extends OutboxFields {
  /** `relationId` of the pair: FerretDB serves only `_id` lookups from an index. */
  _id: string;
  incidentId: string;
  relatedIncidentId: string;
  /** Both, for finding the relations of either. */
  incidentIds: string[];
  observables: { type: string; value: string }[];
  reportIds: string[];
  tlp: Tlp;
  foundAt: Date;
  /** Audit records stored with the write that made them, until they are in the log. */
  auditPending?: Record<string, AuditRecordDoc>;
}

/** Relations with their outbox, one document per pair of incidents. */
export class MongoRelationStore implements RelationStore {
  readonly collection: Collection<RelationDoc>;
  readonly #writes: GroupCommit<RelationDoc>;

  constructor(
    db: Db,
    private readonly encode: EventEncoder,
    private readonly relay?: OutboxAnnouncer,
  ) {
    this.collection = db.collection<RelationDoc>('relations');
    this.#writes = new GroupCommit(this.collection);
  }

  async record(relation: PossibleRelation, audit: PendingAudit) {
    const { set } = outboxUpdate([{ kind: 'relation-found', relation }], this.encode, relation.foundAt, 1);
    const outbox = Object.fromEntries(
      Object.entries(set).map(([path, entry]) => [path.slice('outbox.'.length), entry]),
    );
    // Write-ahead (see `PendingMarks`): a stored event always has its mark.
    await this.relay?.mark(relation.id);
    const claim = this.relay?.claimForWrite();
    const inserted = await this.#writes.insertOne({
      _id: relation.id,
      incidentId: relation.incidentId,
      relatedIncidentId: relation.relatedIncidentId,
      incidentIds: [relation.incidentId, relation.relatedIncidentId],
      observables: relation.observables.map(({ type, value }) => ({ type, value })),
      reportIds: [...relation.reportIds],
      tlp: relation.tlp,
      foundAt: relation.foundAt,
      outbox,
      ...claim,
      auditPending: { [audit.key]: auditRecordToDoc(audit.record) },
    });
    if (inserted) {
      if (claim) this.relay?.announceCreated(relation.id, { outbox, ...claim });
      return { inserted: true, pending: [audit] };
    }
    // Found before: by a retry of this report (nothing to add), or by another report, whose
    // indicators and finding are added (announced once, when first found; audited each time).
    const existing = await this.collection.findOne(
      { _id: relation.id },
      { projection: { reportIds: 1, auditPending: 1 } },
    );
    if (!existing) throw new Error(`relation ${relation.id} vanished`);
    const pending = Object.entries(existing.auditPending ?? {}).map(([key, record]) => ({
      key,
      record: auditRecordFromDoc(record),
    }));
    const added = relation.reportIds.filter((id) => !existing.reportIds.includes(id));
    if (added.length === 0) return { inserted: false, pending };
    await this.#writes.updateById(relation.id, {
      $addToSet: {
        reportIds: { $each: added },
        observables: { $each: relation.observables.map(({ type, value }) => ({ type, value })) },
      },
      $set: { [`auditPending.${audit.key}`]: auditRecordToDoc(audit.record) },
    });
    return { inserted: false, pending: [...pending, audit] };
  }

  async auditAppended(relationId: string, key: string): Promise<void> {
    await this.#writes.updateById(relationId, { $unset: { [`auditPending.${key}`]: '' } });
  }

  /**
   * Scans the collection on FerretDB (only `_id` is served from an index): relations are few,
   * one per pair of incidents a report found across a boundary, and read by coordinators only.
   */
  async involving(incidentId: string, limit: number): Promise<PossibleRelation[]> {
    const docs = await this.collection
      .find({ incidentIds: incidentId }, { projection: { outbox: 0, auditPending: 0 } })
      .sort({ foundAt: -1, _id: -1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({
      id: doc._id,
      incidentId: doc.incidentId,
      relatedIncidentId: doc.relatedIncidentId,
      // Stored from validated, normalised observables only.
      observables: doc.observables as PossibleRelation['observables'],
      reportIds: doc.reportIds,
      tlp: doc.tlp,
      foundAt: doc.foundAt,
    }));
  }
}
