import {
  mayCommand,
  mayFileReports,
  mayIssueCommands,
  mayJoin,
  mayRead,
  mayRecordCascade,
  mayVerifyAudit,
  readScope,
  reportRevisesIncident,
  type IncidentCommand,
  type Principal,
  type ReadScope,
  type Recipients,
  type Tlp,
} from '@beacon/domain';
import type { Incident } from './incident.js';

/**
 * Intake's questions to the one trust policy in `@beacon/domain`, phrased over its incidents.
 * No rule is decided here: each function only names the incident's recipients for the policy.
 */
export type Caller = Principal;

type Named = Pick<Incident, 'tlp' | 'engagedAgencyIds' | 'sourceAgencyId'>;

/** Who an incident is shared with now, as the policy reads it. */
export function recipientsOf(incident: Named): Recipients {
  return {
    tlp: incident.tlp,
    sourceAgencyId: incident.sourceAgencyId,
    engagedAgencyIds: incident.engagedAgencyIds,
  };
}

export const canReadIncident = (caller: Caller, incident: Named): boolean =>
  mayRead(caller, recipientsOf(incident));

/** `canReadIncident` as a description the incident store turns into a query. */
export type IncidentScope = ReadScope;
export const incidentScope = (caller: Caller): IncidentScope => readScope(caller);

/** A report labelled `tlp` by this caller may join the incident (else it opens its own). */
export const canJoin = (caller: Caller, tlp: Tlp, incident: Named): boolean =>
  mayJoin(caller, tlp, recipientsOf(incident));

/** The caller's joining report may move the incident's own facts (its awareness time). */
export const revisesIncident = (caller: Caller, incident: Named): boolean =>
  reportRevisesIncident(caller, recipientsOf(incident));

export const canCommand = (caller: Caller, incident: Named, command: IncidentCommand): boolean =>
  mayCommand(caller, recipientsOf(incident), command);

export const canSubmitReport = (caller: Caller): boolean => mayFileReports(caller);

/** Whether the caller may ever issue this command: refused outright otherwise. */
export const canCoordinate = (caller: Caller, command: IncidentCommand): boolean =>
  mayIssueCommands(caller, command);

export const canVerifyAudit = (caller: Caller): boolean => mayVerifyAudit(caller);

/** The caller may record a severity change as impact's cascade (a Beacon process, never a person). */
export const canRecordCascade = (caller: Caller): boolean => mayRecordCascade(caller);
