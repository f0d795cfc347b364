// beacon.intake.v1 spans two files; one namespace re-exports both without their helper types.
export * from './gen/beacon/intake/v1/intake.js';
export {
  AgencyAssigned,
  AgencyUnassigned,
  IncidentFactsRevised,
  IncidentMerged,
  IncidentOpened,
  IncidentRecipients,
  IncidentReported,
  IncidentResolved,
  RelationFound,
  ReportAttached,
  SeverityChanged,
  SeverityInputChange,
  StatusChanged,
} from './gen/beacon/intake/v1/events.js';
