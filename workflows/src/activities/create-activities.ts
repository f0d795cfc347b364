import { status } from '@grpc/grpc-js';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NCISS_INPUTS, type NcissInputs, type Tlp } from '@beacon/domain';
import { encodeEnvelope, tlpFromProto } from '@beacon/platform';
import { type commonV1, type impactV1, intakeV1, notifyV1, responseV1 } from '@beacon/proto';
import type { TokenSource } from '@beacon/platform';
import { grpcCall, grpcCode } from '../adapters/grpc-call.js';
import { atOrPast } from '../domain/lifecycle.js';
import { severityOriginsFromProto } from '../adapters/severity-proto.js';
import { AGENCY_KINDS, type AgencyKind, type AgencyProfile } from '../domain/engagement.js';
import { FailureType } from '../domain/failures.js';
import type { TimelineStore } from '../adapters/timeline-store.js';
import type {
  ImpactSummary,
  IncidentLifecycle,
  IncidentSnapshot,
  ResponseActivities,
  ResponseEvent,
  VictimActivities,
} from './types.js';

/**
 * The victims service as the follow-up needs it (`adapters/victims-client.ts`). Calls that
 * change something carry an idempotency key.
 */
export interface VictimsPort {
  listCases(incidentId: string): Promise<string[]>;
  getCase(caseId: string): ReturnType<VictimActivities['getCase']>;
  recordCheckIn(
    caseId: string,
    checkIn: { readonly day: number; readonly dueAtMs: number },
    idempotencyKey: string,
  ): ReturnType<VictimActivities['recordCheckIn']>;
  escalateCase(caseId: string, reason: string, idempotencyKey: string): Promise<void>;
}

/**
 * Publishes one event to JetStream with a message id, so a republished copy is dropped; says
 * whether the stream dropped it as such a copy.
 */
export type EventPublisher = (
  subject: string,
  data: Uint8Array,
  messageId: string,
) => Promise<{ readonly duplicate: boolean }>;

export interface ActivityDeps {
  readonly intake: intakeV1.IntakeServiceClient;
  /** Absent: the response goes on without cascades. */
  readonly impact?: impactV1.ImpactServiceClient;
  readonly notify: notifyV1.NotifyServiceClient;
  /** Absent (no VICTIMS_ADDRESS): its activities fail as VictimsServiceUnavailable. */
  readonly victims?: VictimsPort;
  /** Publishes `<events root>.<subject>`. */
  readonly publish: EventPublisher;
  /** Where the responses' timelines are kept. */
  readonly timeline: Pick<TimelineStore, 'append'>;
  /** The worker's service identity (role `service`). */
  readonly token: TokenSource;
  /** Deadline of one call to a service; 10 s unless given. */
  readonly callTimeoutMs?: number;
  /** Counts escalations and missed deadlines as their events go out, each once (metrics). */
  readonly events?: { published(event: ResponseEvent): void };
}

/**
 * The key of this activity's side effect: the workflow, its run and the activity's id, which
 * stay the same across retries of the activity and replays of the workflow — and differ for
 * every other activity, also after continue-as-new (a new run restarts activity ids).
 */
export function idempotencyKey(): string {
  const info = activityInfo();
  const execution = info.workflowExecution;
  return `${execution?.workflowId ?? 'unknown'}/${execution?.runId ?? 'unknown'}/${info.activityId}`;
}

const LIFECYCLE: Record<intakeV1.IncidentStatus, IncidentLifecycle | undefined> = {
  [intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED]: undefined,
  [intakeV1.IncidentStatus.INCIDENT_STATUS_REPORTED]: 'reported',
  [intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE]: 'triage',
  [intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE]: 'active',
  [intakeV1.IncidentStatus.INCIDENT_STATUS_CONTAINED]: 'contained',
  [intakeV1.IncidentStatus.INCIDENT_STATUS_RESOLVED]: 'resolved',
  [intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED]: 'closed',
};
const TO_PROTO_STATUS = Object.fromEntries(
  Object.entries(LIFECYCLE).flatMap(([k, v]) => (v ? [[v, Number(k) as intakeV1.IncidentStatus]] : [])),
) as Record<IncidentLifecycle, intakeV1.IncidentStatus>;

