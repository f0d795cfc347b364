import { compareTlp, observableKey, scoreSeverity, type NcissInputs, type Tlp } from '@beacon/domain';
import { mergeAffectedAssets } from './affected-asset.js';
import type { IntakeEvent } from './events.js';
import {
  canTransition,
  type Incident,
  type IncidentObservable,
  type IncidentStatus,
  type Report,
} from './incident.js';
import {
  cascadeSeverity,
  coordinatorOpeningOrigins,
  joiningSeverity,
  judgedSeverity,
  openingSeverity,
  type CascadeInputs,
  type SeverityOutcome,
} from './severity.js';

/** A rule refused the change; `kind` says which, for the edge to map to a status code. */
export class IntakeRuleError extends Error {
  override readonly name = 'IntakeRuleError';
  constructor(
    readonly kind: 'invalid-transition' | 'already-engaged' | 'not-engaged' | 'closed' | 'full' | 'unchanged',
    message: string,
  ) {
    super(message);
  }
}

/** A state change: the incident after it, and the events it produces. */
export interface Change {
  readonly incident: Incident;
  readonly events: readonly IntakeEvent[];
}

/**
 * An incident and each of its events carry its report ids and observables, so both are
 * bounded: the document within MongoDB's 16 MB, every event within NATS's default 1 MB payload
 * (5,000 ids of ~36 bytes, observables up to 256 KiB of text, values and reported forms). A
 * correlated report beyond `MAX_INCIDENT_REPORTS` opens an incident of its own; observables
 * beyond the incident's bound stay in their reports and in the indicator watchlist, not in the
 * incident.
 */
export const MAX_INCIDENT_REPORTS = 5_000;
export const MAX_INCIDENT_OBSERVABLES = 2_000;
export const MAX_INCIDENT_OBSERVABLE_BYTES = 256 * 1024;

/** Whether a correlated report may still join the incident. */
export function acceptsReports(incident: Incident): boolean {
  return incident.status !== 'closed' && incident.reportIds.length < MAX_INCIDENT_REPORTS;
}

/**
 * Merges observables, each once with the most permissive label it was shared under, within the
 * incident's bounds: what does not fit stays in its reports and the indicator watchlist. A
 * correlated report and a coordinator's merge both go by it.
 */
export function mergeObservables(
  current: readonly IncidentObservable[],
  added: readonly IncidentObservable[],
): IncidentObservable[] {
  const byKey = new Map(current.map((o) => [observableKey(o), o]));
  let bytes = current.reduce((sum, o) => sum + textLength(o), 0);
  for (const o of added) {
    const key = observableKey(o);
    const existing = byKey.get(key);
    if (existing) {
      // The reported form travels with the report whose label the observable keeps. A form
      // that does not fit is dropped, never the observable: the value is what correlates.
      if (compareTlp(o.tlp, existing.tlp) >= 0) continue;
      const kept =
        bytes - textLength(existing) + textLength(o) <= MAX_INCIDENT_OBSERVABLE_BYTES
          ? o
          : withoutReported(o);
      byKey.set(key, kept);
      bytes += textLength(kept) - textLength(existing);
    } else if (
      byKey.size < MAX_INCIDENT_OBSERVABLES &&
      bytes + o.value.length <= MAX_INCIDENT_OBSERVABLE_BYTES
    ) {
      const kept = bytes + textLength(o) <= MAX_INCIDENT_OBSERVABLE_BYTES ? o : withoutReported(o);
      byKey.set(key, kept);
      bytes += textLength(kept);
    }
  }
  return [...byKey.values()];
}

const textLength = (o: IncidentObservable) => o.value.length + (o.reported?.length ?? 0);

