/**
 * The rules of an IncidentResponse's state: how each report, signal and command changes it, and
 * what the timeline says of it (`CommandChecks` says which commands it refuses). Pure (no
 * Temporal calls: where a rule depends on a `patched` answer the caller passes the question in,
 * asked only when the rule needs it), so the rules are unit-tested on their own; the workflow
 * carries them out.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  applicableRegimes,
  obligationSpec,
  whyRegimeNoLongerApplies,
  type ObligationId,
  type RegulatoryFacts,
} from '@beacon/domain';
import type { ImpactSummary, IncidentSnapshot } from '../activities/types.js';
import { engagementTouches, type EngagementDecision } from '../domain/engagement.js';
import { withMoves } from '../domain/severity-origins.js';
import { victimKind } from '../domain/timeline.js';
import {
  SEARCH_ATTRIBUTES,
  type AcknowledgementInput,
  type AgencyEngagementStatus,
  type ClockAlarm,
  type VictimCaseChange,
} from './definitions.js';
import { acknowledgedFields } from './engagement-visibility.js';
import { union } from './final-report.js';
import { ransomFacts, recordRansomPayment } from './ransom-payments.js';
import type { Note, ResponseState } from './response-state.js';
import { schedules } from './response-view.js';

/** Still waiting for an acknowledgement: the engagement is running. */
export const isWaiting = (a: AgencyEngagementStatus): boolean =>
  a.state === 'engaging' || a.state === 'notified';

/** What an acknowledgement leads to. */
export type AcknowledgementOutcome =
  /** Recorded here (or ignored when there is no note). */
  | { readonly forward: false; readonly note?: Note }
  /** The engagement is still running: it is told, and reports the acknowledgement itself. */
  | { readonly forward: true; readonly agency: AgencyEngagementStatus };

/** What applying a newer incident from intake changed. */
export interface IncidentChange {
  /** Said on the timeline; absent when nothing the response follows changed. */
  readonly note?: Note;
  /** The label or awareness time was revised, and the response follows such revisions. */
  readonly revised: boolean;
}

export class ResponseLedger {
  constructor(
    private readonly incidentId: string,
    private readonly state: ResponseState,
  ) {}

