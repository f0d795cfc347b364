import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_POLICY, type ResponsePolicy } from '../domain/policy.js';
import type { IncidentResponseInput, ResponseOutcome, ResponsePhase } from './definitions.js';
import { childEngagements, INLINE_ENGAGEMENTS_PATCH, inlineEngagements } from './engagement-runs.js';
import { followEngagements } from './engagement-visibility.js';
import { mergeHandOver } from './merge-hand-over.js';
import { classic, countedQuick, quick } from './proxies.js';
import { responseChanges } from './response-changes.js';
import { handleCommands } from './response-commands.js';
import type { ResponseContext } from './response-context.js';
import { responseEngagements } from './response-engagements.js';
import { ResponseLedger } from './response-ledger.js';
import { respond } from './response-phases.js';
import { responseRegimes } from './response-regimes.js';
import { handleEngagementReports, handleResponseSignals } from './response-signals.js';
import { newResponseState, type ResponseState } from './response-state.js';
import { responseVictims } from './response-victims.js';
import { responseStatus } from './response-view.js';
import { noteSeverityProposals } from './severity-notes.js';
import { keepTimeline } from './timeline-keeper.js';
import { VICTIM_FOLLOW_UPS_PATCH } from './victim-follow-ups.js';

/** Responses from here on never let a late assignment undo a coordinator's removal. */
const UNASSIGNMENT_PATCH = 'unassignment-wins';
/**
 * Responses from here on are lean (`ResponseState.lean`): asked once, as a new response starts.
 */
export const LEAN_TRIAGE_PATCH = 'lean-triage';

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
 *
 * This function only wires the parts together, in an order that matters: the patches it asks
 * and the handlers it sets, in the order the saved histories recorded them (a handler set runs
 * the signals buffered for it at once). It returns the course (`respond`) itself rather than
 * awaiting it, so the course's commands are made on the very ticks they always were.
 */
export function incidentResponse(input: IncidentResponseInput): Promise<ResponseOutcome> {
  const { incidentId } = input;
  const policy: ResponsePolicy = input.policy ?? DEFAULT_POLICY;
  const self = workflowInfo().workflowId;
  const state: ResponseState = (input.resumed as ResponseState | undefined) ?? newResponseState();

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
  const calls = () => counted?.calls ?? (state.lean ? quick : classic);
  // A lean response keeps its timeline in the store and its engagements in Visibility without
  // asking those older patches (each marker costs a search attribute write).
  const timeline = keepTimeline(incidentId, state, {
    store: () => calls().timelineStore,
    implied: state.lean === true,
    ...(counted ? { busy: counted.busy } : {}),
  });
  const ledger = new ResponseLedger(incidentId, state);
  const status = (withDrafts = false) => responseStatus(incidentId, state, withDrafts, Date.now());
  // Where agencies list their engagements from (engagement-visibility.ts).
  const visibility = followEngagements(status, policy, state.lean === true);
  const publishSearchAttributes = () => {
    const pairs = ledger.searchAttributeChanges();
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    visibility.publish();
  };

  const ctx: ResponseContext = {
    incidentId,
    self,
    policy,
    state,
    ledger,
    get engagements() {
      return engagements;
    },
    note: timeline.note,
    calls,
    unassignmentWins: () => patched(UNASSIGNMENT_PATCH),
    publishSearchAttributes,
    enter: (phase: ResponsePhase) => {
      state.phase = phase;
      publishSearchAttributes();
    },
    status,
  };
  const regimes = responseRegimes(ctx);
  const engaging = responseEngagements(ctx);
  const victims = responseVictims(ctx);
  const changes = responseChanges(ctx, engaging, regimes);

  const applyChange = handleEngagementReports(ctx, engaging);
  /** Where this response's engagements run: inside it, or as children from before. */
  const engagements = state.inline
    ? inlineEngagements({
        policy,
        records: (state.engagementRuns ??= {}),
        apply: applyChange,
        failed: (agencyId, error) =>
          ctx.note({ kind: 'engagement', agencyId, detail: `engagement stopped: ${String(error)}` }),
      })
    : childEngagements(incidentId, policy);
  handleResponseSignals(ctx, victims);

  const merge = mergeHandOver({
    incidentId,
    state,
    engagements,
    note: ctx.note,
    enter: ctx.enter,
    engage: engaging.engage,
    afterChange: changes.afterSeverityChange,
  });
  noteSeverityProposals(ctx.note);
  handleCommands(ctx, { ...engaging, ...changes, ...regimes });

  return respond(ctx, { engagements: engaging, regimes, victims, changes, merge, timeline });
}
