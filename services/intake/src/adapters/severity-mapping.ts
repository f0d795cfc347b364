import { NCISS_INPUT_NAMES, type NcissInputSource, type PartialNcissInputs } from '@beacon/domain';
import { intakeV1, type commonV1 } from '@beacon/proto';
import type {
  SeverityInputChange,
  SeverityOrigin,
  SeverityOrigins,
  SeverityProposal,
} from '../domain/severity.js';

const SOURCE_TO_PROTO: Record<NcissInputSource, intakeV1.SeverityInputSource> = {
  reporter: intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_REPORTER,
  coordinator: intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_COORDINATOR,
  impact: intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_IMPACT,
};

/** Some or all of the inputs; those not given are empty, as proto3 leaves them. */
export function severityInputsToProto(inputs: PartialNcissInputs): commonV1.SeverityInputs {
  return {
    functionalImpact: inputs.functionalImpact ?? '',
    observedActivity: inputs.observedActivity ?? '',
    location: inputs.location ?? '',
    actor: inputs.actor ?? '',
    informationImpact: inputs.informationImpact ?? '',
    recoverability: inputs.recoverability ?? '',
    crossSectorDependency: inputs.crossSectorDependency ?? '',
    potentialImpact: inputs.potentialImpact ?? '',
  };
}

export function severityOriginToProto(origin: SeverityOrigin): intakeV1.SeverityInputOrigin {
  return {
    source: SOURCE_TO_PROTO[origin.source],
    agencyId: origin.agencyId ?? '',
    reportId: origin.reportId ?? '',
    at: origin.at,
  };
}

export function severityOriginsToProto(origins: SeverityOrigins): intakeV1.SeverityInputOrigins {
  const out: intakeV1.SeverityInputOrigins = {};
  for (const input of NCISS_INPUT_NAMES) {
    const origin = origins[input];
    if (origin) out[input] = severityOriginToProto(origin);
  }
  return out;
}

export function severityProposalToProto(proposal: SeverityProposal): intakeV1.SeverityProposal {
  return {
    reportId: proposal.reportId,
    reporterAgencyId: proposal.agencyId ?? '',
    severityInputs: severityInputsToProto(proposal.inputs),
    proposedAt: proposal.at,
  };
}

export function severityChangeToProto(change: SeverityInputChange): intakeV1.SeverityInputChange {
  return {
    input: change.input,
    previous: change.previous,
    current: change.current,
    origin: severityOriginToProto(change.origin),
  };
}
