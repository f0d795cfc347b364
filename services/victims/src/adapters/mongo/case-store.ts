import { Binary, type AnyBulkWriteOperation, type Collection, type Db, type Filter } from 'mongodb';
import type { Jurisdiction } from '@beacon/domain';
import { encodeEnvelope, ensureIndexes, type OutboxEntryDoc, type OutboxFields } from '@beacon/platform';
import type { StatsScope } from '../../domain/access.js';
import type { ConsentState } from '../../domain/consent.js';
import type { Assessment, CheckIn, ConsentRecord, Referral, VictimKind } from '../../domain/model.js';
import { statusOf, type CaseEvent, type CaseState } from '../../domain/victim-case.js';
import {
  SEALED_FIELDS,
  type CaseListFilter,
  type CaseStore,
  type Page,
  type SealedField,
  type StoredCase,
  type WrappedKey,
} from '../../app/ports.js';
import { eventPayload } from '../proto-mapping.js';

/** A case document: its clear state, sealed personal data, keys, hashes and outbox. */
export interface CaseDoc extends OutboxFields {
  _id: string;
  ownerOrgId: string;
  assignedOrgIds: string[];
  incidentIds: string[];
  reportIds: string[];
  jurisdiction: string;
  language: string;
  victimKind: string;
  /** Derived from the rest; stored so lists and counts can filter on it. */
  status: string;
  urgent: boolean;
  assessment: Assessment;
  consents: ConsentState;
  consentLog: ConsentRecord[];
  referrals: Referral[];
  /** The organisations of the case's referrals, for an organisation's inbox. */
  referralOrgIds: string[];
  checkIns: CheckIn[];
  reviewRequested: boolean;
  openedAt: Date;
  updatedAt: Date;
  closedAt?: Date;
  closeReason?: string;
  erasedAt?: Date;
  version: number;
  sealed: Partial<Record<SealedField, Binary>>;
  dataKey?: { kekId: string; wrapped: Binary };
  emailHash?: string;
  phoneHash?: string;
  requestHash?: string;
}

/** The clear part of a case, without what only personal-data reads and erasure touch. */
const STATE_ONLY = { sealed: 0, dataKey: 0, emailHash: 0, phoneHash: 0, requestHash: 0, outbox: 0 } as const;

/**
 * FerretDB 1.24 stalls on an update command carrying about a hundred statements, so bulk
 * updates go in chunks well under that.
 */
const UPDATE_CHUNK = 50;

/** Fields a change may remove (set once, then gone): they are `$unset` when absent. */
const REMOVABLE = ['closedAt', 'closeReason', 'erasedAt', 'dataKey', 'emailHash', 'phoneHash'] as const;

/**
 * Victim cases, one document each. A change and its events are one version-checked write
 * of that document (its outbox); the outbox relay publishes them. Personal data is stored
 * only sealed, and the queries here never return it except to `get`.
 */
export class MongoCaseStore implements CaseStore {
  readonly collection: Collection<CaseDoc>;

  constructor(
    db: Db,
    private readonly ids: () => string,
    /** Told the id of every document given events, so the relay can publish them at once. */
    private readonly onOutbox: (id: string) => void = () => {},
  ) {
    this.collection = db.collection<CaseDoc>('cases');
  }

  /**
   * Indexes for the queries that matter on MongoDB (FerretDB 1.24 on SQLite serves only
   * `_id` lookups from an index and scans for the rest, so they stay few: each costs every
   * insert of a bulk intake).
   */
  async init(): Promise<void> {
    await ensureIndexes(this.collection, [
      { key: { assignedOrgIds: 1, _id: 1 }, name: 'by_organisation' },
      { key: { emailHash: 1 }, name: 'by_email_hash' },
      { key: { phoneHash: 1 }, name: 'by_phone_hash' },
    ]);
  }