const KIND: Record<notifyV1.AgencyKind, AgencyKind | undefined> = {
  [notifyV1.AgencyKind.AGENCY_KIND_UNSPECIFIED]: undefined,
  [notifyV1.AgencyKind.AGENCY_KIND_CSIRT]: 'csirt',
  [notifyV1.AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT]: 'law-enforcement',
  [notifyV1.AgencyKind.AGENCY_KIND_REGULATOR]: 'regulator',
  [notifyV1.AgencyKind.AGENCY_KIND_OPERATOR]: 'operator',
  [notifyV1.AgencyKind.AGENCY_KIND_VICTIM_SUPPORT]: 'victim-support',
};

/** Intake's incident as the workflows see it. */
/** The part of impact's assessment the response acts on, from the activity or impact's event. */
export function impactSummaryFromProto(assessment: impactV1.Assessment): ImpactSummary {
  return {
    impactedAssets: assessment.impactedAssets,
    populationAffected: Number(assessment.populationAffected),
    sectorsReached: assessment.bySector.map((t) => t.key).sort(),
    jurisdictionsReached: assessment.byJurisdiction.map((t) => t.key).sort(),
    placesReached: assessment.byPlace.map(({ sector, jurisdiction }) => ({ sector, jurisdiction })),
    crossSectorDependency: assessment.crossSectorDependency,
    potentialImpact: assessment.potentialImpact,
    revision: assessment.revision,
  };
}

export function snapshotFromProto(incident: intakeV1.Incident | undefined): IncidentSnapshot {
  if (!incident)
    throw ApplicationFailure.create({
      type: FailureType.NotFound,
      message: 'no incident',
      nonRetryable: true,
    });
  const inputs = incident.severityInputs;
  const severityInputs = Object.fromEntries(
    (Object.keys(NCISS_INPUTS) as (keyof NcissInputs)[]).map((k) => [
      k,
      (inputs?.[k] ?? '') || NCISS_INPUTS[k][0],
    ]),
  ) as unknown as NcissInputs;
  return {
    id: incident.id,
    title: incident.title,
    status: LIFECYCLE[incident.status] ?? 'reported',
    tlp: tlpFromProto(incident.tlp) ?? 'RED',
    rsitClass: incident.classification?.rsitClass ?? 'other',
    rsitType: incident.classification?.rsitType ?? 'undetermined',
    sectors: [...incident.sectors],
    jurisdictions: [...incident.jurisdictions],
    severityInputs,
    ncissScore: incident.severity?.score ?? 0,
    ncissLevel: incident.severity?.level ?? 0,
    awareAtMs: (incident.awareAt ?? incident.openedAt ?? new Date(0)).getTime(),
    engagedAgencyIds: [...incident.engagedAgencyIds],
    affectedAssets: incident.affectedAssets.map((a) => ({ assetId: a.assetId, loss: a.loss || 1 })),
    version: incident.version,
    severityOrigins: severityOriginsFromProto(incident.severityOrigins),
  };
}

function agencyFromProto(a: notifyV1.Agency): AgencyProfile | undefined {
  const kind = KIND[a.kind];
  const clearance = tlpFromProto(a.clearance);
  if (!kind || !clearance || !(AGENCY_KINDS as readonly string[]).includes(kind)) return undefined;
  return {
    id: a.id,
    name: a.name,
    kind,
    jurisdictions: [...a.jurisdictions],
    sectors: [...a.sectors],
    clearance,
    contacts: a.contacts.map((c) => ({ role: c.role, name: c.name })),
  };
}

