import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  applyEngagementChange,
  childEngagements,
  INLINE_ENGAGEMENTS_PATCH,
  inlineEngagements,
  type InlineEngagementState,
} from './engagement-runs.js';
import {
  applicableRegimes,
  draftReport,
  invalidNcissInputs,
  isCriminal,
  classification as classify,
  isObligationId,
  mustFileBeforeResolving,
  obligationSpec,
  ransomPayments,
  scheduleObligations,
  whyRegimeNoLongerApplies,
  type Applicability,
  type DraftFacts,
  type NcissInputs,
  type ObligationId,
  type Regime,
  type RegulatoryFacts,
} from '@beacon/domain';
import type { ImpactSummary, IncidentSnapshot } from '../activities/types.js';
import {
  decideEngagements,
  engagementTouches,
  escalationChain,
  type AgencyProfile,
  type EngagementDecision,
} from '../domain/engagement.js';
import { FailureType } from '../domain/failures.js';
import { cascadeText, triageText, withMoves } from '../domain/severity-origins.js';
import { DEFAULT_POLICY, type ResponsePolicy } from '../domain/policy.js';
import { victimKind } from '../domain/timeline.js';
import {
  acknowledgedSignal,
  acknowledgeUpdate,
  addAgencyUpdate,
  agencyUnassignedSignal,
  changeSeverityUpdate,
  clockAlarmSignal,
  clockFactsSignal,
  clockWorkflowId,
  engagementChangedSignal,
  escalateUpdate,
  fileReportUpdate,
  impactChangedSignal,
  incidentChangedSignal,
  incidentResolvedSignal,
  linkVictimCaseSignal,
  recordRansomPaymentUpdate,
  removeAgencyUpdate,
  reportFiledSignal,
  resolveUpdate,
  SEARCH_ATTRIBUTES,
  statusQuery,
  timelineQuery,
  victimCaseChangedSignal,
  victimCasesChangedSignal,
  type VictimCaseChange,
  victimFollowUpWorkflowId,
  VICTIM_FOLLOW_UP_PRIORITY,
  type AcknowledgeCommand,
  type AcknowledgementInput,
  type AgencyEngagementStatus,
  type EngagementChange,
  type FileReportCommand,
  type IncidentResponseInput,
  type ObligationStatus,
  type ResponseOutcome,
  type ResponsePhase,
  type ResponseStatus,
  type VictimCaseStatus,
} from './definitions.js';
import { ESCALATE_REPORTS_PATCH, ESCALATION_REPORT_WAIT_MS, escalationReported } from './escalation.js';
import { finalReport, union } from './final-report.js';
import { MERGE_HAND_OVER_PATCH, mergeHandOver, relabelEngagements } from './merge-hand-over.js';
import type { HandOverState } from './merge-hand-over-state.js';
import { classic, countedQuick, events, failureType, impact, quick, signalQuietly } from './proxies.js';
import { acknowledgedFields, followEngagements } from './engagement-visibility.js';
import { ransomFacts, ransomPaymentProblem, recordRansomPayment } from './ransom-payments.js';
import { regulatoryClock } from './regulatory-clock.js';
import { noteSeverityProposals } from './severity-notes.js';
import { keepTimeline, type TimelineState } from './timeline-keeper.js';
import { victimFollowUp } from './victim-follow-up.js';
import { VICTIM_FOLLOW_UPS_PATCH } from './victim-follow-ups.js';
import { victimHandOver, type VictimHandOverState } from './victim-hand-over.js';

/** Responses from here on never let a late assignment undo a coordinator's removal. */
const UNASSIGNMENT_PATCH = 'unassignment-wins';
/** Responses from here on withdraw a regime that no longer applies (it was kept before). */
const WITHDRAW_REGIMES_PATCH = 'withdraw-regimes';
/**
 * Responses from here on are lean (`ResponseState.lean`): asked once, as a new response starts.
 */
export const LEAN_TRIAGE_PATCH = 'lean-triage';

interface RegimeState {
  readonly regime: Regime;
  obligations: ObligationId[];
  reasons: string[];
  clockStarted: boolean;
  /** Set while the regime no longer applies to the incident as it now is; cleared if it does again. */
  withdrawn?: { reason: string; atMs: number };
}

interface AlarmState {
  overdue: boolean;
  escalationLevel: number;
}

/**
 * Everything a run hands to the next on continue-as-new; the timeline's newest entries among it
 * (every entry is in the timeline store, `timeline-keeper.ts`).
 */
interface ResponseState extends TimelineState, VictimHandOverState {
  phase: ResponsePhase;
  incident?: IncidentSnapshot;
  impact?: ImpactSummary;
  agencies: Record<string, AgencyEngagementStatus>;
  notCleared: EngagementDecision[];
  regimes: RegimeState[];
  filed: Partial<Record<ObligationId, { atMs: number; reference: string }>>;
  alarms: Partial<Record<ObligationId, AlarmState>>;
  ransomPaidAtMs?: number;
  /** Every payment once there is a second (`ransom-payments.ts`). */
  ransomPaymentsAtMs?: number[];
  victimCases: Record<string, VictimCaseStatus>;
  victimsChecked: boolean;
  resolution?: { requestedAtMs: number; summary: string };
  resolvedAtMs?: number;
  closedAtMs?: number;
  finalReport?: Record<string, unknown>;
  /** The newest incident intake announced, not yet applied. */
  pendingIncident?: IncidentSnapshot;
  /** The newest assessment impact announced, not yet applied. */
  pendingImpact?: ImpactSummary;
  /** Engaged agencies the rules no longer name, already put to the coordinator. */
  unmatched?: string[];
  /** Agencies intake announced as unassigned there, not yet checked. */
  pendingUnassigned?: string[];
  /** Search attribute values last written, to write only changes. */
  searchAttributes: Record<string, unknown>;
  runs: number;
  /** Merges into or of this incident (absent in runs from before merges). */
  merge?: HandOverState;
  /**
   * A lean response (`lean-triage`; absent in responses from before it): its short calls to the
   * services are local activities (`quick`), its children start together rather than one
   * workflow task after another, and it reads the registry and the victim cases side by side.
   */
  lean?: boolean;
  /** Its engagements run inside it (`inline-engagements`, which implies `lean`). */
  inline?: boolean;
  /** The engagements running inside it, as one run hands them to the next. */
  engagementRuns?: Record<string, InlineEngagementState>;
}

