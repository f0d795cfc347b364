import { compareTlp, mayReadRelation, relationLabel } from '@beacon/domain';
import type { Caller } from '../domain/access.js';
import type { Incident, Report } from '../domain/incident.js';
import { findRelation, type PossibleRelation } from '../domain/relation.js';
import type { AuditLog, Clock, IncidentStore, RelatedMatch, RelationStore } from './ports.js';

/** Relations one listing returns at most. */
export const RELATIONS_LIMIT = 100;

export interface PossibleRelationsDeps {
  readonly relations: RelationStore;
  readonly incidents: IncidentStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly uuid: () => string;
}

/**
 * Possible relations between incidents: recorded when a report matched an incident it could
 * not join, shown only to coordinators cleared for both incidents (`mayReadRelation`).
 */
export class PossibleRelations {
  constructor(private readonly deps: PossibleRelationsDeps) {}

  /**
   * Records a relation between the report's incident and each incident it matched but could
   * not join, each audited as Beacon's own finding. Repeating it (a retry, the recovery sweep)
   * stores nothing twice and appends the audit records a crash left pending.
   */
  async record(report: Report, incident: Incident, related: readonly RelatedMatch[]): Promise<void> {
    const now = this.deps.clock.now();
    for (const match of related) {
      if (match.incidentId === incident.id) continue;
      const relation = findRelation(
        report,
        { id: match.incidentId, tlp: match.tlp, sharedKeys: match.sharedKeys },
        incident.tlp,
        now,
      );
      const audit = {
        key: this.deps.uuid(),
        record: {
          actor: 'intake',
          agencyId: undefined,
          action: 'relation.found',
          objectId: relation.id,
          tlp: relation.tlp,
          at: now,
        },
      };
      const { pending } = await this.deps.relations.record(relation, audit);
      for (const p of pending) {
        await this.deps.audit.append(p.record);
        await this.deps.relations.auditAppended(relation.id, p.key);
      }
    }
  }

  /**
   * The relations of one incident the caller may read, labelled as the two incidents are now.
   * Whoever may read none of them (an agency, a coordinator not cleared for both, an incident
   * hidden or missing) gets the same empty list.
   */
  async list(caller: Caller, incidentId: string): Promise<PossibleRelation[]> {
    const found = await this.deps.relations.involving(incidentId, RELATIONS_LIMIT);
    const ids = found.flatMap((r) => [r.incidentId, r.relatedIncidentId]);
    const incidents = new Map((await this.deps.incidents.getMany(ids)).map((i) => [i.id, i]));
    const shown: PossibleRelation[] = [];
    for (const relation of found) {
      const a = incidents.get(relation.incidentId);
      const b = incidents.get(relation.relatedIncidentId);
      if (!a || !b || !mayReadRelation(caller, [a.tlp, b.tlp])) continue;
      shown.push({ ...relation, tlp: relationLabel(a.tlp, b.tlp) });
    }
    // Reading a relation names both incidents: audited as a read, as incidents are.
    const now = this.deps.clock.now();
    for (const relation of shown.filter((r) => compareTlp(r.tlp, 'AMBER') >= 0)) {
      await this.deps.audit.append({
        actor: caller.subject,
        agencyId: caller.agencyId,
        action: 'relation.read',
        objectId: relation.id,
        tlp: relation.tlp,
        at: now,
      });
    }
    return shown;
  }
}