  async get(id: string): Promise<StoredCase | undefined> {
    const doc = await this.collection.findOne({ _id: id }, { projection: { outbox: 0 } });
    return doc ? storedFromDoc(doc) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, StoredCase>> {
    // Lookups by `_id`, a few at a time: the one query FerretDB 1.24 answers from an index
    // (an `$in` would read the whole collection there).
    const found = new Map<string, StoredCase>();
    for (let i = 0; i < ids.length; i += 8) {
      const docs = await Promise.all(ids.slice(i, i + 8).map((id) => this.get(id)));
      for (const stored of docs) if (stored) found.set(stored.state.id, stored);
    }
    return found;
  }

  async insert(
    cases: readonly { readonly stored: StoredCase; readonly events: readonly CaseEvent[] }[],
  ): Promise<Set<string>> {
    if (cases.length === 0) return new Set();
    const docs = cases.map(({ stored, events }) => ({
      ...docFields(stored),
      _id: stored.state.id,
      requestHash: stored.requestHash,
      outbox: this.#outbox(stored.state, events, 0),
    }));
    const existing = new Set<string>();
    try {
      await this.collection.insertMany(docs.map(withoutUndefined), { ordered: false });
    } catch (error) {
      const failures = writeErrorsOf(error);
      if (!failures || failures.some((f) => f.code !== 11000)) throw error;
      for (const f of failures) existing.add(docs[f.index]!._id);
    }
    for (const doc of docs) if (!existing.has(doc._id)) this.onOutbox(doc._id);
    return existing;
  }

  async update(next: StoredCase, expectedVersion: number, events: readonly CaseEvent[]): Promise<boolean> {
    const fields = docFields(next);
    const set: Record<string, unknown> = {};
    const unset: Record<string, ''> = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) {
        if ((REMOVABLE as readonly string[]).includes(key)) unset[key] = '';
      } else {
        set[key] = value;
      }
    }
    for (const [id, entry] of Object.entries(this.#outbox(next.state, events, expectedVersion))) {
      set[`outbox.${id}`] = entry;
    }
    const result = await this.collection.updateOne(
      { _id: next.state.id, version: expectedVersion },
      { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
    );
    if (result.matchedCount === 0) return false;
    if (events.length > 0) this.onOutbox(next.state.id);
    return true;
  }

  async list(
    scope: { readonly org: string } | { readonly incident: string },
    filter: CaseListFilter,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CaseState>> {
    const query: Filter<CaseDoc> = {
      ...('org' in scope ? { assignedOrgIds: scope.org } : { incidentIds: scope.incident }),
      ...(filter.includeClosed ? {} : { status: { $ne: 'closed' } }),
      ...(filter.incidentId ? { incidentIds: filter.incidentId } : {}),
      ...(filter.urgentOnly ? { urgent: true } : {}),
      ...(after ? { _id: { $gt: after } } : {}),
    };
    const docs = await this.collection
      .find(query, { projection: STATE_ONLY })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map(stateFromDoc);
    return { items, next: docs.length > limit ? items.at(-1)?.id : undefined };
  }

  async findByHash(orgId: string, field: 'email' | 'phone', hash: string): Promise<CaseState[]> {
    const docs = await this.collection
      .find({ [`${field}Hash`]: hash, assignedOrgIds: orgId }, { projection: STATE_ONLY })
      .sort({ _id: 1 })
      .limit(100)
      .toArray();
    return docs.map(stateFromDoc);
  }

  async referralsTo(orgId: string): Promise<CaseState[]> {
    const docs = await this.collection
      .find({ referralOrgIds: orgId, status: { $ne: 'closed' } }, { projection: STATE_ONLY })
      .sort({ _id: 1 })
      .limit(1_000)
      .toArray();
    return docs.map(stateFromDoc);
  }

  async scan(
    scope: StatsScope,
    filter: { readonly incidentId?: string; readonly jurisdiction?: string },
    each: (state: CaseState) => void,
  ): Promise<void> {
    const query: Filter<CaseDoc> = {
      ...(scope.kind === 'organisation' ? { assignedOrgIds: scope.orgId } : {}),
      ...(filter.incidentId ? { incidentIds: filter.incidentId } : {}),
      ...(filter.jurisdiction ? { jurisdiction: filter.jurisdiction } : {}),
    };
    for await (const doc of this.collection.find(query, {
      projection: { ...STATE_ONLY, consentLog: 0, checkIns: 0 },
      batchSize: 2_000,
    })) {
      // Left out by the projection: counting needs neither.
      each(stateFromDoc({ ...doc, consentLog: doc.consentLog ?? [], checkIns: doc.checkIns ?? [] }));
    }
  }

  async keysNotWrappedBy(
    currentKekId: string,
    limit: number,
  ): Promise<{ id: string; dataKey: WrappedKey }[]> {
    const docs = await this.collection
      .find({ 'dataKey.kekId': { $exists: true, $ne: currentKekId } }, { projection: { dataKey: 1 } })
      .limit(limit)
      .toArray();
    return docs.flatMap((d) => (d.dataKey ? [{ id: d._id, dataKey: wrappedFromDoc(d.dataKey) }] : []));
  }

  countKeysNotWrappedBy(currentKekId: string): Promise<number> {
    return this.collection.countDocuments({ 'dataKey.kekId': { $exists: true, $ne: currentKekId } });
  }

  async replaceKeys(changes: readonly { id: string; from: WrappedKey; to: WrappedKey }[]): Promise<number> {
    let replaced = 0;
    for (let i = 0; i < changes.length; i += UPDATE_CHUNK) {
      // Matching the old KEK id: an erasure (key gone) or another rewrap in between wins.
      const operations: AnyBulkWriteOperation<CaseDoc>[] = changes.slice(i, i + UPDATE_CHUNK).map((c) => ({
        updateOne: {
          filter: { _id: c.id, 'dataKey.kekId': c.from.kekId },
          update: { $set: { dataKey: wrappedToDoc(c.to) } },
        },
      }));
      replaced += (await this.collection.bulkWrite(operations, { ordered: false })).modifiedCount;
    }
    return replaced;
  }

  /** The events in wire form, keyed by id; `seq` continues from the case's version. */
  #outbox(state: CaseState, events: readonly CaseEvent[], version: number): Record<string, OutboxEntryDoc> {
    const outbox: Record<string, OutboxEntryDoc> = {};
    events.forEach((event, i) => {
      const payload = eventPayload(state, event);
      const encoded = encodeEnvelope({
        id: this.ids(),
        time: state.updatedAt,
        source: 'victims',
        domain: 'victims',
        event: event.type,
        subject: state.id,
        // Need-to-know within the organisations engaged: never wider, whatever the incident.
        tlp: 'AMBER',
        incidentId: state.incidentIds[0] ?? '',
        schema: payload.schema,
        data: payload.data,
      });
      outbox[encoded.id] = {
        id: encoded.id,
        seq: version * 100 + i,
        subject: encoded.subject,
        data: new Binary(encoded.data),
        createdAt: state.updatedAt,
      };
    });
    return outbox;
  }
}

function docFields(stored: StoredCase): Omit<CaseDoc, '_id' | 'outbox' | 'requestHash'> {
  const s = stored.state;
  const sealed: Partial<Record<SealedField, Binary>> = {};
  for (const field of SEALED_FIELDS) {
    const value = stored.sealed[field];
    if (value) sealed[field] = new Binary(value);
  }
  return {
    ownerOrgId: s.ownerOrgId,
    assignedOrgIds: [...s.assignedOrgIds],
    incidentIds: [...s.incidentIds],
    reportIds: [...s.reportIds],
    jurisdiction: s.jurisdiction,
    language: s.language,
    victimKind: s.victimKind,
    status: statusOf(s),
    urgent: s.assessment.urgent && !s.closedAt,
    assessment: withoutUndefined({
      ...s.assessment,
      needs: s.assessment.needs.map(withoutUndefined),
      urgencyReasons: [...s.assessment.urgencyReasons],
    }),
    consents: Object.fromEntries(Object.entries(s.consents).map(([k, v]) => [k, { ...v }])),
    consentLog: s.consentLog.map((c) => ({ ...c })),
    referrals: s.referrals.map((r) => withoutUndefined({ ...r, needs: [...r.needs] })),
    referralOrgIds: [...new Set(s.referrals.map((r) => r.organisationId))],
    checkIns: s.checkIns.map(withoutUndefined),
    reviewRequested: s.reviewRequested,
    openedAt: s.openedAt,
    updatedAt: s.updatedAt,
    closedAt: s.closedAt,
    closeReason: s.closeReason,
    erasedAt: s.erasedAt,
    version: s.version,
    sealed,
    dataKey: stored.dataKey ? wrappedToDoc(stored.dataKey) : undefined,
    emailHash: stored.emailHash,
    phoneHash: stored.phoneHash,
  };
}

function stateFromDoc(doc: Omit<CaseDoc, 'sealed' | 'outbox'>): CaseState {
  return {
    id: doc._id,
    ownerOrgId: doc.ownerOrgId,
    assignedOrgIds: doc.assignedOrgIds,
    incidentIds: doc.incidentIds,
    reportIds: doc.reportIds,
    jurisdiction: doc.jurisdiction as Jurisdiction,
    language: doc.language,
    victimKind: doc.victimKind as VictimKind,
    assessment: {
      ...doc.assessment,
      needs: doc.assessment.needs,
    },
    consents: doc.consents,
    consentLog: doc.consentLog,
    referrals: doc.referrals,
    checkIns: doc.checkIns,
    reviewRequested: doc.reviewRequested,
    openedAt: doc.openedAt,
    updatedAt: doc.updatedAt,
    ...(doc.closedAt ? { closedAt: doc.closedAt } : {}),
    ...(doc.closeReason ? { closeReason: doc.closeReason as CaseState['closeReason'] } : {}),
    ...(doc.erasedAt ? { erasedAt: doc.erasedAt } : {}),
    version: doc.version,
  };
}

function storedFromDoc(doc: CaseDoc): StoredCase {
  const sealed: Partial<Record<SealedField, Uint8Array>> = {};
  for (const field of SEALED_FIELDS) {
    const value = doc.sealed?.[field];
    if (value) sealed[field] = value.buffer;
  }
  return {
    state: stateFromDoc(doc),
    sealed: sealed,
    dataKey: doc.dataKey ? wrappedFromDoc(doc.dataKey) : undefined,
    emailHash: doc.emailHash,
    phoneHash: doc.phoneHash,
    requestHash: doc.requestHash,
  };
}

const wrappedToDoc = (w: WrappedKey) => ({ kekId: w.kekId, wrapped: new Binary(w.wrapped) });
const wrappedFromDoc = (d: { kekId: string; wrapped: Binary }): WrappedKey => ({
  kekId: d.kekId,
  wrapped: d.wrapped.buffer,
});

/** Drops undefined fields, which the driver would otherwise store as nulls. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The per-document failures of an unordered bulk insert, or undefined for another error. */
function writeErrorsOf(error: unknown): { index: number; code: number }[] | undefined {
  if (typeof error !== 'object' || error === null || !('writeErrors' in error)) return undefined;
  const raw = error.writeErrors;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((e: { index: number; code: number }) => ({ index: e.index, code: e.code }));
}
