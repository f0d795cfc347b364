import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import {
  encodeEnvelope,
  ensureIndexes,
  MAX_UPDATE_STATEMENTS,
  outboxEntry,
  outboxTrace,
  type OutboxFields,
  type StoredOutboxEntry,
} from '@beacon/platform';
import type { StatsScope } from '../../domain/access.js';
import { statusOf, type CaseEvent, type CaseState } from '../../domain/victim-case.js';
import type { CaseListFilter, CaseStore, Page, StoredCase, WrappedKey } from '../../app/ports.js';
import type { OutboxAnnouncements } from '../outbox-announcements.js';
import { eventPayload } from '../proto-mapping.js';
import { packSealed, unpackSealed, type SealedDocLegacy } from './sealed-codec.js';
import { stateJson } from './state-json.js';
import { IncidentMembership } from './incident-membership.js';

/**
 * A case document. What queries filter on sits at the top level; the rest of the clear state
 * is one JSON string (`state`), because FerretDB converts every nested field of a document
 * on each write and nothing ever queries inside it: a bulk intake writes about half again as
 * many cases a second so. Personal data is only ever in `sealed`.
 */
export interface CaseDoc extends OutboxFields {
  _id: string;
  ownerOrgId: string;
  assignedOrgIds: string[];
  incidentIds: string[];
  jurisdiction: string;
  /** Derived from the state; for lists and counts to filter on. */
  status: string;
  urgent: boolean;
  /** The organisations of the case's referrals, for an organisation's inbox. */
  referralOrgIds: string[];
  version: number;
  /** The whole clear state (`CaseState`) as JSON. */
  state: string;
  /**
   * The sealed values packed in one base64 string (see `packSealed`): one, of all the personal
   * data, or in cases written before one per field; an object of base64 strings in documents
   * older still. FerretDB writes a document of strings about a third
   * faster than the same document with BSON binaries (measured).
   */
  sealed: string | SealedDocLegacy;
  dataKey?: { kekId: string; wrapped: string };
  emailHash?: string;
  phoneHash?: string;
  requestHash?: string;
}

/** The clear state of a case, and what it is found by. */
const STATE_ONLY = { state: 1 } as const;
/** The clear state and the fields lists filter on, for a case looked up by `_id`. */
const LISTED = {
  state: 1,
  status: 1,
  urgent: 1,
  assignedOrgIds: 1,
  incidentIds: 1,
  jurisdiction: 1,
} as const;
/** Lookups by `_id` sent together: each is one index read on FerretDB, as on MongoDB. */
const LOOKUPS_AT_ONCE = 16;

/** Fields a change may remove (erasure, withdrawn contact consent): `$unset` when absent. */
const REMOVABLE = ['dataKey', 'emailHash', 'phoneHash'] as const;

/**
 * Victim cases, one document each. A change and its events are one version-checked write
 * of that document (its outbox); the outbox relay publishes them. Personal data is stored
 * only sealed, and the queries here never return it except to `get`.
 */
export class MongoCaseStore implements CaseStore {
  readonly collection: Collection<CaseDoc>;
  readonly membership: IncidentMembership;
  readonly #db: Db;
  /** Every case is in `membership` (see `IncidentMembership.backfill`): an incident's are read there. */
  #byMembership = false;
  #membershipReady: Promise<void> | undefined;

  constructor(
    db: Db,
    private readonly ids: () => string,
    /** Told of every document given events, so the relay can publish them soon. */
    private readonly announcements?: Pick<
      OutboxAnnouncements,
      'mark' | 'claimForWrite' | 'now' | 'afterBulk'
    >,
  ) {
    this.collection = db.collection<CaseDoc>('cases');
    this.membership = new IncidentMembership(db);
    this.#db = db;
  }

  /** Resolves once an incident's cases are read from the membership index (after `init`). */
  async membershipReady(): Promise<void> {
    await this.#membershipReady;
  }

