import type { Observable, Recipients, Tlp } from '@beacon/domain';
import { encodeEnvelope, tlpFromProto, tlpToProto, type EncodedEvent } from '@beacon/platform';
import { intakeV1, type commonV1 } from '@beacon/proto';
import type { AffectedAsset } from '../domain/affected-asset.js';
import type { Incident, IncidentStatus, Report } from '../domain/incident.js';
import type { IntakeEvent } from '../domain/events.js';
import type { PossibleRelation } from '../domain/relation.js';
import {
  severityChangeToProto,
  severityInputsToProto,
  severityOriginsToProto,
  severityProposalToProto,
} from './severity-mapping.js';

export { tlpFromProto, tlpToProto };

const STATUS_TO_PROTO: Record<IncidentStatus, intakeV1.IncidentStatus> = {
  reported: intakeV1.IncidentStatus.INCIDENT_STATUS_REPORTED,
  triage: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
  active: intakeV1.IncidentStatus.INCIDENT_STATUS_ACTIVE,
  contained: intakeV1.IncidentStatus.INCIDENT_STATUS_CONTAINED,
  resolved: intakeV1.IncidentStatus.INCIDENT_STATUS_RESOLVED,
  closed: intakeV1.IncidentStatus.INCIDENT_STATUS_CLOSED,
};
const STATUS_FROM_PROTO = new Map(Object.entries(STATUS_TO_PROTO).map(([k, v]) => [v, k as IncidentStatus]));

export const statusToProto = (status: IncidentStatus) => STATUS_TO_PROTO[status];
export const statusFromProto = (status: intakeV1.IncidentStatus) => STATUS_FROM_PROTO.get(status);

/** `reported` is left out when the text as reported was already canonical. */
const observablesToProto = (observables: readonly Observable[]): commonV1.Observable[] =>
  observables.map(({ type, value, reported }) =>
    reported === undefined ? { type, value } : { type, value, reported },
  );

const affectedAssetsToProto = (assets: readonly AffectedAsset[]): commonV1.AffectedAsset[] =>
  assets.map(({ assetId, loss }) => ({ assetId, loss }));

export function incidentToProto(incident: Incident): intakeV1.Incident {
  return {
    id: incident.id,
    title: incident.title,
    status: statusToProto(incident.status),
    tlp: tlpToProto(incident.tlp),
    classification: { ...incident.classification },
    sectors: [...incident.sectors],
    jurisdictions: [...incident.jurisdictions],
    severityInputs: severityInputsToProto(incident.severityInputs),
    severity: { ...incident.severity },
    reportIds: [...incident.reportIds],
    engagedAgencyIds: [...incident.engagedAgencyIds],
    sourceAgencyId: incident.sourceAgencyId ?? '',
    observables: observablesToProto(incident.observables),
    affectedAssets: affectedAssetsToProto(incident.affectedAssets),
    awareAt: incident.awareAt,
    openedAt: incident.openedAt,
    updatedAt: incident.updatedAt,
    version: incident.version,
    mergedInto: incident.mergedInto ?? '',
    severityOrigins: severityOriginsToProto(incident.severityOrigins),
    severityProposals: incident.severityProposals.map(severityProposalToProto),
  };
}

const recipientsToProto = (r: Recipients): intakeV1.IncidentRecipients => ({
  tlp: tlpToProto(r.tlp),
  sourceAgencyId: r.sourceAgencyId ?? '',
  engagedAgencyIds: [...r.engagedAgencyIds],
});

export function reportToProto(report: Report): intakeV1.Report {
  return {
    id: report.id,
    incidentId: report.incidentId,
    reporterAgencyId: report.reporterAgencyId ?? '',
    title: report.title,
    description: report.description,
    tlp: tlpToProto(report.tlp),
    classification: { ...report.classification },
    sectors: [...report.sectors],
    jurisdictions: [...report.jurisdictions],
    observables: observablesToProto(report.observables),
    affectedAssets: affectedAssetsToProto(report.affectedAssets),
    ...(report.severityInputs && Object.values(report.severityInputs).some((v) => v !== undefined)
      ? { severityInputs: severityInputsToProto(report.severityInputs) }
      : {}),
    awareAt: report.awareAt,
    submittedAt: report.submittedAt,
  };
}

export function relationToProto(relation: PossibleRelation): intakeV1.PossibleRelation {
  return {
    id: relation.id,
    incidentId: relation.incidentId,
    relatedIncidentId: relation.relatedIncidentId,
    tlp: tlpToProto(relation.tlp),
    sharedObservables: relation.observables.map(({ type, value }) => ({ type, value })),
    reportIds: [...relation.reportIds],
    foundAt: relation.foundAt,
  };
}

