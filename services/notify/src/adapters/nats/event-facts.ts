import { isRsitClass, isSector, parseJurisdiction, type Jurisdiction, type NcissLevel } from '@beacon/domain';
import { tlpFromProto } from '@beacon/platform';
import { eventsV1, impactV1, intakeV1 } from '@beacon/proto';
import type { IncidentFacts, ReachedPlaces } from '../../app/ports.js';

/** An event as the fan-out sees it: its envelope, and what it says about its incident. */
export interface DecodedEvent {
  readonly envelope: eventsV1.Envelope;
  readonly bytes: Uint8Array;
  /** `domain.event`, from the CloudEvents type `beacon.<domain>.<event>.v1`. */
  readonly type: string;
  /** The incident's facts when the event carries the incident itself (intake's events). */
  readonly incident?: IncidentFacts;
  /** The agency an `incident.agency-unassigned` event removed: its access is withdrawn. */
  readonly unassignedAgencyId?: string;
}

const INCIDENT_PAYLOADS: Record<string, (data: Uint8Array) => intakeV1.Incident | undefined> = {
  'incident.opened': (d) => intakeV1.IncidentOpened.decode(d).incident,
  'incident.report-attached': (d) => intakeV1.ReportAttached.decode(d).incident,
  'incident.severity-changed': (d) => intakeV1.SeverityChanged.decode(d).incident,
  'incident.status-changed': (d) => intakeV1.StatusChanged.decode(d).incident,
  'incident.agency-assigned': (d) => intakeV1.AgencyAssigned.decode(d).incident,
  'incident.agency-unassigned': (d) => intakeV1.AgencyUnassigned.decode(d).incident,
  'incident.resolved': (d) => intakeV1.IncidentResolved.decode(d).incident,
  // A revision of the label or awareness time, and a merge, carry the incident (the survivor)
  // as their field 1, like IncidentOpened: read with its decoder, the other fields are skipped.
  'incident.facts-revised': (d) => intakeV1.IncidentOpened.decode(d).incident,
  'incident.merged': (d) => intakeV1.IncidentOpened.decode(d).incident,
};

/** Decodes an event from BEACON_EVENTS; throws on bytes that are not an envelope. */
export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const envelope = eventsV1.Envelope.decode(bytes);
  const match = /^beacon\.([a-z-]+)\.([a-z-]+)\.v\d+$/.exec(envelope.type);
  if (!match) throw new Error(`unknown event type ${JSON.stringify(envelope.type)}`);
  const type = `${match[1]}.${match[2]}`;
  const incident = INCIDENT_PAYLOADS[type]?.(envelope.data);
  const unassigned =
    type === 'incident.agency-unassigned' ? intakeV1.AgencyUnassigned.decode(envelope.data).agencyId : '';
  return {
    envelope,
    bytes,
    type,
    ...(incident ? { incident: incidentFacts(incident) } : {}),
    ...(unassigned ? { unassignedAgencyId: unassigned } : {}),
  };
}

function incidentFacts(incident: intakeV1.Incident): IncidentFacts {
  const rsitClass = incident.classification?.rsitClass ?? '';
  return {
    incidentId: incident.id,
    // An unlabelled incident is treated as the most restrictive label.
    tlp: tlpFromProto(incident.tlp) ?? 'RED',
    ...(isRsitClass(rsitClass) ? { rsitClass } : {}),
    sectors: incident.sectors.filter(isSector),
    jurisdictions: incident.jurisdictions
      .map((j) => parseJurisdiction(j))
      .filter((j): j is Jurisdiction => j !== undefined),
    ...(incident.severity ? { ncissLevel: incident.severity.level as NcissLevel } : {}),
    engagedAgencyIds: [...new Set(incident.engagedAgencyIds)],
    ...(incident.sourceAgencyId ? { sourceAgencyId: incident.sourceAgencyId } : {}),
    version: incident.version,
  };
}

/** The places an impact assessment reaches, with its revision (a later one replaces them). */
export function assessedPlaces(bytes: Uint8Array): ReachedPlaces {
  const assessment = impactV1.ImpactAssessed.decode(bytes).assessment;
  return {
    revision: assessment?.revision ?? 0,
    places: (assessment?.byPlace ?? []).map(({ sector, jurisdiction }) => ({ sector, jurisdiction })),
  };
}