  /** The search attributes whose values changed since last written, recorded as written now. */
  searchAttributeChanges(): SearchAttributeUpdatePair[] {
    const { state } = this;
    const incident = state.incident;
    const values: Record<keyof typeof SEARCH_ATTRIBUTES, unknown> = {
      IncidentId: this.incidentId,
      IncidentStatus: state.phase,
      NcissLevel: incident?.ncissLevel,
      Tlp: incident?.tlp,
      Sectors: incident ? union(incident.sectors, state.impact?.sectorsReached ?? []) : undefined,
      Jurisdictions: incident
        ? union(incident.jurisdictions, state.impact?.jurisdictionsReached ?? [])
        : undefined,
    };
    const pairs: SearchAttributeUpdatePair[] = [];
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined || JSON.stringify(state.searchAttributes[name]) === JSON.stringify(value))
        continue;
      state.searchAttributes[name] = value;
      pairs.push({
        key: SEARCH_ATTRIBUTES[name as keyof typeof SEARCH_ATTRIBUTES],
        value,
      } as SearchAttributeUpdatePair);
    }
    return pairs;
  }

  // ---- engagements ----------------------------------------------------------------------------

  /** Agencies the rules would engage but did not clear: each recorded once, with its note. */
  notCleared(skipped: readonly EngagementDecision[]): Note[] {
    const notes: Note[] = [];
    for (const s of skipped) {
      if (this.state.notCleared.some((n) => n.agencyId === s.agencyId)) continue;
      this.state.notCleared.push(s);
      notes.push({ kind: 'engagement', agencyId: s.agencyId, detail: `not engaged: ${s.reasons.at(-1)}` });
    }
    return notes;
  }

  /**
   * Engaged agencies the rules no longer name stay engaged: whether one goes is the
   * coordinator's call (RemoveAgency), put to them once on the timeline.
   */
  noLongerNamed(named: ReadonlySet<string>): Note[] {
    const { state } = this;
    const notes: Note[] = [];
    for (const a of Object.values(state.agencies)) {
      if (a.state === 'removed' || named.has(a.agencyId) || state.unmatched?.includes(a.agencyId)) continue;
      (state.unmatched ??= []).push(a.agencyId);
      notes.push({
        kind: 'engagement',
        agencyId: a.agencyId,
        detail:
          'no longer named by the engagement rules for the incident as it now is; still engaged until a coordinator removes it',
      });
    }
    return notes;
  }

  /** An engagement starts: recorded as engaging from `nowMs`. */
  engaging(agencyId: string, reasons: readonly string[], nowMs: number): void {
    this.state.agencies[agencyId] = {
      agencyId,
      state: 'engaging',
      reasons,
      noticesSent: 0,
      startedAtMs: nowMs,
    };
  }

  /** The engagement as it was (`agency`) ended: recorded as removed. */
  removed(agency: AgencyEngagementStatus): void {
    this.state.agencies[agency.agencyId] = { ...agency, state: 'removed' };
  }

  /**
   * An acknowledgement arrived. One from an agency not engaged is only noted; one after the
   * engagement ended is ignored, unless it gave up (unacknowledged): then it still counts, late.
   */
  acknowledgement(ack: AcknowledgementInput): AcknowledgementOutcome {
    const agency = this.state.agencies[ack.agencyId];
    if (!agency) {
      const detail = `acknowledgement from ${ack.agencyId}, which this response does not engage`;
      return { forward: false, note: { kind: 'acknowledged', agencyId: ack.agencyId, detail } };
    }
    if (agency.state === 'acknowledged' || agency.state === 'removed') return { forward: false };
    if (agency.state !== 'unacknowledged') return { forward: true, agency };
    this.state.agencies[ack.agencyId] = {
      ...agency,
      state: 'acknowledged',
      ...acknowledgedFields(ack),
      timeToAcknowledgeMs: Math.max(0, ack.atMs - agency.startedAtMs),
    };
    return {
      forward: false,
      note: { kind: 'acknowledged', agencyId: ack.agencyId, detail: `acknowledged late, via ${ack.via}` },
    };
  }

  /** The engagement (as it was, `agency`) could not be told of the acknowledgement: recorded here. */
  acknowledgedHere(agency: AgencyEngagementStatus, ack: AcknowledgementInput): Note {
    this.state.agencies[ack.agencyId] = { ...agency, state: 'acknowledged', ...acknowledgedFields(ack) };
    return { kind: 'acknowledged', agencyId: ack.agencyId, detail: `acknowledged via ${ack.via}` };
  }

  /**
   * Intake says a coordinator unassigned the agency there; remembered to be checked. The echo of
   * the response's own removal is dropped. An agency not engaged here yet is remembered when
   * `unknownCounts` says so: the coordinator's assignment may still be on its way, and must not
   * outlive the removal that followed it.
   */
  unassignedInIntake(agencyId: string, unknownCounts: () => boolean): void {
    const { state } = this;
    const agency = state.agencies[agencyId];
    const counts = !agency && unknownCounts();
    if ((!agency && !counts) || agency?.state === 'removed') return;
    if (state.pendingUnassigned?.includes(agencyId)) return;
    state.pendingUnassigned = [...(state.pendingUnassigned ?? []), agencyId];
  }

  /** The agencies announced as unassigned, taken to be checked. */
  takeUnassigned(): string[] {
    const ids = this.state.pendingUnassigned ?? [];
    this.state.pendingUnassigned = undefined;
    return ids;
  }

  /** The engagements waiting for an acknowledgement. */
  waitingAgencyIds(): string[] {
    return Object.values(this.state.agencies)
      .filter(isWaiting)
      .map((a) => a.agencyId);
  }

  // ---- the incident and its cascade -----------------------------------------------------------

  /** Intake announced the incident; only a newer version than any known is kept. */
  offerIncident(incident: IncidentSnapshot): void {
    const known = this.state.pendingIncident?.version ?? this.state.incident?.version ?? 0;
    if (incident.version > known) this.state.pendingIncident = incident;
  }

  /** Impact announced an assessment; only a newer revision than any known is kept. */
  offerImpact(summary: ImpactSummary): void {
    const known = this.state.pendingImpact?.revision ?? this.state.impact?.revision ?? 0;
    if ((summary.revision ?? 0) > known) this.state.pendingImpact = summary;
  }

  /** The announced incident, taken, with the one it replaces; none unless it is newer. */
  takeIncident(): { readonly previous: IncidentSnapshot; readonly next: IncidentSnapshot } | undefined {
    const next = this.state.pendingIncident;
    this.state.pendingIncident = undefined;
    const previous = this.state.incident;
    if (!next || !previous || next.version <= previous.version) return undefined;
    return { previous, next };
  }

  /** Whether the incident names an agency this response has not engaged. */
  namesNewAgency(incident: IncidentSnapshot): boolean {
    return incident.engagedAgencyIds.some((id) => !this.state.agencies[id]);
  }

  /**
   * The incident is now `next`: says what changed that the response follows (severity, agencies
   * engaged in intake, and the label or awareness time when `followsRevisions`, asked only when
   * either changed).
   */
  applyIncident(
    previous: IncidentSnapshot,
    next: IncidentSnapshot,
    followsRevisions: () => boolean,
  ): IncidentChange {
    this.state.incident = next;
    const moved =
      JSON.stringify(previous.severityInputs) !== JSON.stringify(next.severityInputs) ||
      previous.ncissLevel !== next.ncissLevel;
    const newlyEngaged = next.engagedAgencyIds.filter((id) => !this.state.agencies[id]);
    const revised =
      (previous.tlp !== next.tlp || previous.awareAtMs !== next.awareAtMs) && followsRevisions();
    const what = [
      ...(moved
        ? [withMoves(`severity now ${next.ncissScore} (level ${next.ncissLevel})`, previous, next)]
        : []),
      ...(revised ? [`TLP:${next.tlp}, aware since ${new Date(next.awareAtMs).toISOString()}`] : []),
      ...(newlyEngaged.length > 0 ? [`engaged there: ${newlyEngaged.join(', ')}`] : []),
    ];
    if (what.length === 0) return { revised };
    return { note: { kind: 'incident-changed', detail: `intake: ${what.join('; ')}` }, revised };
  }

  /**
   * The announced assessment replaces the cascade the response acts on, if it is newer than the
   * one it has: the note on what it newly reaches, or none.
   */
  takeImpact(): Note | undefined {
    const { state } = this;
    const next = state.pendingImpact!;
    state.pendingImpact = undefined;
    const previous = state.impact;
    if ((next.revision ?? 0) <= (previous?.revision ?? 0)) return undefined;
    state.impact = next;
    const place = (p: { sector: string; jurisdiction: string }) => `${p.sector} in ${p.jurisdiction}`;
    const before = new Set((previous?.placesReached ?? []).map(place));
    const added = (next.placesReached ?? []).map(place).filter((p) => !before.has(p));
    return {
      kind: 'impact',
      detail: `re-assessed: ${next.impactedAssets} assets, ${next.populationAffected} people; newly reached: ${added.join(', ') || 'none'}`,
    };
  }

  // ---- regimes and reports --------------------------------------------------------------------

  /** The incident and its cascade as the regulatory rules read them. */
  regulatoryFacts(): RegulatoryFacts {
    const { state } = this;
    const incident = state.incident!;
    return {
      jurisdictions: union(incident.jurisdictions, state.impact?.jurisdictionsReached ?? []),
      sectors: union(incident.sectors, state.impact?.sectorsReached ?? []),
      // By place once impact tallies places; an older worker's assessment, as it read it.
      ...(state.impact?.placesReached ? { places: engagementTouches(incident, state.impact) } : {}),
      ncissLevel: incident.ncissLevel,
      functionalImpact: incident.severityInputs.functionalImpact,
      ...ransomFacts(state),
    };
  }

  /**
   * Brings the regimes in line with `facts`: withdraws those that no longer apply (when
   * `withdraws`, asked for each: histories from before withdrawals kept them), brings back
   * those that apply again, adds new ones (their clocks not started) and the obligations a
   * regime newly requires (never removes one: a report once owed stays owed).
   */
  reconcileRegimes(facts: RegulatoryFacts, nowMs: number, withdraws: () => boolean): Note[] {
    const notes: Note[] = [];
    const applicable = applicableRegimes(facts);
    for (const r of this.state.regimes) {
      const reason = r.withdrawn ? undefined : whyRegimeNoLongerApplies(r.regime, facts);
      if (reason === undefined || !withdraws()) continue;
      r.withdrawn = { reason, atMs: nowMs };
      notes.push({ kind: 'regime', detail: `${r.regime} withdrawn: it no longer applies (${reason})` });
    }
    for (const a of applicable) {
      const r = this.state.regimes.find((x) => x.regime === a.regime);
      if (r?.withdrawn) {
        r.withdrawn = undefined;
        r.reasons = [...a.reasons];
        notes.push({ kind: 'regime', detail: `${a.regime} applies again: ${a.reasons.join('; ')}` });
      }
      if (!r) {
        this.state.regimes.push({
          regime: a.regime,
          obligations: [...a.obligations],
          reasons: [...a.reasons],
          clockStarted: false,
        });
        notes.push({ kind: 'regime', detail: `${a.regime} applies: ${a.reasons.join('; ')}` });
        continue;
      }
      const added = a.obligations.filter((o) => !r.obligations.includes(o));
      if (added.length === 0) continue;
      r.obligations.push(...added);
      r.reasons = [...a.reasons];
      notes.push({
        kind: 'regime',
        detail: `${a.regime} now also requires ${added.map((o) => obligationSpec(o).title).join(', ')}`,
      });
    }
    return notes;
  }

  /** A clock raised an alarm: the obligation's overdue state and escalation level follow. */
  alarm(alarm: ClockAlarm): Note {
    const current = this.state.alarms[alarm.obligation] ?? { overdue: false, escalationLevel: 0 };
    if (alarm.kind === 'overdue') current.overdue = true;
    if (alarm.kind === 'escalation') {
      current.overdue = true;
      current.escalationLevel = Math.max(current.escalationLevel, alarm.level);
    }
    this.state.alarms[alarm.obligation] = current;
    const title = obligationSpec(alarm.obligation).title;
    return {
      kind: alarm.kind,
      obligation: alarm.obligation,
      detail:
        alarm.kind === 'reminder'
          ? `${title} due ${new Date(alarm.dueAtMs).toISOString()}`
          : alarm.kind === 'overdue'
            ? `${title} is overdue`
            : `${title} still overdue: escalation ${alarm.level}`,
    };
  }

  fileReport(obligation: ObligationId, atMs: number, reference: string): Note {
    this.state.filed[obligation] = { atMs, reference };
    return {
      kind: 'report-filed',
      obligation,
      detail: `${obligationSpec(obligation).title} filed (${reference})`,
    };
  }

  /** Each payment owes its own report (the first one as responses always recorded it). */
  recordRansomPayment(paidAtMs: number): Note {
    return { kind: 'ransom', detail: recordRansomPayment(this.state, paidAtMs) };
  }

  requestResolution(summary: string, nowMs: number): Note {
    this.state.resolution = { requestedAtMs: nowMs, summary };
    return { kind: 'resolved', detail: `resolution requested: ${summary}` };
  }

  /** What the resolved response still waits for. */
  waitingNote(): Note {
    const titles = schedules(this.state)
      .filter((o) => !this.state.filed[o.id])
      .map((o) => o.title);
    return { kind: 'waiting', detail: `waiting for ${titles.join(', ')}` };
  }

  // ---- victims --------------------------------------------------------------------------------

  /** Starts following the case up, unless it is already: its note, or none. */
  followingUp(caseId: string): Note | undefined {
    if (this.state.victimCases[caseId]) return undefined;
    this.state.victimCases[caseId] = { caseId, state: 'following-up', urgency: 'unknown' };
    return { kind: 'victim', detail: `following up victim case ${caseId}` };
  }

  /** Starts following up the cases not followed yet: those, with one note for all. */
  followingUpAll(caseIds: readonly string[]): { readonly fresh: string[]; readonly note?: Note } {
    const fresh = [...new Set(caseIds)].filter((caseId) => !this.state.victimCases[caseId]);
    if (fresh.length === 0) return { fresh };
    for (const caseId of fresh)
      this.state.victimCases[caseId] = { caseId, state: 'following-up', urgency: 'unknown' };
    const detail =
      fresh.length === 1
        ? `following up victim case ${fresh[0]}`
        : `following up ${fresh.length} victim cases`;
    return { fresh, note: { kind: 'victim', detail } };
  }

  /** A follow-up reported: an escalation stands through completion; an unknown urgency keeps the known one. */
  victimChange(change: VictimCaseChange): Note {
    const current = this.state.victimCases[change.caseId] ?? {
      caseId: change.caseId,
      state: 'following-up',
      urgency: 'unknown',
    };
    this.state.victimCases[change.caseId] = {
      ...current,
      urgency: change.urgency === 'unknown' ? current.urgency : change.urgency,
      state:
        change.event === 'escalated'
          ? 'escalated'
          : change.event === 'completed'
            ? current.state === 'escalated'
              ? 'escalated'
              : 'completed'
            : change.event === 'unavailable'
              ? 'unavailable'
              : current.state,
      ...(change.day === undefined ? {} : { lastCheckInDay: change.day }),
    };
    return {
      kind: victimKind(change.event),
      detail: `case ${change.caseId}: ${change.event} — ${change.detail}`,
    };
  }
}
