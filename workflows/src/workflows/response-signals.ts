/**
 * What the response hears by signal: from its engagements, clocks and victim follow-ups, and
 * from intake and impact. Handlers only record; what takes calls to the services is left to
 * the response's main loop (`pendingIncident`, `pendingImpact`, `pendingUnassigned`).
 */
import { setHandler } from '@temporalio/workflow';
import {
  acknowledgedSignal,
  agencyUnassignedSignal,
  clockAlarmSignal,
  engagementChangedSignal,
  impactChangedSignal,
  incidentChangedSignal,
  linkVictimCaseSignal,
  victimCaseChangedSignal,
  victimCasesChangedSignal,
  type EngagementChange,
  type VictimCaseChange,
} from './definitions.js';
import { applyEngagementChange } from './engagement-runs.js';
import type { ResponseContext } from './response-context.js';
import type { ResponseEngagements } from './response-engagements.js';
import type { ResponseVictims } from './response-victims.js';

/**
 * Acknowledgements, and the reports of engagements running as children. Set before the
 * engagements are created; returns how a report is applied, which engagements running inside
 * the response use directly.
 */
export function handleEngagementReports(
  ctx: ResponseContext,
  { recordAcknowledgement }: Pick<ResponseEngagements, 'recordAcknowledgement'>,
): (change: EngagementChange) => void {
  setHandler(acknowledgedSignal, (ack) => recordAcknowledgement(ack));
  const applyChange = (change: EngagementChange) =>
    applyEngagementChange(ctx.state.agencies, change, ctx.note);
  setHandler(engagementChangedSignal, applyChange);
  return applyChange;
}

/** The clocks' alarms, the victim cases, and the incident's changes in intake and impact. */
export function handleResponseSignals(
  ctx: ResponseContext,
  { followUpVictims }: Pick<ResponseVictims, 'followUpVictims'>,
): void {
  const { ledger, note } = ctx;

  setHandler(clockAlarmSignal, (alarm) => note(ledger.alarm(alarm)));

  const applyVictimChange = (change: VictimCaseChange) => note(ledger.victimChange(change));
  setHandler(victimCaseChangedSignal, applyVictimChange);
  setHandler(victimCasesChangedSignal, ({ changes }) => changes.forEach(applyVictimChange));

  setHandler(linkVictimCaseSignal, ({ caseId }) => followUpVictims([caseId]));

  setHandler(impactChangedSignal, (summary) => ledger.offerImpact(summary));

  setHandler(incidentChangedSignal, (incident) => ledger.offerIncident(incident));

  setHandler(agencyUnassignedSignal, ({ agencyId }) =>
    ledger.unassignedInIntake(agencyId, ctx.unassignmentWins),
  );
}