/**
 * The response to one incident (`incident-<id>`), started by the starter when intake opens it.
 *
 * Triage: reads the incident, has impact assess its cascade, raises the severity inputs the
 * cascade implies, then decides which agencies to engage (one AgencyEngagement child each),
 * which regulatory regimes apply (one RegulatoryClock child each) and follows up the linked
 * victim cases (one VictimFollowUp each). Then it is active: coordinators' commands arrive as
 * validated updates, acknowledgements and alarms as signals. Resolution is refused while a
 * report that must come first is unfiled; once resolved it publishes its final report, waits
 * for the regimes' final reports and closes the incident. The search attributes follow along;
 * the history is handed to a new run before it grows large. Children outlive a run
 * (ParentClosePolicy.ABANDON) and reach the current one through signals by workflow id.
 */
export async function incidentResponse(input: IncidentResponseInput): Promise<ResponseOutcome> {
  const { incidentId } = input;
  const policy: ResponsePolicy = input.policy ?? DEFAULT_POLICY;
  const self = workflowInfo().workflowId;
  // Asked only where it changes what the response does, so other histories stay as they were.
  const unassignmentWins = () => patched(UNASSIGNMENT_PATCH);
  const state: ResponseState = (input.resumed as ResponseState | undefined) ?? {
    phase: 'triage',
    agencies: {},
    notCleared: [],
    regimes: [],
    filed: {},
    alarms: {},
    victimCases: {},
    victimsChecked: false,
    timeline: [],
    searchAttributes: {},
    runs: 1,
  };

  // Asked once, first thing in a new response; a later run has the answer in its state. A new
  // response records one marker (each writes a search attribute): the newest implies the
  // others (one workflow for its victim cases, then engagements inside it, then a lean
  // response). Responses from before asked `inline-engagements`, `lean-triage`, or nothing.
  if (state.phase === 'triage') {
    state.victimFollowUps ??= patched(VICTIM_FOLLOW_UPS_PATCH);
    state.inline ??= state.victimFollowUps || patched(INLINE_ENGAGEMENTS_PATCH);
    state.lean ??= state.inline || patched(LEAN_TRIAGE_PATCH);
  }
  /** Local activities counted while out, in a response whose engagements run inside it. */
  const counted = state.inline ? countedQuick() : undefined;
  /** The response's calls to the services, as its history was recorded (see `lean`). */
  const calls = () => counted?.calls ?? (state.lean ? quick : classic);
  // A lean response keeps its timeline in the store and its engagements in Visibility without
  // asking those older patches (each marker costs a search attribute write).
  const timeline = keepTimeline(incidentId, state, {
    store: () => calls().timelineStore,
    implied: state.lean === true,
    ...(counted ? { busy: counted.busy } : {}),
  });
  const note = timeline.note;

  // ---- search attributes -------------------------------------------------------------------
  const publishSearchAttributes = () => {
    const incident = state.incident;
    const values: Record<keyof typeof SEARCH_ATTRIBUTES, unknown> = {
      IncidentId: incidentId,
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
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    visibility.publish();
  };
  const enter = (phase: ResponsePhase) => {
    state.phase = phase;
    publishSearchAttributes();
  };

  // ---- regulatory view, computed from state ------------------------------------------------
  /** Every applicable obligation with its deadline as things stand, soonest first. */
  const schedules = () =>
    state.regimes
      .flatMap((r) =>
        // A withdrawn regime owes nothing more; what was filed under it stays on record.
        scheduleObligations(r.withdrawn ? r.obligations.filter((o) => state.filed[o]) : r.obligations, {
          awareAtMs: state.incident?.awareAtMs ?? 0,
          filedAtMs: Object.fromEntries(Object.entries(state.filed).map(([id, f]) => [id, f!.atMs])),
          ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
          ...ransomFacts(state),
        }),
      )
      .sort((x, y) => (x.dueAtMs ?? Infinity) - (y.dueAtMs ?? Infinity));
  const draftFacts = (): DraftFacts => {
    const i = state.incident!;
    const c = classify(i.rsitClass, i.rsitType);
    return {
      incidentId,
      title: i.title,
      rsitClass: i.rsitClass,
      rsitType: i.rsitType,
      sectors: i.sectors,
      jurisdictions: i.jurisdictions,
      ncissScore: i.ncissScore,
      ncissLevel: i.ncissLevel,
      tlp: i.tlp,
      awareAtMs: i.awareAtMs,
      criminalSuspected: c !== undefined && isCriminal(c),
      ...(state.impact
        ? {
            impact: {
              impactedAssets: state.impact.impactedAssets,
              populationAffected: state.impact.populationAffected,
              sectorsReached: state.impact.sectorsReached,
              jurisdictionsReached: state.impact.jurisdictionsReached,
            },
          }
        : {}),
      ...ransomFacts(state),
      engagedAgencyIds: Object.values(state.agencies)
        .filter((a) => a.state !== 'removed')
        .map((a) => a.agencyId),
      ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
      ...(state.resolution ? { resolutionSummary: state.resolution.summary } : {}),
    };
  };
  const obligationStatuses = (withDrafts: boolean): ObligationStatus[] => {
    const now = Date.now();
    const facts = withDrafts && state.incident ? draftFacts() : undefined;
    return schedules().map((o) => {
      const filed = state.filed[o.id];
      const alarm = state.alarms[o.id];
      const overdue = !filed && o.dueAtMs !== undefined && o.dueAtMs <= now;
      return {
        id: o.id,
        regime: o.regime,
        title: o.title,
        phase: o.phase,
        ...(o.dueAtMs === undefined ? {} : { dueAtMs: o.dueAtMs }),
        state: filed ? 'filed' : overdue ? 'overdue' : 'open',
        ...(filed ? { filedAtMs: filed.atMs, reference: filed.reference } : {}),
        mustFileBeforeResolving: mustFileBeforeResolving(o, now),
        escalationLevel: alarm?.escalationLevel ?? 0,
        ...(facts ? { draft: draftReport(o.id, facts) } : {}),
      };
    });
  };
  const resolveBlockers = (): string[] => {
    const now = Date.now();
    return schedules()
      .filter((o) => !state.filed[o.id] && mustFileBeforeResolving(o, now))
      .map(
        (o) =>
          `${o.title} is not filed` +
          (o.dueAtMs === undefined ? '' : ` (due ${new Date(o.dueAtMs).toISOString()})`),
      );
  };
  const allReportsFiled = () => schedules().every((o) => state.filed[o.id] !== undefined);

  /**
   * The response as it stands. Updates return it without the report drafts: an update's result
   * is stored in the history, and drafts are the bulk of it; the status query has them.
   */
  const status = (withDrafts = false): ResponseStatus => {
    const i = state.incident;
    return {
      incidentId,
      phase: state.phase,
      title: i?.title ?? '',
      tlp: i?.tlp ?? 'RED',
      ncissScore: i?.ncissScore ?? 0,
      ncissLevel: i?.ncissLevel ?? 0,
      sectors: i ? union(i.sectors, state.impact?.sectorsReached ?? []) : [],
      jurisdictions: i ? union(i.jurisdictions, state.impact?.jurisdictionsReached ?? []) : [],
      awareAtMs: i?.awareAtMs ?? 0,
      ...(state.impact ? { impact: state.impact } : {}),
      agencies: Object.values(state.agencies).sort((a, b) => a.agencyId.localeCompare(b.agencyId)),
      notCleared: state.notCleared,
      regimes: state.regimes.map((r) => ({
        regime: r.regime,
        reasons: r.reasons,
        ...(r.withdrawn ? { withdrawnReason: r.withdrawn.reason, withdrawnAtMs: r.withdrawn.atMs } : {}),
      })),
      obligations: obligationStatuses(withDrafts),
      resolveBlockers: state.phase === 'active' || state.phase === 'triage' ? resolveBlockers() : [],
      victimCases: Object.values(state.victimCases),
      ...(state.ransomPaidAtMs === undefined ? {} : { ransomPaidAtMs: state.ransomPaidAtMs }),
      ransomPaymentsAtMs: ransomPayments(state),
      ...(state.resolvedAtMs === undefined ? {} : { resolvedAtMs: state.resolvedAtMs }),
      ...(state.closedAtMs === undefined ? {} : { closedAtMs: state.closedAtMs }),
      ...(state.resolution ? { resolutionSummary: state.resolution.summary } : {}),
      ...(state.finalReport ? { finalReport: state.finalReport } : {}),
      runs: state.runs,
    };
  };

  // Where agencies list their engagements from (engagement-visibility.ts).
  const visibility = followEngagements(status, policy, state.lean === true);

  // ---- children ----------------------------------------------------------------------------
  const startEngagement = async (
    agency: AgencyProfile,
    reasons: readonly string[],
    registryNow: AgencyProfile[],
  ) => {
    const incident = state.incident!;
    const chain = escalationChain(agency, registryNow);
    state.agencies[agency.id] = {
      agencyId: agency.id,
      state: 'engaging',
      reasons,
      noticesSent: 0,
      startedAtMs: Date.now(),
    };
    note({
      kind: 'engagement',
      agencyId: agency.id,
      detail: `engaging ${agency.name}: ${reasons.join('; ')}`,
    });
    try {
      await engagements.start({
        incidentId,
        agencyId: agency.id,
        parentWorkflowId: self,
        tlp: incident.tlp,
        ncissLevel: incident.ncissLevel,
        chain,
        ...(incident.engagedAgencyIds.includes(agency.id) && unassignmentWins()
          ? { assignedInIntake: true }
          : {}),
        // A child of a lean response assigns with a local activity; inside the response it is an
        // activity (v7's first recordings, which used a local one, did not replay: see README).
        ...(state.lean && !state.inline ? { lean: true } : {}),
      });
    } catch (error) {
      // Already running (a run before continue-as-new started it): it reports here anyway.
      log.warn('engagement not started', { agencyId: agency.id, error: String(error) });
    }
  };

  const engage = async (decisions: readonly EngagementDecision[]) => {
    if (decisions.length === 0) return;
    const registryNow = await calls().registry.listAgencies();
    for (const decision of decisions) {
      const current = state.agencies[decision.agencyId];
      if (current && current.state !== 'removed') continue;
      const agency = registryNow.find((a) => a.id === decision.agencyId);
      if (!agency) {
        note({
          kind: 'engagement',
          agencyId: decision.agencyId,
          detail: `no agency ${decision.agencyId} in the registry`,
        });
        continue;
      }
      await startEngagement(agency, decision.reasons, registryNow);
    }
  };

  /** Applies the engagement rules to the incident as it is now; engages whom they newly name. */
  const decideAndEngage = async (registryRead?: AgencyProfile[]) => {
    const incident = state.incident!;
    const registryNow = registryRead ?? (await calls().registry.listAgencies());
    const { engage: decided, notCleared } = decideEngagements(
      {
        rsitClass: incident.rsitClass,
        rsitType: incident.rsitType,
        touches: engagementTouches(incident, state.impact),
        ncissLevel: incident.ncissLevel,
        tlp: incident.tlp,
        engagedAgencyIds: incident.engagedAgencyIds,
      },
      registryNow,
    );
    for (const skipped of notCleared) {
      if (!state.notCleared.some((n) => n.agencyId === skipped.agencyId)) {
        state.notCleared.push(skipped);
        note({
          kind: 'engagement',
          agencyId: skipped.agencyId,
          detail: `not engaged: ${skipped.reasons.at(-1)}`,
        });
      }
    }
    const starting = decided.filter((d) => !state.agencies[d.agencyId]);
    const start = (d: EngagementDecision) =>
      startEngagement(
        registryNow.find((a) => a.id === d.agencyId)!,
        d.reasons,
        registryNow,
      );
    // A lean response starts them together, in one workflow task.
    if (state.lean) await Promise.all(starting.map(start));
    else {
      for (const decision of decided) {
        if (state.agencies[decision.agencyId]) continue;
        await start(decision);
      }
    }
    // An agency the rules engaged and no longer name stays engaged: whether it goes is the
    // coordinator's call (RemoveAgency), put to them once on the timeline.
    const named = new Set(decided.map((d) => d.agencyId));
    for (const a of Object.values(state.agencies)) {
      if (a.state === 'removed' || named.has(a.agencyId) || state.unmatched?.includes(a.agencyId)) continue;
      (state.unmatched ??= []).push(a.agencyId);
      note({
        kind: 'engagement',
        agencyId: a.agencyId,
        detail:
          'no longer named by the engagement rules for the incident as it now is; still engaged until a coordinator removes it',
      });
    }
  };

  /**
   * Impact assessed the incident again: the cascade the response acts on is replaced, and the
   * engagements and regimes follow it. (Impact feeds the new severity inputs to intake itself;
   * that change arrives as an incident change.)
   */
  const followImpact = async () => {
    const next = state.pendingImpact!;
    state.pendingImpact = undefined;
    const previous = state.impact;
    if ((next.revision ?? 0) <= (previous?.revision ?? 0)) return;
    state.impact = next;
    const place = (p: { sector: string; jurisdiction: string }) => `${p.sector} in ${p.jurisdiction}`;
    const before = new Set((previous?.placesReached ?? []).map(place));
    const added = (next.placesReached ?? []).map(place).filter((p) => !before.has(p));
    note({
      kind: 'impact',
      detail: `re-assessed: ${next.impactedAssets} assets, ${next.populationAffected} people; newly reached: ${added.join(', ') || 'none'}`,
    });
    publishSearchAttributes();
    await decideAndEngage();
    await updateRegimes();
  };

  const clockFacts = (r: RegimeState) => ({
    obligations: r.obligations,
    ...(r.withdrawn ? { withdrawn: true } : {}),
    draftFacts: draftFacts(),
    ...ransomFacts(state),
    // A merge may move the awareness time earlier and raise the label: the clocks follow.
    ...(patched(MERGE_HAND_OVER_PATCH)
      ? { awareAtMs: state.incident!.awareAtMs, tlp: state.incident!.tlp }
      : {}),
  });

  /** Starts a clock for each regime that newly applies, and tells running clocks what changed. */
  const updateRegimes = async () => {
    const incident = state.incident!;
    const facts: RegulatoryFacts = {
      jurisdictions: union(incident.jurisdictions, state.impact?.jurisdictionsReached ?? []),
      sectors: union(incident.sectors, state.impact?.sectorsReached ?? []),
      // By place once impact tallies places; an older worker's assessment, as it read it.
      ...(state.impact?.placesReached ? { places: engagementTouches(incident, state.impact) } : {}),
      ncissLevel: incident.ncissLevel,
      functionalImpact: incident.severityInputs.functionalImpact,
      ...ransomFacts(state),
    };
    const applicable: Applicability[] = applicableRegimes(facts);
    for (const r of state.regimes) {
      const reason = r.withdrawn ? undefined : whyRegimeNoLongerApplies(r.regime, facts);
      // Asked only when a regime is withdrawn: histories from before withdrawals kept it.
      if (reason === undefined || !patched(WITHDRAW_REGIMES_PATCH)) continue;
      r.withdrawn = { reason, atMs: Date.now() };
      note({ kind: 'regime', detail: `${r.regime} withdrawn: it no longer applies (${reason})` });
    }
    for (const a of applicable) {
      let r = state.regimes.find((x) => x.regime === a.regime);
      if (r?.withdrawn) {
        r.withdrawn = undefined;
        r.reasons = [...a.reasons];
        note({ kind: 'regime', detail: `${a.regime} applies again: ${a.reasons.join('; ')}` });
      }
      if (!r) {
        r = {
          regime: a.regime,
          obligations: [...a.obligations],
          reasons: [...a.reasons],
          clockStarted: false,
        };
        state.regimes.push(r);
        note({ kind: 'regime', detail: `${a.regime} applies: ${a.reasons.join('; ')}` });
      } else {
        // Obligations are only ever added: a report once owed stays owed.
        const added = a.obligations.filter((o) => !r!.obligations.includes(o));
        if (added.length > 0) {
          r.obligations.push(...added);
          r.reasons = [...a.reasons];
          note({
            kind: 'regime',
            detail: `${a.regime} now also requires ${added.map((o) => obligationSpec(o).title).join(', ')}`,
          });
        }
      }
    }
    for (const r of state.regimes) {
      if (!r.clockStarted) {
        r.clockStarted = true;
        try {
          await startChild(regulatoryClock, {
            workflowId: clockWorkflowId(incidentId, r.regime),
            args: [
              {
                incidentId,
                parentWorkflowId: self,
                regime: r.regime,
                awareAtMs: incident.awareAtMs,
                tlp: incident.tlp,
                policy,
                ...clockFacts(r),
              },
            ],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            typedSearchAttributes: [
              { key: SEARCH_ATTRIBUTES.IncidentId, value: incidentId },
              { key: SEARCH_ATTRIBUTES.Tlp, value: incident.tlp },
            ],
          });
        } catch (error) {
          log.warn('clock not started', { regime: r.regime, error: String(error) });
        }
      } else {
        await signalQuietly(
          () =>
            getExternalWorkflowHandle(clockWorkflowId(incidentId, r.regime)).signal(
              clockFactsSignal,
              clockFacts(r),
            ),
          `${r.regime} clock`,
        );
      }
    }
  };

  const followUpVictim = async (caseId: string) => {
    if (state.victimCases[caseId]) return;
    state.victimCases[caseId] = { caseId, state: 'following-up', urgency: 'unknown' };
    note({ kind: 'victim', detail: `following up victim case ${caseId}` });
    try {
      await startChild(victimFollowUp, {
        workflowId: victimFollowUpWorkflowId(incidentId, caseId),
        priority: VICTIM_FOLLOW_UP_PRIORITY,
        args: [
          {
            incidentId,
            caseId,
            parentWorkflowId: self,
            tlp: state.incident?.tlp ?? 'RED',
            checkInDays: policy.victimCheckInDays,
          },
        ],
        // Victims are followed up after the incident closes.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.IncidentId, value: incidentId }],
      });
    } catch (error) {
      log.warn('victim follow-up not started', { caseId, error: String(error) });
    }
  };

  const handOverVictims = victimHandOver(state, () => ({
    incidentId,
    parentWorkflowId: self,
    tlp: state.incident?.tlp ?? 'RED',
    checkInDays: policy.victimCheckInDays,
    maxHistoryEvents: policy.maxHistoryEvents,
  }));
  /**
   * Follows up the cases not followed yet: in the incident's one `victimFollowUps`, or in
   * responses from before it, one `victimFollowUp` child each.
   */
  const followUpVictims = async (caseIds: readonly string[]) => {
    if (!state.victimFollowUps) {
      await Promise.all(caseIds.map(followUpVictim));
      return;
    }
    const fresh = [...new Set(caseIds)].filter((caseId) => !state.victimCases[caseId]);
    if (fresh.length === 0) return;
    for (const caseId of fresh)
      state.victimCases[caseId] = { caseId, state: 'following-up', urgency: 'unknown' };
    note({
      kind: 'victim',
      detail:
        fresh.length === 1
          ? `following up victim case ${fresh[0]}`
          : `following up ${fresh.length} victim cases`,
    });
    await handOverVictims(fresh);
  };

  /** The incident changed severity: search attributes, engagements' waits, new agencies and regimes. */
  const afterSeverityChange = async (previousLevel: number) => {
    publishSearchAttributes();
    const level = state.incident!.ncissLevel;
    if (level !== previousLevel) {
      note({
        kind: 'severity',
        detail: `NCISS level ${previousLevel} → ${level} (score ${state.incident!.ncissScore})`,
      });
      for (const a of Object.values(state.agencies)) {
        if (a.state === 'engaging' || a.state === 'notified') {
          await signalQuietly(
            () => engagements.severityChanged(a.agencyId, { ncissLevel: level }),
            `engagement of ${a.agencyId}`,
          );
        }
      }
    }
    await decideAndEngage();
    await updateRegimes();
  };

  // ---- signals ------------------------------------------------------------------------------
  const recordAcknowledgement = async (ack: AcknowledgementInput) => {
    const agency = state.agencies[ack.agencyId];
    if (!agency) {
      note({
        kind: 'acknowledged',
        agencyId: ack.agencyId,
        detail: `acknowledgement from ${ack.agencyId}, which this response does not engage`,
      });
      return;
    }
    if (agency.state === 'acknowledged' || agency.state === 'removed') return;
    if (agency.state === 'unacknowledged') {
      // Its engagement gave up; the acknowledgement still counts.
      state.agencies[ack.agencyId] = {
        ...agency,
        state: 'acknowledged',
        ...acknowledgedFields(ack),
        timeToAcknowledgeMs: Math.max(0, ack.atMs - agency.startedAtMs),
      };
      note({ kind: 'acknowledged', agencyId: ack.agencyId, detail: `acknowledged late, via ${ack.via}` });
      return;
    }
    const sent = await signalQuietly(
      () => engagements.acknowledge(ack.agencyId, ack),
      `engagement of ${ack.agencyId}`,
    );
    if (!sent) {
      state.agencies[ack.agencyId] = {
        ...agency,
        state: 'acknowledged',
        ...acknowledgedFields(ack),
      };
      note({ kind: 'acknowledged', agencyId: ack.agencyId, detail: `acknowledged via ${ack.via}` });
    }
  };

  setHandler(acknowledgedSignal, (ack) => recordAcknowledgement(ack));

  const applyChange = (change: EngagementChange) => applyEngagementChange(state.agencies, change, note);
  setHandler(engagementChangedSignal, applyChange);
  /** Where this response's engagements run: inside it, or as children from before. */
  const engagements = state.inline
    ? inlineEngagements({
        policy,
        records: (state.engagementRuns ??= {}),
        apply: applyChange,
        failed: (agencyId, error) =>
          note({ kind: 'engagement', agencyId, detail: `engagement stopped: ${String(error)}` }),
      })
    : childEngagements(incidentId, policy);

  setHandler(clockAlarmSignal, (alarm) => {
    const current = state.alarms[alarm.obligation] ?? { overdue: false, escalationLevel: 0 };
    if (alarm.kind === 'overdue') current.overdue = true;
    if (alarm.kind === 'escalation') {
      current.overdue = true;
      current.escalationLevel = Math.max(current.escalationLevel, alarm.level);
    }
    state.alarms[alarm.obligation] = current;
    const title = obligationSpec(alarm.obligation).title;
    note({
      kind: alarm.kind,
      obligation: alarm.obligation,
      detail:
        alarm.kind === 'reminder'
          ? `${title} due ${new Date(alarm.dueAtMs).toISOString()}`
          : alarm.kind === 'overdue'
            ? `${title} is overdue`
            : `${title} still overdue: escalation ${alarm.level}`,
    });
  });

  const applyVictimChange = (change: VictimCaseChange) => {
    const current = state.victimCases[change.caseId] ?? {
      caseId: change.caseId,
      state: 'following-up',
      urgency: 'unknown',
    };
    state.victimCases[change.caseId] = {
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
    note({
      kind: victimKind(change.event),
      detail: `case ${change.caseId}: ${change.event} — ${change.detail}`,
    });
  };
  setHandler(victimCaseChangedSignal, applyVictimChange);
  setHandler(victimCasesChangedSignal, ({ changes }) => changes.forEach(applyVictimChange));

  setHandler(linkVictimCaseSignal, ({ caseId }) => followUpVictims([caseId]));

  setHandler(impactChangedSignal, (summary) => {
    const known = state.pendingImpact?.revision ?? state.impact?.revision ?? 0;
    if ((summary.revision ?? 0) > known) state.pendingImpact = summary;
  });

  setHandler(incidentChangedSignal, (incident) => {
    const known = state.pendingIncident?.version ?? state.incident?.version ?? 0;
    if (incident.version > known) state.pendingIncident = incident;
  });

  setHandler(agencyUnassignedSignal, ({ agencyId }) => {
    const agency = state.agencies[agencyId];
    // The echo of the response's own removal: nothing to do. An agency not engaged here yet is
    // remembered all the same: the coordinator's assignment may still be on its way to this
    // response, and must not outlive the removal that followed it.
    const unknownCounts = !agency && unassignmentWins();
    if ((!agency && !unknownCounts) || agency?.state === 'removed') return;
    if (state.pendingUnassigned?.includes(agencyId)) return;
    state.pendingUnassigned = [...(state.pendingUnassigned ?? []), agencyId];
  });

  /**
   * Ends the engagements of agencies a coordinator unassigned in intake. The announcement may be
   * stale (the agency assigned again since, or by the response itself after it), so intake is
   * read first and only an agency still not engaged there is removed.
   */
  const applyUnassignments = async () => {
    const ids = state.pendingUnassigned ?? [];
    state.pendingUnassigned = undefined;
    const engaged = new Set((await classic.intake.loadIncident(incidentId)).engagedAgencyIds);
    for (const agencyId of ids) {
      const agency = state.agencies[agencyId];
      if (!agency || agency.state === 'removed' || engaged.has(agencyId)) continue;
      if (agency.state === 'engaging' || agency.state === 'notified') {
        try {
          await engagements.cancel(agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId, error: String(error) });
        }
      }
      state.agencies[agencyId] = { ...state.agencies[agencyId]!, state: 'removed' };
      note({ kind: 'removed', agencyId, detail: 'unassigned in intake by a coordinator' });
    }
  };

  /** Applies what intake changed: severity and its consequences, agencies a coordinator engaged. */
  const applyIncidentChange = async () => {
    let next = state.pendingIncident;
    state.pendingIncident = undefined;
    const previous = state.incident;
    if (!next || !previous || next.version <= previous.version) return;
    if (next.engagedAgencyIds.some((id) => !state.agencies[id]) && unassignmentWins()) {
      // Announcements arrive late: an agency is engaged on intake's word as it is now, so an
      // assignment a coordinator already took back is never acted on.
      const current = await classic.intake.loadIncident(incidentId);
      if (current.version > next.version) next = current;
    }
    state.incident = next;
    const moved =
      JSON.stringify(previous.severityInputs) !== JSON.stringify(next.severityInputs) ||
      previous.ncissLevel !== next.ncissLevel;
    const newlyEngaged = next.engagedAgencyIds.filter((id) => !state.agencies[id]);
    // A coordinator revised the label or awareness time: who is cleared and the clocks follow.
    const revised =
      (previous.tlp !== next.tlp || previous.awareAtMs !== next.awareAtMs) && patched(MERGE_HAND_OVER_PATCH);
    const what = [
      ...(moved
        ? [withMoves(`severity now ${next.ncissScore} (level ${next.ncissLevel})`, previous, next)]
        : []),
      ...(revised ? [`TLP:${next.tlp}, aware since ${new Date(next.awareAtMs).toISOString()}`] : []),
      ...(newlyEngaged.length > 0 ? [`engaged there: ${newlyEngaged.join(', ')}`] : []),
    ];
    if (what.length === 0) return;
    note({ kind: 'incident-changed', detail: `intake: ${what.join('; ')}` });
    await afterSeverityChange(previous.ncissLevel);
    if (revised) await relabelEngagements(engagements, state.agencies, previous.tlp, next);
  };

  const merge = mergeHandOver({
    incidentId,
    state,
    engagements,
    note,
    enter,
    engage,
    afterChange: afterSeverityChange,
  });
  noteSeverityProposals(note);

  // ---- updates: coordinators' commands ------------------------------------------------------
  function reject(message: string): never {
    throw ApplicationFailure.create({ type: 'CommandRejected', message, nonRetryable: true });
  }
  const requireOpen = () => {
    if (state.phase === 'closed') reject('the response is closed');
  };
  const requireTriaged = () => {
    requireOpen();
    if (state.phase === 'triage') reject('the response is still in triage; try again in a moment');
  };
  const requireAgency = (agencyId: string, allowed: readonly AgencyEngagementStatus['state'][]) => {
    const agency = state.agencies[agencyId];
    if (!agency) return reject(`agency ${agencyId} is not engaged on this incident`);
    if (!allowed.includes(agency.state)) return reject(`the engagement of ${agencyId} is ${agency.state}`);
    return agency;
  };

  setHandler(
    acknowledgeUpdate,
    async ({ agencyId, note: text, via, by }) => {
      await recordAcknowledgement({ agencyId, note: text, via, atMs: Date.now(), ...(by ? { by } : {}) });
      return status();
    },
    {
      // An agency notified while the response is still in triage can acknowledge at once.
      validator: ({ agencyId }: AcknowledgeCommand) => {
        requireOpen();
        requireAgency(agencyId, ['engaging', 'notified', 'unacknowledged']);
      },
    },
  );

  setHandler(
    escalateUpdate,
    async ({ agencyId }) => {
      const targets = agencyId
        ? [agencyId]
        : Object.values(state.agencies)
            .filter((a) => a.state === 'engaging' || a.state === 'notified')
            .map((a) => a.agencyId);
      const escalated: AgencyEngagementStatus[] = [];
      for (const id of targets) {
        note({ kind: 'escalated', agencyId: id, detail: 'escalation requested by the coordinator' });
        const sent = await signalQuietly(() => engagements.escalateNow(id), `engagement of ${id}`);
        if (sent) escalated.push(state.agencies[id]!);
      }
      // Answer with the engagements after the escalation, not before it.
      if (escalated.length > 0 && patched(ESCALATE_REPORTS_PATCH)) {
        await condition(
          () => escalated.every((before) => escalationReported(before, state.agencies[before.agencyId])),
          ESCALATION_REPORT_WAIT_MS,
        );
      }
      return status();
    },
    {
      // An agency notified while the response is still in triage can be escalated at once.
      validator: ({ agencyId }: { agencyId: string }) => {
        requireOpen();
        if (agencyId) requireAgency(agencyId, ['engaging', 'notified']);
        else if (
          !Object.values(state.agencies).some((a) => a.state === 'engaging' || a.state === 'notified')
        ) {
          reject('no engagement is waiting for an acknowledgement');
        }
      },
    },
  );

  setHandler(
    addAgencyUpdate,
    async ({ agencyId, reason }) => {
      await engage([{ agencyId, reasons: [`added by the coordinator: ${reason || 'no reason given'}`] }]);
      if (!state.agencies[agencyId] || state.agencies[agencyId].state === 'removed') {
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no agency ${agencyId} in the registry`,
          nonRetryable: true,
        });
      }
      return status();
    },
    {
      validator: ({ agencyId }: { agencyId: string }) => {
        requireTriaged();
        if (state.phase !== 'active') reject(`the response is ${state.phase}`);
        if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(agencyId)) reject('agencyId is not an agency id');
        const current = state.agencies[agencyId];
        if (current && current.state !== 'removed')
          reject(`agency ${agencyId} is already engaged (${current.state})`);
      },
    },
  );

  setHandler(
    removeAgencyUpdate,
    async ({ agencyId, reason }) => {
      const agency = state.agencies[agencyId]!;
      if (agency.state === 'engaging' || agency.state === 'notified') {
        try {
          await engagements.cancel(agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId, error: String(error) });
        }
      }
      // Removed from the response means no longer engaged in intake either: the agency stops
      // reading the incident and receiving its events above GREEN. (Responses that removed an
      // agency before this existed replay without it.)
      if (patched('disengage-removed-agency')) await classic.intake.disengageAgency(incidentId, agencyId);
      state.agencies[agencyId] = { ...agency, state: 'removed' };
      note({
        kind: 'removed',
        agencyId,
        detail: `removed by the coordinator: ${reason || 'no reason given'}`,
      });
      return status();
    },
    {
      validator: ({ agencyId }: { agencyId: string }) => {
        requireTriaged();
        requireAgency(agencyId, ['engaging', 'notified', 'acknowledged', 'unacknowledged']);
      },
    },
  );

  setHandler(
    changeSeverityUpdate,
    async ({ inputs }) => {
      const previous = state.incident!;
      state.incident = await classic.intake.updateSeverity(incidentId, inputs);
      note({ kind: 'severity', detail: withMoves('changed by a coordinator', previous, state.incident) });
      await afterSeverityChange(previous.ncissLevel);
      return status();
    },
    {
      validator: ({ inputs }: { inputs: NcissInputs }) => {
        requireTriaged();
        if (state.phase !== 'active') reject(`the response is ${state.phase}`);
        const bad = invalidNcissInputs(inputs ?? {});
        if (bad.length > 0) reject(`invalid severity inputs: ${bad.join(', ')}`);
      },
    },
  );

  setHandler(
    fileReportUpdate,
    async ({ obligation, reference, filedAtMs }) => {
      const atMs = filedAtMs ?? Date.now();
      state.filed[obligation] = { atMs, reference };
      note({
        kind: 'report-filed',
        obligation,
        detail: `${obligationSpec(obligation).title} filed (${reference})`,
      });
      const regime = obligationSpec(obligation).regime;
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, regime)).signal(reportFiledSignal, {
            obligation,
            filedAtMs: atMs,
            reference,
          }),
        `${regime} clock`,
      );
      return status();
    },
    {
      validator: ({ obligation, reference, filedAtMs }: FileReportCommand) => {
        requireTriaged();
        if (!isObligationId(obligation)) reject(`${String(obligation)} is not a reporting obligation`);
        if (!schedules().some((o) => o.id === obligation))
          reject(`${obligation} does not apply to this incident`);
        if (state.filed[obligation]) reject(`${obligation} was already filed`);
        if (typeof reference !== 'string' || reference.trim() === '' || reference.length > 200) {
          reject('reference must be 1 to 200 characters');
        }
        if (filedAtMs !== undefined && (!Number.isFinite(filedAtMs) || filedAtMs > Date.now())) {
          reject('filedAtMs must not be in the future');
        }
      },
    },
  );

  setHandler(
    recordRansomPaymentUpdate,
    async ({ paidAtMs }) => {
      // Each payment owes its own report (the first one as responses always recorded it).
      note({ kind: 'ransom', detail: recordRansomPayment(state, paidAtMs) });
      await updateRegimes();
      return status();
    },
    {
      validator: ({ paidAtMs }: { paidAtMs: number }) => {
        requireTriaged();
        const problem = ransomPaymentProblem(state, paidAtMs, Date.now());
        if (problem) reject(problem);
      },
    },
  );

  setHandler(
    resolveUpdate,
    async ({ summary }) => {
      state.resolution = { requestedAtMs: Date.now(), summary };
      note({ kind: 'resolved', detail: `resolution requested: ${summary}` });
      return status();
    },
    {
      validator: ({ summary }: { summary: string }) => {
        requireTriaged();
        if (state.resolution) reject('resolution was already requested');
        if (state.phase !== 'active') reject(`the response is ${state.phase}`);
        if (typeof summary !== 'string' || summary.trim() === '') reject('a resolution needs a summary');
        const blockers = resolveBlockers();
        if (blockers.length > 0) reject(`cannot resolve yet: ${blockers.join('; ')}`);
      },
    },
  );

  setHandler(statusQuery, () => status(true));
  setHandler(timelineQuery, () => state.timeline);

  const maybeContinueAsNew = async () => {
    const info = workflowInfo();
    if (!info.continueAsNewSuggested && info.historyLength < policy.maxHistoryEvents) return;
    // Commands under way finish in this run, engagements' calls too; their effects travel in
    // the state.
    await condition(() => allHandlersFinished() && engagements.quiet());
    note({ kind: 'continued-as-new', detail: `history of ${info.historyLength} events handed to a new run` });
    // The next run stores first what this one has not yet, and numbers on from there (handed
    // over before the state is copied: numbering them moves the state's count).
    const unstored = timeline.handOver();
    await continueAsNew<typeof incidentResponse>({
      incidentId,
      policy,
      resumed: { ...state, runs: state.runs + 1, ...unstored },
    });
  };
  const historyIsLarge = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= policy.maxHistoryEvents;
  };

  // ---- the response --------------------------------------------------------------------------
  if (state.phase === 'triage') {
    if (state.lean) {
      // Every attribute in one write once the incident is read (the starter set the first two),
      // at once only when a cascade is to be assessed first (it may take a while).
      state.incident = await calls().intake.enterTriage(incidentId, 'response started');
      if (state.incident.affectedAssets.length > 0) publishSearchAttributes();
    } else {
      publishSearchAttributes();
      state.incident = await classic.intake.loadIncident(incidentId);
      publishSearchAttributes();
      await classic.intake.transitionIncident(incidentId, 'triage', 'response started');
    }
    note({ kind: 'triage', detail: triageText(state.incident) });

    if (state.incident.affectedAssets.length > 0) {
      try {
        const assessed = await impact.assessImpact(incidentId, state.incident.affectedAssets);
        if (assessed) {
          state.impact = assessed;
          note({
            kind: 'impact',
            detail: `${assessed.impactedAssets} assets, ${assessed.populationAffected} people; sectors reached: ${assessed.sectorsReached.join(', ') || 'none'}`,
          });
          const previous = state.incident;
          state.incident = await calls().intake.raiseSeverity(incidentId, {
            crossSectorDependency: assessed.crossSectorDependency,
            potentialImpact: assessed.potentialImpact,
          });
          const rescored = cascadeText(previous, state.incident);
          if (rescored) note({ kind: 'severity', detail: rescored });
        }
      } catch (error) {
        // The response goes on without a cascade; coordinators can re-score by hand.
        note({ kind: 'impact', detail: `impact assessment unavailable (${failureType(error) ?? 'error'})` });
      }
    }
    publishSearchAttributes();

    const victimsNotChecked = (error: unknown) => {
      const type = failureType(error);
      note({
        kind: 'victim',
        detail:
          type === FailureType.VictimsServiceUnavailable
            ? 'victim cases not checked: the victims service is not connected to this worker'
            : `victim cases not checked (${type ?? 'error'})`,
      });
    };
    if (state.inline) {
      // The registry and the victim cases are read side by side, and acted on once both are in:
      // what each read leads to must not depend on which came back first, or on whether a
      // replay hands both back in one activation.
      const [registryNow, victims] = await Promise.all([
        calls().registry.listAgencies(),
        calls()
          .victims.listVictimCases(incidentId)
          .then(
            (cases) => ({ cases }),
            (error: unknown) => ({ error }),
          ),
      ]);
      await decideAndEngage(registryNow);
      await updateRegimes();
      state.victimsChecked = true;
      if ('error' in victims) victimsNotChecked(victims.error);
      else await followUpVictims(victims.cases);
    } else if (state.lean) {
      // The registry and the victim cases are read side by side; children start together.
      const checkVictims = async () => {
        if (state.victimsChecked) return;
        state.victimsChecked = true;
        try {
          await Promise.all((await quick.victims.listVictimCases(incidentId)).map(followUpVictim));
        } catch (error) {
          victimsNotChecked(error);
        }
      };
      await Promise.all([decideAndEngage().then(updateRegimes), checkVictims()]);
    } else {
      // As recorded before lean responses, await for await (a history replays its order).
      await decideAndEngage();
      await updateRegimes();
      if (!state.victimsChecked) {
        state.victimsChecked = true;
        try {
          for (const caseId of await classic.victims.listVictimCases(incidentId))
            await followUpVictim(caseId);
        } catch (error) {
          victimsNotChecked(error);
        }
      }
    }
    await classic.intake.transitionIncident(incidentId, 'active', 'agencies engaged');
    enter('active');
  }

  while (state.phase === 'active') {
    await condition(
      () =>
        state.resolution !== undefined ||
        state.pendingIncident !== undefined ||
        state.pendingImpact !== undefined ||
        state.pendingUnassigned !== undefined ||
        merge.hasWork() ||
        historyIsLarge(),
    );
    if (merge.hasWork()) {
      await merge.step();
      continue;
    }
    if (state.pendingIncident) {
      await applyIncidentChange();
      continue;
    }
    if (state.pendingImpact) {
      await followImpact();
      continue;
    }
    if (state.pendingUnassigned) {
      await applyUnassignments();
      continue;
    }
    if (state.resolution) break;
    await maybeContinueAsNew();
  }

  if (state.phase === 'active') {
    await condition(allHandlersFinished);
    state.resolvedAtMs = Date.now();
    await classic.intake.transitionIncident(incidentId, 'resolved', state.resolution!.summary);
    enter('resolved');
    // Nobody is paged about a resolved incident any more.
    for (const agency of Object.values(state.agencies)) {
      if (agency.state === 'engaging' || agency.state === 'notified') {
        try {
          await engagements.cancel(agency.agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId: agency.agencyId, error: String(error) });
        }
        state.agencies[agency.agencyId] = { ...agency, state: 'removed' };
        note({
          kind: 'removed',
          agencyId: agency.agencyId,
          detail: 'not acknowledged before the resolution',
        });
      }
    }
    for (const r of state.regimes) {
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, r.regime)).signal(incidentResolvedSignal, {
            resolvedAtMs: state.resolvedAtMs!,
          }),
        `${r.regime} clock`,
      );
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, r.regime)).signal(
            clockFactsSignal,
            clockFacts(r),
          ),
        `${r.regime} clock`,
      );
    }
    state.finalReport = finalReport(status());
    await events.publishResponseEvent({
      type: 'final-report',
      incidentId,
      tlp: state.incident!.tlp,
      report: state.finalReport,
      atMs: Date.now(),
    });
    note({ kind: 'final-report', detail: 'final report published' });
  }

  while (state.phase === 'resolved') {
    if (allReportsFiled()) break;
    note({
      kind: 'waiting',
      detail: `waiting for ${schedules()
        .filter((o) => !state.filed[o.id])
        .map((o) => o.title)
        .join(', ')}`,
    });
    await condition(() => allReportsFiled() || merge.hasWork() || historyIsLarge());
    if (merge.hasWork()) await merge.step();
    else if (!allReportsFiled()) await maybeContinueAsNew();
  }

  if (state.phase === 'resolved') {
    await condition(allHandlersFinished);
    await classic.intake.transitionIncident(incidentId, 'closed', 'response complete');
    state.closedAtMs = Date.now();
    enter('closed');
    note({ kind: 'closed', detail: 'incident closed' });
  }

  await condition(timeline.idle);
  const final = status();
  return {
    incidentId,
    phase: final.phase,
    agencies: final.agencies,
    obligations: final.obligations,
    runs: final.runs,
    ...(state.merge?.mergedInto ? { mergedInto: state.merge.mergedInto.survivorId } : {}),
  };
}
