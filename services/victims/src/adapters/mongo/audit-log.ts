import type { Db } from 'mongodb';
import { chainPosition, ensureIndexes, HashChain } from '@beacon/platform';
import type {
  AuditAction,
  AuditChainEnd,
  AuditEntry,
  AuditLog,
  AuditVerification,
  ListedAuditEntry,
} from '../../app/ports.js';

/** A record's fields as stored and hashed: no undefined, so what is hashed is what reads back. */
interface AuditFields {
  at: Date;
  actor: string;
  actorOrgId: string | null;
  action: string;
  caseIds: string[];
  detail: string;
}

/**
 * The victims service's audit log: every read of personal data and every change, in `audit`,
 * one hash chain per writer (each process appends to its own), with each chain's head in
 * `audit_head`. Appends that arrive while one is written go together, so concurrent reads of
 * personal data cost one insert, not one each.
 */
export class MongoAuditLog implements AuditLog {
  readonly #chain: HashChain<AuditFields>;

  constructor(db: Db) {
    // The fields in the order they have always been hashed.
    this.#chain = new HashChain<AuditFields>(db, 'audit', (e) => [
      e.at.toISOString(),
      e.actor,
      e.actorOrgId,
      e.action,
      e.caseIds,
      e.detail,
    ]);
  }

  async init(): Promise<void> {
    await ensureIndexes(this.#chain.collection, [{ key: { caseIds: 1, _id: 1 }, name: 'by_case' }]);
  }

  append(entry: AuditEntry): Promise<void> {
    return this.#chain.append({
      at: entry.at,
      actor: entry.actor,
      actorOrgId: entry.actorOrgId ?? null,
      action: entry.action,
      caseIds: [...entry.caseIds],
      detail: entry.detail,
    });
  }

  verify(checkpoint: readonly AuditChainEnd[] = []): Promise<AuditVerification> {
    return this.#chain.verify(checkpoint);
  }

  /**
   * Pages by record id: ids sort in the order written as far as the writers' clocks agree. A
   * record another replica writes while a reader pages, stamped behind the reader's cursor
   * (clock skew, or a slow insert), shows only when the reader starts over.
   */
  async list(
    caseId: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ records: ListedAuditEntry[]; next: string | undefined }> {
    const docs = await this.#chain.collection
      .find({ caseIds: caseId, ...(after !== undefined ? { _id: { $gt: after } } : {}) })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    const records = page.map((d) => ({
      ...chainPosition(d._id)!,
      at: d.at,
      actor: d.actor,
      actorOrgId: d.actorOrgId ?? undefined,
      action: d.action as AuditAction,
      caseIds: d.caseIds,
      detail: d.detail,
    }));
    return { records, next: docs.length > limit ? page.at(-1)?._id : undefined };
  }
}
