import {
  changedNcissInputs,
  givenNcissInputs,
  NCISS_BASELINE,
  ncissRank,
  raiseNcissInputs,
  scoreSeverity,
  withNcissInputs,
  type NcissInput,
  type NcissInputs,
  type NcissInputSource,
  type PartialNcissInputs,
} from '@beacon/domain';
import type { Incident, Report } from './incident.js';

/**
 * Where an incident's severity inputs came from. The trust model lets three hands set them:
 * - the reporter: the report that opened the incident, and later reports of the source agency
 *   (`reportRevisesIncident`), which raise an input to their category, never lower it;
 * - a coordinator, by command, who may also lower;
 * - impact's cascade, which raises cross-sector dependency and potential impact only.
 * Other agencies' joining reports change nothing: what they gave is kept as a proposal.
 */
export interface SeverityOrigin {
  readonly source: NcissInputSource;
  /** The reporting agency (reporter only; absent when the coordination centre filed it). */
  readonly agencyId?: string | undefined;
  /** The report that gave the category (reporter only). */
  readonly reportId?: string | undefined;
  readonly at: Date;
}

/** Per input, who set its current category; an input without one is still the baseline. */
export type SeverityOrigins = { readonly [K in NcissInput]?: SeverityOrigin };

/** Inputs a joining report gave that the incident did not take. */
export interface SeverityProposal {
  readonly reportId: string;
  /** Absent when the coordination centre filed the report. */
  readonly agencyId: string | undefined;
  readonly inputs: PartialNcissInputs;
  readonly at: Date;
}

/** One input's move, with where the new category came from. */
export interface SeverityInputChange {
  readonly input: NcissInput;
  readonly previous: string;
  readonly current: string;
  readonly origin: SeverityOrigin;
}

/** Proposals an incident keeps (the newest): every one is also on its report. */
export const MAX_SEVERITY_PROPOSALS = 50;

/** The inputs a cascade informs. */
export type CascadeInputs = Pick<NcissInputs, 'crossSectorDependency' | 'potentialImpact'>;

/** The severity part of an incident, and what changed in it. */
export interface SeverityOutcome {
  readonly fields: Pick<Incident, 'severityInputs' | 'severity' | 'severityOrigins' | 'severityProposals'>;
  readonly changes: readonly SeverityInputChange[];
}

const reporterOrigin = (report: Report, at: Date): SeverityOrigin => ({
  source: 'reporter',
  agencyId: report.reporterAgencyId,
  reportId: report.id,
  at,
});

/** An incident a report opens: the baseline, with whatever the reporter gave. */
export function openingSeverity(
  report: Report,
  now: Date,
): Pick<Incident, 'severityInputs' | 'severity' | 'severityOrigins'> {
  const given = report.severityInputs ?? {};
  const inputs = withNcissInputs(NCISS_BASELINE, given);
  const origin = reporterOrigin(report, now);
  return {
    severityInputs: inputs,
    severity: scoreSeverity(inputs),
    severityOrigins: Object.fromEntries(givenNcissInputs(given).map((input) => [input, origin])),
  };
}

/** An incident a coordinator opens: the inputs it gave, each off the baseline as its own. */
export function coordinatorOpeningOrigins(inputs: NcissInputs, now: Date): SeverityOrigins {
  const origin: SeverityOrigin = { source: 'coordinator', at: now };
  return Object.fromEntries(changedNcissInputs(NCISS_BASELINE, inputs).map((input) => [input, origin]));
}

/**
 * What a joining report does to the severity: the source agency's own (`revises`) raises each
 * input to its category and never lowers one (a lower category is kept as a proposal, for the
 * coordinator to weigh); anyone else's inputs are all kept as a proposal and change nothing.
 */
export function joiningSeverity(
  incident: Incident,
  report: Report,
  revises: boolean,
  now: Date,
): SeverityOutcome {
  const given = report.severityInputs ?? {};
  if (givenNcissInputs(given).length === 0) return unchanged(incident);
  if (!revises) {
    return {
      fields: { ...unchanged(incident).fields, severityProposals: propose(incident, report, given, now) },
      changes: [],
    };
  }
  const { inputs, raised } = raiseNcissInputs(incident.severityInputs, given);
  const lower = Object.fromEntries(
    givenNcissInputs(given)
      .filter((input) => ncissRank(input, given[input]!) < ncissRank(input, incident.severityInputs[input]))
      .map((input) => [input, given[input]]),
  ) as PartialNcissInputs;
  const proposals =
    givenNcissInputs(lower).length > 0 ? propose(incident, report, lower, now) : incident.severityProposals;
  return applied(incident, inputs, raised, reporterOrigin(report, now), proposals);
}

/** A coordinator's judgement: the inputs replaced, the ones that moved recorded as theirs. */
export function judgedSeverity(incident: Incident, inputs: NcissInputs, now: Date): SeverityOutcome {
  return applied(
    incident,
    inputs,
    changedNcissInputs(incident.severityInputs, inputs),
    { source: 'coordinator', at: now },
    incident.severityProposals,
  );
}

/** Impact's cascade: cross-sector dependency and potential impact raised, never lowered. */
export function cascadeSeverity(incident: Incident, implied: CascadeInputs, now: Date): SeverityOutcome {
  const { inputs, raised } = raiseNcissInputs(incident.severityInputs, {
    crossSectorDependency: implied.crossSectorDependency,
    potentialImpact: implied.potentialImpact,
  });
  return applied(incident, inputs, raised, { source: 'impact', at: now }, incident.severityProposals);
}

function applied(
  incident: Incident,
  inputs: NcissInputs,
  moved: readonly NcissInput[],
  origin: SeverityOrigin,
  proposals: Incident['severityProposals'],
): SeverityOutcome {
  const origins: Record<string, SeverityOrigin> = { ...incident.severityOrigins };
  for (const input of moved) origins[input] = origin;
  return {
    fields: {
      severityInputs: inputs,
      severity: scoreSeverity(inputs),
      severityOrigins: origins,
      severityProposals: proposals,
    },
    changes: moved.map((input) => ({
      input,
      previous: incident.severityInputs[input],
      current: inputs[input],
      origin,
    })),
  };
}

function unchanged(incident: Incident): SeverityOutcome {
  const { severityInputs, severity, severityOrigins, severityProposals } = incident;
  return { fields: { severityInputs, severity, severityOrigins, severityProposals }, changes: [] };
}

function propose(
  incident: Incident,
  report: Report,
  inputs: PartialNcissInputs,
  now: Date,
): readonly SeverityProposal[] {
  const proposal: SeverityProposal = {
    reportId: report.id,
    agencyId: report.reporterAgencyId,
    inputs,
    at: now,
  };
  return [...(incident.severityProposals ?? []), proposal].slice(-MAX_SEVERITY_PROPOSALS);
}
