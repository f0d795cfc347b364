import { withinClearance, type IncidentCommand, type Tlp } from '@beacon/domain';
import { canCoordinate, type Caller } from '../domain/access.js';
import { IntakeError } from './errors.js';
import type { AuditLog, AuditRecord, Clock, IncidentStore, PendingAudit } from './ports.js';

/** Refuses anyone but a coordinator allowed `command`. */
export function requireCoordinator(caller: Caller, command: IncidentCommand): void {
  if (!canCoordinate(caller, command))
    throw new IntakeError('permission-denied', 'only coordinators may do this');
}

/** Refuses a label above the caller's own clearance: never its to set. */
export function requireCleared(caller: Caller, tlp: Tlp): void {
  if (!withinClearance(caller, tlp)) {
    throw new IntakeError(
      'permission-denied',
      `a label above your clearance (${caller.clearance}) cannot be set`,
    );
  }
}

/** One it may not read is answered as one that does not exist. */
export function notFound(id: string): IntakeError {
  return new IntakeError('not-found', `incident ${id} not found`);
}

/** The audit records intake's use cases write: who did what to which object, under which label. */
export class AuditTrail {
  constructor(
    private readonly deps: {
      readonly audit: AuditLog;
      readonly incidents: IncidentStore;
      readonly clock: Clock;
      readonly uuid: () => string;
    },
  ) {}

  /** Audits a read (no change to store it with): appended before the data is returned. */
  read(caller: Caller, action: string, objectId: string, tlp: string): Promise<void> {
    return this.deps.audit.append(this.record(caller, action, objectId, tlp));
  }

  record(caller: Caller, action: string, objectId: string, tlp: string): AuditRecord {
    return {
      actor: caller.subject,
      agencyId: caller.agencyId,
      action,
      objectId,
      tlp,
      at: this.deps.clock.now(),
    };
  }

  /** A record to store with a change, keyed so that appending it is done once. */
  pending(caller: Caller, action: string, objectId: string, tlp: string): PendingAudit {
    return { key: this.deps.uuid(), record: this.record(caller, action, objectId, tlp) };
  }

  /** Appends a record stored with its change, then drops it from the change's document. */
  async appendPending(incidentId: string, audit: PendingAudit): Promise<void> {
    await this.deps.audit.append(audit.record);
    await this.deps.incidents.auditAppended(incidentId, audit.key);
  }
}
