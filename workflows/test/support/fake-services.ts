/**
 * In-memory stand-ins for intake, impact, notify, JetStream and the victims service, for the
 * workflow tests on the time-skipping server: the activities the worker runs are real code
 * paths of the workflows, only the services behind them are these maps. Every call is recorded
 * with the workflow time it carried, so tests can check when things happened.
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NCISS_BASELINE, NCISS_INPUTS, scoreSeverity, type NcissInputs } from '@beacon/domain';
import type {
  EngagementNoticeRequest,
  ImpactSummary,
  IncidentLifecycle,
  IncidentSnapshot,
  ResponseActivities,
  ResponseEvent,
  VictimCase,
} from '../../src/activities/types.js';
import type { AgencyProfile } from '../../src/domain/engagement.js';
import { FailureType } from '../../src/domain/failures.js';
import { atOrPast } from '../../src/domain/lifecycle.js';
import type { NumberedTimelineEntry } from '../../src/domain/timeline.js';

export interface RecordedNotice extends EngagementNoticeRequest {
  readonly key: string;
}

export class FakeServices {
  readonly incidents = new Map<string, IncidentSnapshot>();
  readonly impacts = new Map<string, ImpactSummary>();
  agencies: AgencyProfile[] = [];
  readonly notices: RecordedNotice[] = [];
  readonly events: ResponseEvent[] = [];
  /** Each incident's stored timeline, as the store would hold it (a retried entry once). */
  readonly timelines = new Map<string, NumberedTimelineEntry[]>();
  readonly transitions: [string, IncidentLifecycle][] = [];
  readonly engagedInIntake: [string, string][] = [];
  readonly disengagedInIntake: [string, string][] = [];
  /** Undefined: the victims service is absent (as in the real worker until it is wired). */
  victimCases: Map<string, VictimCase & { incidentId: string }> | undefined;
  readonly checkIns: { caseId: string; day: number; dueAtMs: number }[] = [];
  readonly caseEscalations: { caseId: string; reason: string }[] = [];
  /** Urgency a check-in reports, per case and day. */
  readonly checkInUrgency = new Map<string, 'routine' | 'urgent'>();
  /** Every case read (`getCase`), in order; a read of a case in `holdCaseReads` waits for its promise. */
  readonly caseReads: string[] = [];
  readonly holdCaseReads = new Map<string, Promise<void>>();
  /** A transition to these states waits for the promise (a response held in a phase). */
  readonly holdTransitions = new Map<IncidentLifecycle, Promise<void>>();

  addIncident(
    incident: Partial<IncidentSnapshot> & Pick<IncidentSnapshot, 'id' | 'awareAtMs'>,
    inputs?: Partial<NcissInputs>,
  ) {
    const severityInputs = { ...NCISS_BASELINE, ...inputs };
    const severity = scoreSeverity(severityInputs);
    const snapshot: IncidentSnapshot = {
      title: `Incident ${incident.id}`,
      status: 'reported',
      tlp: 'AMBER',
      rsitClass: 'availability',
      rsitType: 'outage',
      sectors: ['energy'],
      jurisdictions: ['DE-BY'],
      engagedAgencyIds: [],
      affectedAssets: [],
      version: 1,
      ...incident,
      severityInputs,
      ncissScore: severity.score,
      ncissLevel: severity.level,
    };
    this.incidents.set(snapshot.id, snapshot);
    return snapshot;
  }

  activities(): ResponseActivities {
    const incident = (id: string) => {
      const found = this.incidents.get(id);
      if (!found)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no incident ${id}`,
          nonRetryable: true,
        });
      return found;
    };
    const rescore = (id: string, inputs: NcissInputs) => {
      const severity = scoreSeverity(inputs);
      const next = {
        ...incident(id),
        severityInputs: inputs,
        ncissScore: severity.score,
        ncissLevel: severity.level,
      };
      this.incidents.set(id, next);
      return next;
    };
    const victims = () => {
      if (!this.victimCases) {
        throw ApplicationFailure.create({
          type: FailureType.VictimsServiceUnavailable,
          message: 'no victims service',
          nonRetryable: true,
        });
      }
      return this.victimCases;
    };
    // As intake's: a move to where the incident is, or behind it, is a no-op (a local activity
    // may run twice when its workflow task is retried).
    const transition = async (id: string, to: IncidentLifecycle) => {
      await this.holdTransitions.get(to);
      if (atOrPast(incident(id).status, to)) return incident(id);
      this.transitions.push([id, to]);
      this.incidents.set(id, { ...incident(id), status: to });
      return incident(id);
    };
    return {
      loadIncident: async (id) => incident(id),
      transitionIncident: async (id, to) => (await transition(id, to)).status,
      enterTriage: (id) => transition(id, 'triage'),
      raiseSeverity: async (id, implied) => {
        const current = incident(id).severityInputs;
        const higher = <K extends 'crossSectorDependency' | 'potentialImpact'>(k: K, value: string) =>
          (NCISS_INPUTS[k] as readonly string[]).indexOf(value) >
          (NCISS_INPUTS[k] as readonly string[]).indexOf(current[k])
            ? (value as NcissInputs[K])
            : current[k];
        return rescore(id, {
          ...current,
          crossSectorDependency: higher('crossSectorDependency', implied.crossSectorDependency),
          potentialImpact: higher('potentialImpact', implied.potentialImpact),
        });
      },
      updateSeverity: async (id, inputs) => rescore(id, inputs),
      engageAgency: async (id, agencyId) => {
        this.engagedInIntake.push([id, agencyId]);
      },
      disengageAgency: async (id, agencyId) => {
        this.disengagedInIntake.push([id, agencyId]);
      },
      assessImpact: async (id) => this.impacts.get(id) ?? null,
      listAgencies: async () => this.agencies,
      notifyEngagement: async (request) => {
        const info = activityInfo();
        const key = `${info.workflowExecution?.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
        const earlier = this.notices.find((n) => n.key === key);
        if (!earlier) this.notices.push({ ...request, key });
        return { noticeId: key, first: !earlier, sentAtMs: Date.now() };
      },
      publishResponseEvent: async (event) => {
        this.events.push(event);
      },
      recordTimeline: async (incidentId, entries) => {
        const stored = this.timelines.get(incidentId) ?? [];
        for (const e of entries) if (!stored.some((s) => s.seq === e.seq)) stored.push(e);
        this.timelines.set(incidentId, stored);
      },
      listVictimCases: async (incidentId) =>
        [...victims().values()].filter((c) => c.incidentId === incidentId).map((c) => c.caseId),
      getCase: async (caseId) => {
        this.caseReads.push(caseId);
        await this.holdCaseReads.get(caseId);
        const found = victims().get(caseId);
        if (!found)
          throw ApplicationFailure.create({
            type: FailureType.NotFound,
            message: caseId,
            nonRetryable: true,
          });
        return found;
      },
      recordCheckIn: async (caseId, { day, dueAtMs }) => {
        victims();
        this.checkIns.push({ caseId, day, dueAtMs });
        return { urgency: this.checkInUrgency.get(`${caseId}@${day}`) ?? 'routine' };
      },
      escalateCase: async (caseId, reason) => {
        victims();
        this.caseEscalations.push({ caseId, reason });
      },
    };
  }
}

/** A registered agency as notify lists it. */
export function agencyProfile(
  id: string,
  kind: AgencyProfile['kind'],
  overrides: Partial<AgencyProfile> = {},
): AgencyProfile {
  return {
    id,
    name: id,
    kind,
    jurisdictions: ['DE-BY'],
    sectors: ['energy', 'water-and-wastewater'],
    clearance: 'RED',
    contacts: [
      { role: 'duty-officer', name: 'Duty officer' },
      { role: 'deputy', name: 'Deputy' },
      { role: 'head', name: 'Head' },
    ],
    ...overrides,
  };
}
