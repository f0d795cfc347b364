/**
 * How the response's timeline says where an incident's severity came from: which inputs the
 * reporter gave (which agency, which report), which a coordinator set and which impact's cascade
 * raised, and what other agencies proposed without it being applied. Pure text from intake's
 * record of origins (`IncidentSnapshot.severityOrigins`), so a replay writes the same entries.
 */
import {
  changedNcissInputs,
  givenNcissInputs,
  NCISS_BASELINE,
  NCISS_INPUT_LABELS,
  NCISS_INPUT_NAMES,
  type NcissInput,
} from '@beacon/domain';
import type { IncidentSnapshot, SeverityInputOrigin, SeverityProposal } from '../activities/types.js';

/** Who, in words: `reporter cert-a (report rep_1)`, `a coordinator`, `impact's cascade`. */
export function originText(origin: SeverityInputOrigin | undefined): string {
  if (!origin) return 'no recorded source';
  switch (origin.source) {
    case 'reporter':
      return (
        `reporter ${origin.agencyId ?? 'the coordination centre'}` +
        (origin.reportId ? ` (report ${origin.reportId})` : '')
      );
    case 'coordinator':
      return 'a coordinator';
    case 'impact':
      return "impact's cascade";
  }
}

const category = (incident: IncidentSnapshot, input: NcissInput) =>
  `${NCISS_INPUT_LABELS[input]} ${incident.severityInputs[input]}`;

/**
 * The inputs that are not the baseline (or were set by someone to it), grouped by who set
 * them: `inputs from reporter cert-a (report rep_1): functional impact denial-critical; from
 * impact's cascade: potential impact very-high`. Empty when everything is the baseline.
 */
export function inputsBySource(incident: IncidentSnapshot): string {
  const origins = incident.severityOrigins ?? {};
  const groups = new Map<string, string[]>();
  for (const input of NCISS_INPUT_NAMES) {
    const origin = origins[input];
    if (!origin && incident.severityInputs[input] === NCISS_BASELINE[input]) continue;
    const who = originText(origin);
    groups.set(who, [...(groups.get(who) ?? []), category(incident, input)]);
  }
  if (groups.size === 0) return '';
  return `inputs ${[...groups].map(([who, inputs]) => `from ${who}: ${inputs.join(', ')}`).join('; ')}`;
}

/**
 * What moved between two states of the incident, each with who moved it: `potential impact
 * none → very-high (impact's cascade)`. Empty when no input moved.
 */
export function inputMoves(previous: IncidentSnapshot, next: IncidentSnapshot): string {
  return changedNcissInputs(previous.severityInputs, next.severityInputs)
    .map(
      (input) =>
        `${NCISS_INPUT_LABELS[input]} ${previous.severityInputs[input]} → ${next.severityInputs[input]}` +
        ` (${originText(next.severityOrigins?.[input])})`,
    )
    .join('; ');
}

/** `text` followed by the moves, when any input moved. */
export function withMoves(text: string, previous: IncidentSnapshot, next: IncidentSnapshot): string {
  const moves = inputMoves(previous, next);
  return moves ? `${text}: ${moves}` : text;
}

/** A joining report's inputs that intake kept without applying them. */
export function proposalText(proposal: SeverityProposal): string {
  const inputs = givenNcissInputs(proposal.inputs)
    .map((input) => `${NCISS_INPUT_LABELS[input]} ${proposal.inputs[input]}`)
    .join(', ');
  return (
    `proposed by reporter ${proposal.agencyId ?? 'the coordination centre'} (report ${proposal.reportId}), ` +
    `not applied (only the source agency's reports and coordinators revise the severity): ${inputs}`
  );
}

/** The triage entry: level, score, label, and where the inputs that are not the baseline came from. */
export function triageText(incident: IncidentSnapshot): string {
  const sources = inputsBySource(incident);
  return `NCISS level ${incident.ncissLevel} (score ${incident.ncissScore}), TLP:${incident.tlp}${sources ? `; ${sources}` : ''}`;
}

/** After triage raised what the cascade implies: what moved and whose it is, if anything did. */
export function cascadeText(previous: IncidentSnapshot, next: IncidentSnapshot): string | undefined {
  if (previous.ncissLevel === next.ncissLevel && !inputMoves(previous, next)) return undefined;
  return withMoves(
    `re-scored after the cascade: NCISS level ${previous.ncissLevel} → ${next.ncissLevel}`,
    previous,
    next,
  );
}
