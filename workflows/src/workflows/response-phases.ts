/**
 * The response's course, phase by phase: triage, active until resolved, resolved until every
 * report is filed, then closed; the history handed to a new run whenever it grows large.
 *
 * One async function on purpose. Commands are recorded in the order the workflow's coroutines
 * make them, and coroutines woken in the same activation interleave by microtask: an `await`
 * of a further async function here would make this one's next commands a tick later than the
 * saved histories recorded them. Steps that make no command are split out freely.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../domain/failures.js';
import { cascadeText, triageText } from '../domain/severity-origins.js';
import {
  clockWorkflowId,
  incidentResolvedSignal,
  type IncidentResponseInput,
  type ResponseOutcome,
} from './definitions.js';
import { finalReport } from './final-report.js';
import type { MergeHandOver } from './merge-hand-over.js';
import { classic, events, failureType, impact, quick, signalQuietly } from './proxies.js';
import type { ResponseChanges } from './response-changes.js';
import type { ResponseContext } from './response-context.js';
import type { ResponseEngagements } from './response-engagements.js';
import type { ResponseRegimes } from './response-regimes.js';
import type { Note } from './response-state.js';
import type { ResponseVictims } from './response-victims.js';
import { allReportsFiled } from './response-view.js';
import type { TimelineKeeper } from './timeline-keeper.js';

/** The parts of the response its course takes steps with. */
export interface ResponseParts {
  readonly engagements: Pick<ResponseEngagements, 'decideAndEngage' | 'applyUnassignments'>;
  readonly regimes: ResponseRegimes;
  readonly victims: ResponseVictims;
  readonly changes: Pick<ResponseChanges, 'applyIncidentChange' | 'followImpact'>;
  readonly merge: MergeHandOver;
  readonly timeline: Pick<TimelineKeeper, 'idle' | 'handOver'>;
}

/** Why the victim cases could not be read at triage. */
function victimsNotChecked(error: unknown): Note {
  const type = failureType(error);
  return {
    kind: 'victim',
    detail:
      type === FailureType.VictimsServiceUnavailable
        ? 'victim cases not checked: the victims service is not connected to this worker'
        : `victim cases not checked (${type ?? 'error'})`,
  };
}

export async function respond(ctx: ResponseContext, parts: ResponseParts): Promise<ResponseOutcome> {
  const { incidentId, policy, state, ledger, note, calls, publishSearchAttributes, enter, status } = ctx;
  const { decideAndEngage, applyUnassignments } = parts.engagements;
  const { updateRegimes, tellClock } = parts.regimes;
  const { followUpVictim, followUpVictims } = parts.victims;
  const { applyIncidentChange, followImpact } = parts.changes;
  const { merge, timeline } = parts;

  const historyIsLarge = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= policy.maxHistoryEvents;
  };
  const maybeContinueAsNew = async () => {
    const info = workflowInfo();
    if (!info.continueAsNewSuggested && info.historyLength < policy.maxHistoryEvents) return;
    // Commands under way finish in this run, engagements' calls too; their effects travel in
    // the state.
    await condition(() => allHandlersFinished() && ctx.engagements.quiet());
    note({ kind: 'continued-as-new', detail: `history of ${info.historyLength} events handed to a new run` });
    // The next run stores first what this one has not yet, and numbers on from there (handed
    // over before the state is copied: numbering them moves the state's count).
    const unstored = timeline.handOver();
    await continueAsNew<(input: IncidentResponseInput) => Promise<ResponseOutcome>>({
      incidentId,
      policy,
      resumed: { ...state, runs: state.runs + 1, ...unstored },
    });
  };

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
      if ('error' in victims) note(victimsNotChecked(victims.error));
      else await followUpVictims(victims.cases);
    } else if (state.lean) {
      // The registry and the victim cases are read side by side; children start together.
      const checkVictims = async () => {
        if (state.victimsChecked) return;
        state.victimsChecked = true;
        try {
          await Promise.all((await quick.victims.listVictimCases(incidentId)).map(followUpVictim));
        } catch (error) {
          note(victimsNotChecked(error));
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
          note(victimsNotChecked(error));
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
          await ctx.engagements.cancel(agency.agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId: agency.agencyId, error: String(error) });
        }
        ledger.removed(agency);
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
      await tellClock(r);
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
    if (allReportsFiled(state)) break;
    note(ledger.waitingNote());
    await condition(() => allReportsFiled(state) || merge.hasWork() || historyIsLarge());
    if (merge.hasWork()) await merge.step();
    else if (!allReportsFiled(state)) await maybeContinueAsNew();
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