/** While `work` runs, tells Temporal the activity is alive (it may take longer than a heartbeat). */
async function withHeartbeat<T>(work: Promise<T>, everyMs = 5_000): Promise<T> {
  heartbeat();
  const timer = setInterval(() => heartbeat(), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

const victimsUnavailable = () =>
  ApplicationFailure.create({
    type: FailureType.VictimsServiceUnavailable,
    message: 'the victims service is not connected to this worker',
    nonRetryable: true,
  });

/** The response's activities against the real services; see `ResponseActivities`. */
export function createActivities(deps: ActivityDeps): ResponseActivities {
  const timeoutMs = deps.callTimeoutMs ?? 10_000;
  const { intake, notify } = deps;
  const getIncident = async (incidentId: string) =>
    (
      await grpcCall<intakeV1.GetIncidentResponse>(deps.token, timeoutMs, (md, o, done) =>
        intake.getIncident({ incidentId }, md, o, done),
      )
    ).incident;
  /** A coordinator's judgement, or (`basis` CASCADE) impact's cascade passed on. */
  const updateSeverity = async (
    incidentId: string,
    inputs: commonV1.SeverityInputs,
    expectedVersion: number,
    basis = intakeV1.SeverityBasis.SEVERITY_BASIS_JUDGEMENT,
  ) =>
    (
      await grpcCall<intakeV1.UpdateSeverityResponse>(deps.token, timeoutMs, (md, o, done) =>
        intake.updateSeverity({ incidentId, severityInputs: inputs, expectedVersion, basis }, md, o, done),
      )
    ).incident;
  const isType = (error: unknown, type: FailureType) =>
    (error as { type?: string } | undefined)?.type === type;

  /** Moves the incident to `to` if it is not there or past it; the incident afterwards. */
  const transition = async (incidentId: string, to: IncidentLifecycle, reason: string) => {
    let incident = snapshotFromProto(await getIncident(incidentId));
    for (let attempt = 0; ; attempt++) {
      // There already, or further along (a coordinator moved it): nothing to do.
      if (atOrPast(incident.status, to)) return incident;
      try {
        // Moved from the status read, at whatever version the incident has by then: a report
        // joining or an agency engaged meanwhile is no reason to refuse it (intake retries its
        // own compare-and-set), a status a coordinator changed is (FAILED_PRECONDITION).
        const moved = await grpcCall<intakeV1.TransitionIncidentResponse>(
          deps.token,
          timeoutMs,
          (md, o, done) =>
            intake.transitionIncident(
              {
                incidentId,
                toStatus: TO_PROTO_STATUS[to],
                expectedStatus: TO_PROTO_STATUS[incident.status],
                expectedVersion: 0,
                reason,
              },
              md,
              o,
              done,
            ),
        );
        return snapshotFromProto(moved.incident);
      } catch (error) {
        // Too busy for intake's retries (ABORTED), or refused: read again. A status that moved
        // meanwhile is decided afresh; a move the lifecycle does not allow from where a
        // coordinator left it is not the response's to force.
        const refused = isType(error, FailureType.FailedPrecondition);
        if (!refused && (grpcCode(error) !== status.ABORTED || attempt >= 5)) throw error;
        const read = incident.status;
        incident = snapshotFromProto(await getIncident(incidentId));
        if (refused && (incident.status === read || attempt >= 5)) return incident;
      }
    }
  };

  return {
    loadIncident: async (incidentId) => snapshotFromProto(await getIncident(incidentId)),

    transitionIncident: async (incidentId, to, reason) => (await transition(incidentId, to, reason)).status,

    enterTriage: (incidentId, reason) => transition(incidentId, 'triage', reason),

    raiseSeverity: async (incidentId, implied) => {
      for (let attempt = 0; ; attempt++) {
        const incident = snapshotFromProto(await getIncident(incidentId));
        const current = incident.severityInputs;
        const higher = <K extends 'crossSectorDependency' | 'potentialImpact'>(key: K, value: string) => {
          const scale = NCISS_INPUTS[key] as readonly string[];
          return scale.indexOf(value) > scale.indexOf(current[key]) ? value : current[key];
        };
        const next = {
          ...current,
          crossSectorDependency: higher('crossSectorDependency', implied.crossSectorDependency),
          potentialImpact: higher('potentialImpact', implied.potentialImpact),
        };
        if (
          next.crossSectorDependency === current.crossSectorDependency &&
          next.potentialImpact === current.potentialImpact
        ) {
          return incident;
        }
        try {
          return snapshotFromProto(
            await updateSeverity(
              incidentId,
              next,
              incident.version,
              intakeV1.SeverityBasis.SEVERITY_BASIS_CASCADE,
            ),
          );
        } catch (error) {
          if (grpcCode(error) === status.ABORTED && attempt < 5) continue;
          throw error;
        }
      }
    },

    updateSeverity: async (incidentId, inputs) =>
      snapshotFromProto(await updateSeverity(incidentId, inputs, 0)),

    engageAgency: async (incidentId, agencyId) => {
      // Assigned at once, with no read first: intake refuses an agency already engaged, and
      // applies the assignment to the latest version itself when another write got in first.
      try {
        await grpcCall(deps.token, timeoutMs, (md, o, done) =>
          intake.assignAgency({ incidentId, agencyId, expectedVersion: 0 }, md, o, done),
        );
      } catch (error) {
        // A retry after the assignment went through, or a coordinator was quicker: engaged.
        if (
          isType(error, FailureType.FailedPrecondition) &&
          (await getIncident(incidentId))?.engagedAgencyIds.includes(agencyId)
        ) {
          return;
        }
        throw error;
      }
    },

    disengageAgency: async (incidentId, agencyId) => {
      if (!(await getIncident(incidentId))?.engagedAgencyIds.includes(agencyId)) return;
      try {
        await grpcCall(deps.token, timeoutMs, (md, o, done) =>
          intake.unassignAgency({ incidentId, agencyId, expectedVersion: 0 }, md, o, done),
        );
      } catch (error) {
        // A retry after it went through, or a coordinator was quicker: disengaged.
        if (
          isType(error, FailureType.FailedPrecondition) &&
          !(await getIncident(incidentId))?.engagedAgencyIds.includes(agencyId)
        ) {
          return;
        }
        throw error;
      }
    },

    assessImpact: async (incidentId, affectedAssets) => {
      const impact = deps.impact;
      if (!impact) {
        throw ApplicationFailure.create({
          type: FailureType.NotConfigured,
          message: 'no impact service',
          nonRetryable: true,
        });
      }
      // A cascade over a large region takes a while: heartbeat while impact computes it.
      const { assessment } = await withHeartbeat(
        grpcCall<impactV1.AssessImpactResponse>(deps.token, 4 * 60_000, (md, o, done) =>
          impact.assessImpact(
            { incidentId, affectedAssets: [...affectedAssets], horizonHours: 0 },
            md,
            o,
            done,
          ),
        ),
      );
      return assessment ? impactSummaryFromProto(assessment) : null;
    },

    listAgencies: async () => {
      const agencies: AgencyProfile[] = [];
      let pageToken = '';
      do {
        const page = await grpcCall<notifyV1.ListAgenciesResponse>(deps.token, timeoutMs, (md, o, done) =>
          notify.listAgencies({ pageSize: 200, pageToken }, md, o, done),
        );
        for (const a of page.agencies) {
          const profile = agencyFromProto(a);
          if (profile) agencies.push(profile);
        }
        pageToken = page.nextPageToken;
        // A local activity (a lean triage) has no heartbeat: its workflow task is its lease.
        if (!activityInfo().isLocal) heartbeat();
      } while (pageToken);
      return agencies;
    },

    notifyEngagement: async (request) => {
      const { notice, first } = await grpcCall<notifyV1.NotifyEngagementResponse>(
        deps.token,
        timeoutMs,
        (md, o, done) =>
          notify.notifyEngagement(
            {
              incidentId: request.incidentId,
              agencyId: request.agencyId,
              contactRank: request.contactRank,
              idempotencyKey: idempotencyKey(),
              regardingAgencyId: request.regardingAgencyId,
              round: request.round,
              ncissLevel: request.ncissLevel,
              acknowledgeBy: new Date(request.acknowledgeByMs),
            },
            md,
            o,
            done,
          ),
      );
      return { noticeId: notice?.id ?? '', first, sentAtMs: notice?.sentAt?.getTime() ?? Date.now() };
    },

    publishResponseEvent: async (event) => {
      const id = idempotencyKey();
      const encoded = encodeResponseEvent(id, event);
      // A retried activity publishes its event again; the stream drops the copy, and so does
      // the count.
      const { duplicate } = await deps.publish(encoded.subject, encoded.data, id);
      if (!duplicate) deps.events?.published(event);
    },

    recordTimeline: async (incidentId, entries) => {
      await deps.timeline.append(incidentId, entries);
    },

    listVictimCases: async (incidentId) => {
      if (!deps.victims) throw victimsUnavailable();
      return deps.victims.listCases(incidentId);
    },
    getCase: async (caseId) => {
      if (!deps.victims) throw victimsUnavailable();
      return deps.victims.getCase(caseId);
    },
    recordCheckIn: async (caseId, checkIn) => {
      if (!deps.victims) throw victimsUnavailable();
      return deps.victims.recordCheckIn(caseId, checkIn, idempotencyKey());
    },
    escalateCase: async (caseId, reason) => {
      if (!deps.victims) throw victimsUnavailable();
      await deps.victims.escalateCase(caseId, reason, idempotencyKey());
    },
  };
}

/** A response event in its envelope, under `response.<type>`, with the activity's key as its id. */
export function encodeResponseEvent(id: string, event: ResponseEvent) {
  const common = (schema: string, data: Uint8Array, subject: string, tlp: Tlp) =>
    encodeEnvelope({
      id,
      time: new Date(event.atMs),
      source: 'workflows',
      domain: 'response',
      event: event.type,
      subject,
      tlp,
      incidentId: event.incidentId,
      schema,
      data,
    });
  switch (event.type) {
    case 'report-due':
    case 'report-overdue':
      return common(
        'beacon.response.v1.ReportDeadline',
        responseV1.ReportDeadline.encode({
          incidentId: event.incidentId,
          regime: event.regime,
          obligation: event.obligation,
          dueAt: new Date(event.dueAtMs),
          escalationLevel: event.escalationLevel,
          draftJson: JSON.stringify(event.draft),
        }).finish(),
        `${event.incidentId}:${event.obligation}`,
        event.tlp,
      );
    case 'engagement-escalated':
    case 'engagement-unacknowledged':
      return common(
        'beacon.response.v1.EngagementEscalation',
        responseV1.EngagementEscalation.encode({
          incidentId: event.incidentId,
          agencyId: event.agencyId,
          toAgencyId: event.toAgencyId,
          contactRank: event.contactRank,
          role: event.role,
          round: event.round,
        }).finish(),
        `${event.incidentId}:${event.agencyId}`,
        event.tlp,
      );
    case 'victim-escalated':
      return common(
        'beacon.response.v1.VictimCaseEscalated',
        responseV1.VictimCaseEscalated.encode({
          incidentId: event.incidentId,
          caseId: event.caseId,
          reason: event.reason,
        }).finish(),
        `${event.incidentId}:${event.caseId}`,
        event.tlp,
      );
    case 'final-report':
      return common(
        'beacon.response.v1.FinalReport',
        responseV1.FinalReport.encode({
          incidentId: event.incidentId,
          reportJson: JSON.stringify(event.report),
        }).finish(),
        event.incidentId,
        event.tlp,
      );
  }
}