/** An event ready for the outbox: its subject and the encoded envelope, both final. */
export type { EncodedEvent };

function payload(event: IntakeEvent): { schema: string; bytes: Uint8Array; tlp: Tlp; incidentId: string } {
  switch (event.kind) {
    case 'reported':
      return {
        schema: 'beacon.intake.v1.IncidentReported',
        bytes: intakeV1.IncidentReported.encode({ report: reportToProto(event.report) }).finish(),
        // The event names its incident, so it carries the incident's label, not the report's.
        tlp: event.label,
        incidentId: event.report.incidentId,
      };
    case 'opened':
      return wrap(
        'IncidentOpened',
        intakeV1.IncidentOpened.encode({ incident: incidentToProto(event.incident) }),
        event,
      );
    case 'report-attached':
      return wrap(
        'ReportAttached',
        intakeV1.ReportAttached.encode({
          incidentId: event.incident.id,
          reportId: event.reportId,
          incident: incidentToProto(event.incident),
        }),
        event,
      );
    case 'severity-changed':
      return wrap(
        'SeverityChanged',
        intakeV1.SeverityChanged.encode({
          incident: incidentToProto(event.incident),
          previousScore: event.previousScore,
          previousLevel: event.previousLevel,
          changes: event.changes.map(severityChangeToProto),
        }),
        event,
      );
    case 'status-changed':
      return wrap(
        'StatusChanged',
        intakeV1.StatusChanged.encode({
          incident: incidentToProto(event.incident),
          previousStatus: statusToProto(event.previousStatus),
          reason: event.reason,
        }),
        event,
      );
    case 'agency-assigned':
      return wrap('AgencyAssigned', intakeV1.AgencyAssigned.encode(agencyChangeToProto(event)), event);
    case 'agency-unassigned':
      return wrap('AgencyUnassigned', intakeV1.AgencyUnassigned.encode(agencyChangeToProto(event)), event);
    case 'merged':
      return wrap(
        'IncidentMerged',
        intakeV1.IncidentMerged.encode({
          survivor: incidentToProto(event.incident),
          mergedId: event.mergedId,
          survivorBefore: recipientsToProto(event.survivorBefore),
          mergedBefore: recipientsToProto(event.mergedBefore),
        }),
        event,
      );
    case 'resolved':
      return wrap(
        'IncidentResolved',
        intakeV1.IncidentResolved.encode({ incident: incidentToProto(event.incident) }),
        event,
      );
    case 'facts-revised':
      return wrap(
        'IncidentFactsRevised',
        intakeV1.IncidentFactsRevised.encode({
          incident: incidentToProto(event.incident),
          previousTlp: tlpToProto(event.previousTlp),
          previousAwareAt: event.previousAwareAt,
          reason: event.reason,
        }),
        event,
      );
    case 'relation-found':
      return {
        schema: 'beacon.intake.v1.RelationFound',
        bytes: intakeV1.RelationFound.encode({ relation: relationToProto(event.relation) }).finish(),
        // Cleared for both incidents, or not for it at all.
        tlp: event.relation.tlp,
        incidentId: event.relation.incidentId,
      };
  }
}

/** An agency assigned or taken off: the two events carry the same fields. */
function agencyChangeToProto(event: { incident: Incident; agencyId: string }) {
  return { incident: incidentToProto(event.incident), agencyId: event.agencyId };
}

function wrap(name: string, writer: { finish(): Uint8Array }, event: { incident: Incident }) {
  return {
    schema: `beacon.intake.v1.${name}`,
    bytes: writer.finish(),
    tlp: event.incident.tlp,
    incidentId: event.incident.id,
  };
}

/** Wraps a domain event in the CloudEvents-style envelope every Beacon event travels in. */
export function encodeEvent(
  event: IntakeEvent,
  meta: { id: string; time: Date; traceparent?: string },
): EncodedEvent {
  const { schema, bytes, tlp, incidentId } = payload(event);
  return encodeEnvelope({
    id: meta.id,
    time: meta.time,
    source: 'intake',
    domain: 'incident',
    event: event.kind,
    subject:
      event.kind === 'reported'
        ? event.report.id
        : event.kind === 'relation-found'
          ? event.relation.id
          : incidentId,
    tlp,
    incidentId,
    schema,
    data: bytes,
    ...(meta.traceparent ? { traceparent: meta.traceparent } : {}),
  });
}
