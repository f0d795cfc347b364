import { mayIssueMerges, mayMerge, mayRead, observableKey } from '@beacon/domain';
import type { Caller } from '../domain/access.js';
import type { Incident, MergePending } from '../domain/incident.js';
import { absorb, checkMerge, hasAbsorbed, isMergedInto, markMerged, recipientsOf } from '../domain/merge.js';
import { eachPending } from './each-pending.js';
import { IntakeError } from './errors.js';
import type { Idempotency } from './intake-service.js';
import type {
  AuditLog,
  AuditRecord,
  Clock,
  CorrelationHasher,
  CorrelationIndex,
  IdempotencyStore,
  IncidentStore,
  PendingAudit,
} from './ports.js';

/** Finds and settles half-done merges (the merged incident still carries `mergePending`). */
export interface MergeStore {
  /** Merged incidents whose merge started before `before` and is not known finished, at most `limit`. */
  pending(before: Date, limit: number): Promise<Incident[]>;
  /** The survivor has the merged incident: its pending mark is dropped. */
  settle(mergedId: string): Promise<void>;
}

export interface MergeDeps {
  readonly incidents: IncidentStore;
  readonly merges: MergeStore;
  readonly audit: AuditLog;
  readonly idempotency: IdempotencyStore;
  readonly correlation: CorrelationIndex;
  readonly hash: CorrelationHasher;
  readonly clock: Clock;
  readonly uuid: () => string;
}

export interface MergeRequest {
  readonly survivorId: string;
  readonly mergedId: string;
  /** The awareness time the coordinator confirmed: one of the two incidents'. */
  readonly awareAt: Date;
  /** The versions the coordinator saw; 0: the latest. */
  readonly survivorVersion: number;
  readonly mergedVersion: number;
}

/** Half-done merges one recovery pass finishes at most. */
export const MERGE_RECOVERY_BATCH = 100;
const MAX_CAS_ATTEMPTS = 20;

/**
 * `MergeIncidents`: a coordinator cleared for both incidents merges one into the other. Two
 * single-document writes, each repeatable (see `domain/merge.ts`): the merged incident is marked
 * first, so a crash after it leaves a mark `finishPending` completes; the survivor then takes it
 * in, under optimistic versions, and announces the merge through its outbox.
 */
export class MergeIncidents {
  constructor(private readonly deps: MergeDeps) {}

  async merge(caller: Caller, request: MergeRequest, idempotency?: Idempotency): Promise<Incident> {
    if (!mayIssueMerges(caller)) {
      throw new IntakeError('permission-denied', 'only coordinators may merge incidents');
    }
    await this.#claim(caller, request, idempotency);
    const [survivor, merged] = await Promise.all([
      this.deps.incidents.get(request.survivorId),
      this.deps.incidents.get(request.mergedId),
    ]);
    // Missing and not readable look the same, for either incident: nothing to probe.
    if (!survivor || !mayRead(caller, recipientsOf(survivor))) throw notFound(request.survivorId);
    // The merged incident is judged as it was shared before any merge: the mark changes neither.
    if (!merged || !mayMerge(caller, recipientsOf(survivor), recipientsOf(merged))) {
      throw notFound(request.mergedId);
    }
    // The same merge again: finish it if a crash left it half done, and answer as the first did.
    if (isMergedInto(merged, survivor.id)) return this.#finish(merged);

    for (const [incident, expected, field] of [
      [survivor, request.survivorVersion, 'survivor'],
      [merged, request.mergedVersion, 'merged'],
    ] as const) {
      if (expected !== 0 && expected !== incident.version) {
        throw new IntakeError(
          'conflict',
          `the ${field} incident ${incident.id} is at version ${incident.version}, not ${expected}; reload and retry`,
        );
      }
    }
    checkMerge(survivor, merged, request.awareAt);
    const now = this.deps.clock.now();
    const pending: MergePending = {
      survivorId: survivor.id,
      awareAt: request.awareAt,
      actor: caller.subject,
      actorAgencyId: caller.agencyId,
      at: now,
    };
    const mark = markMerged(merged, pending, now);
    const audit = this.#pending(this.#record(pending, 'incident.merged', merged));
    if (!(await this.deps.incidents.save(mark, merged.version, audit))) {
      throw new IntakeError('conflict', `incident ${merged.id} changed meanwhile; reload and retry`);
    }
    await this.#appendPending(merged.id, audit);
    return this.#finish(mark.incident);
  }