  /** Enters the cases written before incident membership was kept (once; see `backfill`). */
  async #backfill(): Promise<void> {
    if (!(await this.membership.backfilled())) {
      const collection = this.collection;
      await this.membership.backfill(async function* () {
        for await (const doc of collection.find({}, { projection: { incidentIds: 1 }, batchSize: 2_000 })) {
          yield { id: doc._id, incidentIds: doc.incidentIds ?? [] };
        }
      });
    }
    this.#byMembership = true;
  }

  /**
   * Indexes for the queries that matter on MongoDB. FerretDB 1.24 on SQLite serves only `_id`
   * lookups from an index and reads the collection for the rest, so there they would only
   * cost every insert of a bulk intake (about a quarter of its rate, measured) and are left out.
   */
  async init(): Promise<{ secondaryIndexes: boolean }> {
    // In the background: entering 20,000 cases takes tens of seconds on FerretDB, and until it
    // is done an incident's cases are found by the filter, as before. A failure leaves it to
    // the next start.
    this.#membershipReady ??= this.#backfill().catch(() => undefined);
    const info = await this.#db.command({ buildInfo: 1 }).catch(() => ({}));
    if ('ferretdbVersion' in info) return { secondaryIndexes: false };
    await ensureIndexes(this.collection, [
      { key: { assignedOrgIds: 1, _id: 1 }, name: 'by_organisation' },
      { key: { emailHash: 1 }, name: 'by_email_hash' },
      { key: { phoneHash: 1 }, name: 'by_phone_hash' },
      { key: { referralOrgIds: 1 }, name: 'by_referral_organisation' },
    ]);
    return { secondaryIndexes: true };
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
    options: { readonly bulk?: boolean } = {},
  ): Promise<Set<string>> {
    if (cases.length === 0) return new Set();
    // Every new case has events: the relay's claim rides along in the insert.
    const claim = this.announcements?.claimForWrite(options.bulk);
    const docs = cases
      .map(({ stored, events }) => ({
        ...docFields(stored),
        _id: stored.state.id,
        requestHash: stored.requestHash,
        outbox: this.#outbox(stored.state, events, 0),
        ...(events.length > 0 ? claim : undefined),
      }))
      // Case ids are random (derived from references); in key order a batch lands in the
      // store's _id index as a run rather than scattered (about 6% faster on FerretDB).
      .sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    // Before the cases, so that a stored case is always found under its incidents (see
    // `IncidentMembership`): a failure in between leaves an id without a case, which readers skip.
    await this.membership.add(cases.map(({ stored }) => stored.state));
    // Write-ahead (see `PendingMarks`): a stored event always has its mark.
    await this.announcements?.mark(docs.filter((d) => d.outboxClaimBy).map((d) => d._id));
    const existing = new Set<string>();
    try {
      // Absent optional fields (no e-mail, no idempotency key) are left out rather than stored
      // as null, without copying each document to drop them.
      await this.collection.insertMany(docs, { ordered: false, ignoreUndefined: true });
    } catch (error) {
      const failures = writeErrorsOf(error);
      if (!failures || failures.some((f) => f.code !== 11000)) throw error;
      for (const f of failures) existing.add(docs[f.index]!._id);
    }
    const written = docs.filter((d) => !existing.has(d._id) && d.outboxClaimBy).map((d) => d._id);
    if (claim && options.bulk) this.announcements?.afterBulk(written);
    else if (claim) for (const id of written) this.announcements?.now(id);
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
    if (events.length > 0) await this.announcements?.mark(next.state.id);
    const claim = events.length > 0 ? this.announcements?.claimForWrite() : undefined;
    if (claim) Object.assign(set, claim);
    const result = await this.collection.updateOne(
      { _id: next.state.id, version: expectedVersion },
      { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
    );
    if (result.matchedCount === 0) return false;
    if (claim) this.announcements?.now(next.state.id);
    return true;
  }

  async list(
    scope: { readonly org: string } | { readonly incident: string },
    filter: CaseListFilter,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CaseState>> {
    // As in the query below, where the filter's incident replaces the scope's (they are the
    // same incident whenever the scope is one: `caseListScope`).
    const incident = filter.incidentId ?? ('incident' in scope ? scope.incident : undefined);
    if (incident !== undefined && this.#byMembership) {
      return this.#listByMembership(incident, scope, filter, after, limit);
    }
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

  /**
   * `list` for one incident: its members in id order after `after`, looked up by `_id` a few
   * at a time and filtered here exactly as the query above filters, until a page and one more
   * are found. Ids without a case (see `IncidentMembership`) are skipped.
   */
  async #listByMembership(
    incident: string,
    scope: { readonly org: string } | { readonly incident: string },
    filter: CaseListFilter,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CaseState>> {
    const ids = (await this.membership.caseIds(incident)).filter((id) => after === undefined || id > after);
    const matches = (doc: CaseDoc) =>
      doc.incidentIds.includes(incident) &&
      ('org' in scope ? doc.assignedOrgIds.includes(scope.org) : true) &&
      (filter.includeClosed || doc.status !== 'closed') &&
      (!filter.urgentOnly || doc.urgent === true);
    const found: CaseDoc[] = [];
    for (let i = 0; i < ids.length && found.length <= limit; i += LOOKUPS_AT_ONCE) {
      const docs = await Promise.all(
        ids
          .slice(i, i + LOOKUPS_AT_ONCE)
          .map((_id) => this.collection.findOne({ _id }, { projection: LISTED })),
      );
      for (const doc of docs) if (doc && matches(doc)) found.push(doc);
    }
    const items = found.slice(0, limit).map(stateFromDoc);
    return { items, next: found.length > limit ? items.at(-1)?.id : undefined };
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
    if (filter.incidentId !== undefined && this.#byMembership) {
      const incident = filter.incidentId;
      const ids = await this.membership.caseIds(incident);
      for (let i = 0; i < ids.length; i += LOOKUPS_AT_ONCE) {
        const docs = await Promise.all(
          ids
            .slice(i, i + LOOKUPS_AT_ONCE)
            .map((_id) => this.collection.findOne({ _id }, { projection: LISTED })),
        );
        for (const doc of docs) {
          if (!doc || !doc.incidentIds.includes(incident)) continue;
          if (scope.kind === 'organisation' && !doc.assignedOrgIds.includes(scope.orgId)) continue;
          if (filter.jurisdiction && doc.jurisdiction !== filter.jurisdiction) continue;
          each(stateFromDoc(doc));
        }
      }
      return;
    }
    const query: Filter<CaseDoc> = {
      ...(scope.kind === 'organisation' ? { assignedOrgIds: scope.orgId } : {}),
      ...(filter.incidentId ? { incidentIds: filter.incidentId } : {}),
      ...(filter.jurisdiction ? { jurisdiction: filter.jurisdiction } : {}),
    };
    for await (const doc of this.collection.find(query, {
      projection: STATE_ONLY,
      batchSize: 2_000,
    })) {
      each(stateFromDoc(doc));
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
    for (let i = 0; i < changes.length; i += MAX_UPDATE_STATEMENTS) {
      // Matching the old KEK id: an erasure (key gone) or another rewrap in between wins.
      const operations: AnyBulkWriteOperation<CaseDoc>[] = changes
        .slice(i, i + MAX_UPDATE_STATEMENTS)
        .map((c) => ({
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
  #outbox(
    state: CaseState,
    events: readonly CaseEvent[],
    version: number,
  ): Record<string, StoredOutboxEntry> {
    const outbox: Record<string, StoredOutboxEntry> = {};
    const { trace } = outboxTrace();
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
      outbox[encoded.id] = outboxEntry(
        {
          id: encoded.id,
          seq: version * 100 + i,
          subject: encoded.subject,
          data: encoded.data,
          createdAt: state.updatedAt,
        },
        trace,
      );
    });
    return outbox;
  }
}

function docFields(stored: StoredCase): Omit<CaseDoc, '_id' | 'outbox' | 'requestHash'> {
  const s = stored.state;
  return {
    ownerOrgId: s.ownerOrgId,
    assignedOrgIds: [...s.assignedOrgIds],
    incidentIds: [...s.incidentIds],
    jurisdiction: s.jurisdiction,
    status: statusOf(s),
    urgent: s.assessment.urgent && !s.closedAt,
    referralOrgIds: [...new Set(s.referrals.map((r) => r.organisationId))],
    version: s.version,
    state: stateJson(s),
    sealed: packSealed(stored.sealed),
    dataKey: stored.dataKey ? wrappedToDoc(stored.dataKey) : undefined,
    emailHash: stored.emailHash,
    phoneHash: stored.phoneHash,
  };
}

/** Every field of `CaseState` (at any depth) that holds a time; JSON carries them as ISO strings. */
const DATE_FIELDS = new Set([
  'openedAt',
  'updatedAt',
  'closedAt',
  'erasedAt',
  'assessedAt',
  'recallDeadline',
  'recordedAt',
  'madeAt',
  'respondedAt',
  'dueAt',
]);

function stateFromDoc(doc: Pick<CaseDoc, 'state'>): CaseState {
  return JSON.parse(doc.state, (key, value: unknown) =>
    DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value,
  ) as CaseState;
}

function storedFromDoc(doc: CaseDoc): StoredCase {
  return {
    state: stateFromDoc(doc),
    sealed: unpackSealed(doc.sealed),
    dataKey: doc.dataKey ? wrappedFromDoc(doc.dataKey) : undefined,
    emailHash: doc.emailHash,
    phoneHash: doc.phoneHash,
    requestHash: doc.requestHash,
  };
}

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const wrappedToDoc = (w: WrappedKey) => ({ kekId: w.kekId, wrapped: base64(w.wrapped) });
const wrappedFromDoc = (d: { kekId: string; wrapped: string }): WrappedKey => ({
  kekId: d.kekId,
  wrapped: Buffer.from(d.wrapped, 'base64'),
});

/** The per-document failures of an unordered bulk insert, or undefined for another error. */
function writeErrorsOf(error: unknown): { index: number; code: number }[] | undefined {
  if (typeof error !== 'object' || error === null || !('writeErrors' in error)) return undefined;
  const raw = error.writeErrors;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((e: { index: number; code: number }) => ({ index: e.index, code: e.code }));
}
