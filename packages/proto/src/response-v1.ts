// beacon.response.v1 spans two files; one namespace re-exports both.
export * from './gen/beacon/response/v1/response.js';
export {
  EngagementEscalation,
  FinalReport,
  ReportDeadline,
  VictimCaseEscalated,
} from './gen/beacon/response/v1/events.js';
