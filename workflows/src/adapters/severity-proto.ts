import {
  NCISS_INPUT_NAMES,
  partialNcissInputs,
  type NcissInput,
  type NcissInputSource,
} from '@beacon/domain';
import { intakeV1 } from '@beacon/proto';
import type { IncidentSnapshot, SeverityInputOrigin, SeverityProposal } from '../activities/types.js';

const SOURCE: Partial<Record<intakeV1.SeverityInputSource, NcissInputSource>> = {
  [intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_REPORTER]: 'reporter',
  [intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_COORDINATOR]: 'coordinator',
  [intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_IMPACT]: 'impact',
};

/** Intake's record of who set each input, as the response keeps it (only what it names). */
export function severityOriginsFromProto(
  origins: intakeV1.SeverityInputOrigins | undefined,
): NonNullable<IncidentSnapshot['severityOrigins']> {
  const out: Partial<Record<NcissInput, SeverityInputOrigin>> = {};
  for (const input of NCISS_INPUT_NAMES) {
    const origin = origins?.[input];
    const source = origin && SOURCE[origin.source];
    if (!origin || !source) continue;
    out[input] = {
      source,
      ...(origin.agencyId ? { agencyId: origin.agencyId } : {}),
      ...(origin.reportId ? { reportId: origin.reportId } : {}),
    };
  }
  return out;
}

/** The proposal the report made, when intake kept one for it on the incident. */
export function severityProposalOf(
  incident: intakeV1.Incident | undefined,
  reportId: string,
): SeverityProposal | undefined {
  const proposal = incident?.severityProposals.find((p) => p.reportId === reportId);
  if (!proposal) return undefined;
  const { inputs } = partialNcissInputs({ ...proposal.severityInputs });
  return {
    reportId,
    ...(proposal.reporterAgencyId ? { agencyId: proposal.reporterAgencyId } : {}),
    inputs,
  };
}
