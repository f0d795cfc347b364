import type { Db } from 'mongodb';
import { HashChain } from '@beacon/platform';
import type { AuditChainEnd, AuditLog, AuditRecord, AuditVerification } from '../../app/ports.js';

/**
 * Intake's audit log: every state change and every read of an AMBER or higher incident, in
 * `audit`, one hash chain per writer (each process appends to its own), with each chain's head
 * in `audit_head`.
 */
export class MongoAuditLog implements AuditLog {
  readonly #chain: HashChain<AuditRecord>;

  constructor(db: Db) {
    // The fields in the order they have always been hashed; an absent agency hashes as null.
    this.#chain = new HashChain<AuditRecord>(db, 'audit', (r) => [
      r.actor,
      r.agencyId ?? null,
      r.action,
      r.objectId,
      r.tlp,
      r.at.toISOString(),
    ]);
  }

  append(record: AuditRecord): Promise<void> {
    return this.#chain.append(record);
  }

  verify(checkpoint: readonly AuditChainEnd[] = []): Promise<AuditVerification> {
    return this.#chain.verify(checkpoint);
  }
}
