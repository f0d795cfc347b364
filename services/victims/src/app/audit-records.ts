import { canListAudit, canVerifyAudit, type Caller } from '../domain/access.js';
import { refuse, type VictimsDeps } from './case-work.js';
import type { AuditChainEnd, AuditVerification, ListedAuditEntry } from './ports.js';

/** Checks the audit chains end to end, against a checkpoint when one is given. */
export async function verifyAudit(
  deps: VictimsDeps,
  caller: Caller,
  checkpoint: readonly AuditChainEnd[] = [],
): Promise<AuditVerification> {
  if (!canVerifyAudit(caller)) throw refuse('the audit log is verified by auditors and coordinators');
  return deps.audit.verify(checkpoint);
}

/** A case's audit records, for auditors. */
export async function listAudit(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  after: string | undefined,
  limit: number,
): Promise<{ records: ListedAuditEntry[]; next: string | undefined }> {
  if (!canListAudit(caller)) throw refuse('audit records are read by auditors');
  return deps.audit.list(caseId, after, limit);
}
