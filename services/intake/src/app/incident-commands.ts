import type { IncidentCommand, NcissInputs, Tlp } from '@beacon/domain';
import { canCommand, canRecordCascade, type Caller } from '../domain/access.js';
import type { Incident, IncidentStatus } from '../domain/incident.js';
import {
  disengageAgency,
  engageAgency,
  raiseByCascade,
  rescore,
  reviseFacts,
  transition,
  type Change,
} from '../domain/rules.js';
import type { CascadeInputs } from '../domain/severity.js';
import { notFound, requireCleared, requireCoordinator, type AuditTrail } from './audit-trail.js';
import { IntakeError } from './errors.js';
import type { Clock, IncidentStore } from './ports.js';

/** Attempts of a latest-version (0) change before it is answered ABORTED. */
const MAX_CAS_ATTEMPTS = 20;

/**
 * A coordinator's commands on an incident it may read: facts, lifecycle, severity and engaged
 * agencies. Each is applied to the version the caller saw, or (0) to the latest.
 */
export class IncidentCommands {
  constructor(
    private readonly deps: { readonly incidents: IncidentStore; readonly clock: Clock },
    private readonly trail: AuditTrail,
  ) {}

  /** A coordinator's revision of the label and awareness time (regulatory clocks run from it). */
  updateFacts(
    caller: Caller,
    id: string,
    facts: { readonly tlp?: Tlp | undefined; readonly awareAt?: Date | undefined },
    reason: string,
    expectedVersion: number,
  ) {
    // Whatever the incident: a label the caller could not read itself is never its to set.
    if (facts.tlp) requireCleared(caller, facts.tlp);
    return this.#mutate(caller, id, expectedVersion, 'revise', 'incident.facts-revised', (i, now) =>
      reviseFacts(i, facts, reason, now),
    );
  }

  /** With `expectedStatus`, only while it is still the status (each CAS attempt checks it). */
  transition(
    caller: Caller,
    id: string,
    to: IncidentStatus,
    reason: string,
    expectedVersion: number,
    expectedStatus?: IncidentStatus,
  ) {
    return this.#mutate(caller, id, expectedVersion, 'transition', 'incident.transitioned', (i, now) => {
      if (expectedStatus === undefined || i.status === expectedStatus) return transition(i, to, reason, now);
      throw new IntakeError(
        'failed-precondition',
        `incident ${id} is ${i.status} now, not ${expectedStatus}; read it again`,
      );
    });
  }

  rescore(caller: Caller, id: string, inputs: NcissInputs, expectedVersion: number) {
    return this.#mutate(caller, id, expectedVersion, 'severity', 'incident.rescored', (i, now) =>
      rescore(i, inputs, now),
    );
  }

  /**
   * Impact's cascade, passed on by a Beacon process allowed to record severity (impact, or the
   * response worker): raises cross-sector dependency and potential impact, never lowers them,
   * and records them as impact's. A person is refused: a coordinator's change is its own.
   */
  raiseByCascade(caller: Caller, id: string, implied: CascadeInputs, expectedVersion: number) {
    if (!canRecordCascade(caller)) {
      throw new IntakeError(
        'permission-denied',
        "only Beacon's own processes record impact's cascade; change the inputs as a judgement",
      );
    }
    return this.#mutate(caller, id, expectedVersion, 'severity', 'incident.rescored-by-cascade', (i, now) =>
      raiseByCascade(i, implied, now),
    );
  }

  assignAgency(caller: Caller, id: string, agencyId: string, expectedVersion: number) {
    return this.#mutate(caller, id, expectedVersion, 'engage', 'incident.agency-assigned', (i, now) =>
      engageAgency(i, agencyId, now),
    );
  }

  unassignAgency(caller: Caller, id: string, agencyId: string, expectedVersion: number) {
    return this.#mutate(caller, id, expectedVersion, 'engage', 'incident.agency-unassigned', (i, now) =>
      disengageAgency(i, agencyId, now),
    );
  }

  /**
   * Coordinator changes: applied only to the version the caller saw, or (0) to the latest —
   * read again and applied again here when another write got in first, rather than answered
   * ABORTED for the caller to send again (a response engages its agencies at the same moment).
   */
  async #mutate(
    caller: Caller,
    id: string,
    expectedVersion: number,
    command: IncidentCommand,
    action: string,
    apply: (incident: Incident, now: Date) => Change,
  ): Promise<Incident> {
    requireCoordinator(caller, command);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const incident = await this.deps.incidents.get(id);
      // One it may not read is answered as one that does not exist: a command is no oracle.
      if (!incident || !canCommand(caller, incident, command)) throw notFound(id);
      if (expectedVersion !== 0 && expectedVersion !== incident.version) {
        throw new IntakeError(
          'conflict',
          `incident ${id} is at version ${incident.version}, not ${expectedVersion}; reload and retry`,
        );
      }
      const change = apply(incident, this.deps.clock.now());
      const audit = this.trail.pending(caller, action, id, change.incident.tlp);
      if (await this.deps.incidents.save(change, incident.version, audit)) {
        await this.trail.appendPending(id, audit);
        return change.incident;
      }
      if (expectedVersion !== 0) break;
    }
    throw new IntakeError('conflict', `incident ${id} changed meanwhile; reload and retry`);
  }
}