  /**
   * Finishes merges a crash (or a failed write) left half done: the merged incident is marked,
   * the survivor may not have it yet. Safe to run on every replica. Returns how many it found.
   */
  async finishPending(olderThanMs = 30_000): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - olderThanMs);
    const pending = await this.deps.merges.pending(before, MERGE_RECOVERY_BATCH);
    return eachPending(pending, 'merges could not be finished', (merged) => this.#finish(merged));
  }

  /**
   * How a caller sees a merged incident's pointer: only a caller who may read the survivor
   * learns which incident it is; anyone else sees the merged incident closed, as it is.
   */
  async asSeenBy(caller: Caller, incident: Incident): Promise<Incident> {
    if (incident.mergedInto === undefined) return incident;
    const survivor = await this.deps.incidents.get(incident.mergedInto);
    if (survivor && mayRead(caller, recipientsOf(survivor))) return incident;
    const { mergedInto: _hidden, ...rest } = incident;
    return rest;
  }

  /** The second step, repeatable: the survivor takes the merged incident in, then the mark goes. */
  async #finish(merged: Incident): Promise<Incident> {
    const pending = merged.mergePending;
    if (!pending) {
      const survivor = await this.deps.incidents.get(merged.mergedInto!);
      if (!survivor) throw new Error(`survivor ${merged.mergedInto} of ${merged.id} is missing`);
      return survivor;
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const survivor = await this.deps.incidents.get(pending.survivorId);
      if (!survivor) throw new Error(`survivor ${pending.survivorId} of ${merged.id} is missing`);
      if (hasAbsorbed(survivor, merged.id)) {
        await this.#settle(merged, survivor);
        return survivor;
      }
      const change = absorb(survivor, merged, pending.awareAt, this.deps.clock.now());
      const audit = this.#pending(this.#record(pending, 'incident.merged', change.incident));
      if (await this.deps.incidents.save(change, survivor.version, audit)) {
        await this.#settle(merged, change.incident);
        await this.#appendPending(survivor.id, audit);
        return change.incident;
      }
    }
    throw new IntakeError('conflict', `incident ${pending.survivorId} is too busy; retry the merge`);
  }

  /**
   * After the survivor has it: the merged incident's indicators now correlate with the
   * survivor (a new report joins the case that goes on), then the mark is dropped.
   */
  async #settle(merged: Incident, survivor: Incident): Promise<void> {
    const hashes = merged.observables.map((o) => this.deps.hash(observableKey(o)));
    if (hashes.length > 0) await this.deps.correlation.record(hashes, survivor.id, survivor.updatedAt);
    await this.deps.merges.settle(merged.id);
  }

  /** The Idempotency-Key: the same key with another request is refused, as on creating calls. */
  async #claim(caller: Caller, request: MergeRequest, idempotency: Idempotency | undefined): Promise<void> {
    if (!idempotency) return;
    const outcome = await this.deps.idempotency.claim(
      `MergeIncidents:${caller.subject}:${idempotency.key}`,
      idempotency.requestHash,
      { incidentId: request.survivorId },
    );
    if (outcome.state === 'mismatch') {
      throw new IntakeError(
        'idempotency-mismatch',
        'this idempotency key was used for a different request; use a new key',
      );
    }
    // A replay needs nothing remembered: the merge itself finds it was done and answers the same.
  }

  async #appendPending(incidentId: string, audit: PendingAudit): Promise<void> {
    await this.deps.audit.append(audit.record);
    await this.deps.incidents.auditAppended(incidentId, audit.key);
  }

  #record(pending: MergePending, action: string, incident: Incident): AuditRecord {
    return {
      actor: pending.actor,
      agencyId: pending.actorAgencyId,
      action,
      objectId: incident.id,
      tlp: incident.tlp,
      at: this.deps.clock.now(),
    };
  }

  #pending(record: AuditRecord): PendingAudit {
    return { key: this.deps.uuid(), record };
  }
}

function notFound(id: string): IntakeError {
  return new IntakeError('not-found', `incident ${id} not found`);
}