function withoutReported({ reported: _dropped, ...o }: IncidentObservable): IncidentObservable {
  return o;
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

function fromReport(report: Report): IncidentObservable[] {
  return report.observables.map((o) => ({ ...o, tlp: report.tlp, reportId: report.id }));
}

/**
 * A new incident made from its first report, at the severity its reporter gave (the baseline for
 * what it did not). The report's own `reported` event travels with the incident change, so both
 * are published from one document write.
 */
export function openFromReport(report: Report, incidentId: string, now: Date): Change {
  const incident: Incident = {
    id: incidentId,
    title: report.title,
    status: 'reported',
    tlp: report.tlp,
    classification: report.classification,
    sectors: [...report.sectors],
    jurisdictions: [...report.jurisdictions],
    ...openingSeverity(report, now),
    severityProposals: [],
    reportIds: [report.id],
    engagedAgencyIds: [],
    sourceAgencyId: report.reporterAgencyId,
    reporterAgencyIds: report.reporterAgencyId ? [report.reporterAgencyId] : [],
    observables: fromReport(report),
    affectedAssets: mergeAffectedAssets(report.affectedAssets),
    awareAt: report.awareAt,
    openedAt: now,
    updatedAt: now,
    version: 1,
  };
  return {
    incident,
    events: [
      { kind: 'reported', report, label: incident.tlp },
      { kind: 'opened', incident },
    ],
  };
}

/** What a coordinator says of an incident they open directly, but for its observables. */
export type IncidentOpening = Pick<
  Incident,
  | 'title'
  | 'tlp'
  | 'classification'
  | 'sectors'
  | 'jurisdictions'
  | 'severityInputs'
  | 'affectedAssets'
  | 'awareAt'
>;

/** An incident a coordinator opens directly. */
export function openDirectly(
  fields: IncidentOpening & Pick<Incident, 'id' | 'observables'>,
  now: Date,
): Change {
  const incident: Incident = {
    ...fields,
    affectedAssets: mergeAffectedAssets(fields.affectedAssets),
    status: 'reported',
    severity: scoreSeverity(fields.severityInputs),
    severityOrigins: coordinatorOpeningOrigins(fields.severityInputs, now),
    severityProposals: [],
    reportIds: [],
    engagedAgencyIds: [],
    sourceAgencyId: undefined,
    reporterAgencyIds: [],
    openedAt: now,
    updatedAt: now,
    version: 1,
  };
  return { incident, events: [{ kind: 'opened', incident }] };
}

/**
 * Attaches a correlated report the reporter may join (`mayJoin`: it reads the incident and the
 * report is not labelled more restrictively). The incident keeps its label: a report never
 * hides an incident from anyone who could read it. Its awareness time moves to the report's,
 * if earlier, only when the report `revises` the incident (the source agency's own report);
 * anyone else's awareness time stays on the report. Likewise its severity inputs raise the
 * incident's only when it revises the incident (then a `severity-changed` event says so when
 * the score moves); anyone else's are kept as a proposal (`joiningSeverity`). Sectors and
 * jurisdictions become the union, affected assets the union with the larger loss of each.
 */
export function attachReport(incident: Incident, report: Report, now: Date, revises: boolean): Change {
  if (incident.status === 'closed') throw new IntakeRuleError('closed', 'the incident is closed');
  if (!acceptsReports(incident)) {
    throw new IntakeRuleError('full', `the incident has ${MAX_INCIDENT_REPORTS} reports already`);
  }
  const severity = joiningSeverity(incident, report, revises, now);
  const next: Incident = {
    ...incident,
    ...severity.fields,
    sectors: union(incident.sectors, report.sectors),
    jurisdictions: union(incident.jurisdictions, report.jurisdictions),
    reportIds: [...incident.reportIds, report.id],
    reporterAgencyIds: report.reporterAgencyId
      ? union(incident.reporterAgencyIds, [report.reporterAgencyId])
      : incident.reporterAgencyIds,
    observables: mergeObservables(incident.observables, fromReport(report)),
    affectedAssets: mergeAffectedAssets(incident.affectedAssets, report.affectedAssets),
    awareAt: revises && report.awareAt < incident.awareAt ? report.awareAt : incident.awareAt,
    updatedAt: now,
    version: incident.version + 1,
  };
  return {
    incident: next,
    events: [
      { kind: 'reported', report, label: next.tlp },
      { kind: 'report-attached', incident: next, reportId: report.id },
      ...severityEvents(incident, next, severity),
    ],
  };
}

/**
 * A coordinator's revision of the incident's label and awareness time (regulatory clocks run
 * from it). Refused when it changes nothing, so every revision in the log is a real one.
 */
export function reviseFacts(
  incident: Incident,
  facts: { readonly tlp?: Tlp | undefined; readonly awareAt?: Date | undefined },
  reason: string,
  now: Date,
): Change {
  const tlp = facts.tlp ?? incident.tlp;
  const awareAt = facts.awareAt ?? incident.awareAt;
  if (tlp === incident.tlp && awareAt.getTime() === incident.awareAt.getTime()) {
    throw new IntakeRuleError('unchanged', 'the incident already has this label and awareness time');
  }
  const next: Incident = { ...incident, tlp, awareAt, updatedAt: now, version: incident.version + 1 };
  return {
    incident: next,
    events: [
      {
        kind: 'facts-revised',
        incident: next,
        previousTlp: incident.tlp,
        previousAwareAt: incident.awareAt,
        reason,
      },
    ],
  };
}

export function transition(incident: Incident, to: IncidentStatus, reason: string, now: Date): Change {
  if (!canTransition(incident.status, to)) {
    throw new IntakeRuleError('invalid-transition', `an incident cannot go from ${incident.status} to ${to}`);
  }
  const next: Incident = { ...incident, status: to, updatedAt: now, version: incident.version + 1 };
  const events: IntakeEvent[] = [
    { kind: 'status-changed', incident: next, previousStatus: incident.status, reason },
  ];
  if (to === 'resolved') events.push({ kind: 'resolved', incident: next });
  return { incident: next, events };
}

/**
 * A coordinator's new severity inputs: the score is recomputed, the inputs that moved are
 * recorded as the coordinator's, and an event is emitted only if the score moved.
 */
export function rescore(incident: Incident, inputs: NcissInputs, now: Date): Change {
  return resevered(incident, judgedSeverity(incident, inputs, now), now);
}

/** Impact's cascade: the two inputs it informs raised (never lowered), recorded as impact's. */
export function raiseByCascade(incident: Incident, implied: CascadeInputs, now: Date): Change {
  return resevered(incident, cascadeSeverity(incident, implied, now), now);
}

function resevered(incident: Incident, severity: SeverityOutcome, now: Date): Change {
  if (incident.status === 'closed') throw new IntakeRuleError('closed', 'the incident is closed');
  const next: Incident = { ...incident, ...severity.fields, updatedAt: now, version: incident.version + 1 };
  return { incident: next, events: severityEvents(incident, next, severity) };
}

/** `severity-changed`, with each input's move and origin, when the score moved. */
function severityEvents(previous: Incident, next: Incident, severity: SeverityOutcome): IntakeEvent[] {
  if (next.severity.score === previous.severity.score) return [];
  return [
    {
      kind: 'severity-changed',
      incident: next,
      previousScore: previous.severity.score,
      previousLevel: previous.severity.level,
      changes: severity.changes,
    },
  ];
}

export function engageAgency(incident: Incident, agencyId: string, now: Date): Change {
  if (incident.status === 'closed') throw new IntakeRuleError('closed', 'the incident is closed');
  if (incident.engagedAgencyIds.includes(agencyId)) {
    throw new IntakeRuleError('already-engaged', `agency ${agencyId} is already engaged`);
  }
  const next: Incident = {
    ...incident,
    engagedAgencyIds: [...incident.engagedAgencyIds, agencyId],
    updatedAt: now,
    version: incident.version + 1,
  };
  return { incident: next, events: [{ kind: 'agency-assigned', incident: next, agencyId }] };
}

/**
 * Ends an agency's engagement, and with it what engagement grants: reading the incident and
 * receiving its events above GREEN (an agency that reported it still reads it as its source).
 * Allowed in every status: taking access away is never too late, a closed incident included.
 */
export function disengageAgency(incident: Incident, agencyId: string, now: Date): Change {
  if (!incident.engagedAgencyIds.includes(agencyId)) {
    throw new IntakeRuleError('not-engaged', `agency ${agencyId} is not engaged`);
  }
  const next: Incident = {
    ...incident,
    engagedAgencyIds: incident.engagedAgencyIds.filter((id) => id !== agencyId),
    updatedAt: now,
    version: incident.version + 1,
  };
  return { incident: next, events: [{ kind: 'agency-unassigned', incident: next, agencyId }] };
}
