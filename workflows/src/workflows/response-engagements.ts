/**
 * The response's engagements: deciding whom to engage, starting each, handing acknowledgements
 * to them, and ending those a coordinator unassigned in intake. Where they run (children, or
 * inside the response) is `ResponseContext.engagements`.
 */
import { log } from '@temporalio/workflow';
import {
  decideEngagements,
  engagementTouches,
  escalationChain,
  type AgencyProfile,
  type EngagementDecision,
} from '../domain/engagement.js';
import type { AcknowledgementInput } from './definitions.js';
import { classic, signalQuietly } from './proxies.js';
import type { ResponseContext } from './response-context.js';

export interface ResponseEngagements {
  /** Engages the agencies not engaged yet (a removed one again), as the registry has them now. */
  readonly engage: (decisions: readonly EngagementDecision[]) => Promise<void>;
  /**
   * Applies the engagement rules to the incident as it is now; engages whom they newly name
   * (from `registryRead` when the registry was just read).
   */
  readonly decideAndEngage: (registryRead?: AgencyProfile[]) => Promise<void>;
  /** An agency acknowledged: its running engagement is told, else the response records it. */
  readonly recordAcknowledgement: (ack: AcknowledgementInput) => Promise<void>;
  /**
   * Ends the engagements of agencies a coordinator unassigned in intake. The announcement may be
   * stale (the agency assigned again since, or by the response itself after it), so intake is
   * read first and only an agency still not engaged there is removed.
   */
  readonly applyUnassignments: () => Promise<void>;
}

export function responseEngagements(ctx: ResponseContext): ResponseEngagements {
  const { incidentId, state, ledger, note } = ctx;

  const startEngagement = async (
    agency: AgencyProfile,
    reasons: readonly string[],
    registryNow: AgencyProfile[],
  ) => {
    const incident = state.incident!;
    const chain = escalationChain(agency, registryNow);
    ledger.engaging(agency.id, reasons, Date.now());
    note({
      kind: 'engagement',
      agencyId: agency.id,
      detail: `engaging ${agency.name}: ${reasons.join('; ')}`,
    });
    try {
      await ctx.engagements.start({
        incidentId,
        agencyId: agency.id,
        parentWorkflowId: ctx.self,
        tlp: incident.tlp,
        ncissLevel: incident.ncissLevel,
        chain,
        ...(incident.engagedAgencyIds.includes(agency.id) && ctx.unassignmentWins()
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
    const registryNow = await ctx.calls().registry.listAgencies();
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

  const decideAndEngage = async (registryRead?: AgencyProfile[]) => {
    const incident = state.incident!;
    const registryNow = registryRead ?? (await ctx.calls().registry.listAgencies());
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
    for (const entry of ledger.notCleared(notCleared)) note(entry);
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
    for (const entry of ledger.noLongerNamed(new Set(decided.map((d) => d.agencyId)))) note(entry);
  };

  const recordAcknowledgement = async (ack: AcknowledgementInput) => {
    const outcome = ledger.acknowledgement(ack);
    if (!outcome.forward) {
      if (outcome.note) note(outcome.note);
      return;
    }
    const sent = await signalQuietly(
      () => ctx.engagements.acknowledge(ack.agencyId, ack),
      `engagement of ${ack.agencyId}`,
    );
    if (!sent) note(ledger.acknowledgedHere(outcome.agency, ack));
  };

  const applyUnassignments = async () => {
    const ids = ledger.takeUnassigned();
    const engaged = new Set((await classic.intake.loadIncident(incidentId)).engagedAgencyIds);
    for (const agencyId of ids) {
      const agency = state.agencies[agencyId];
      if (!agency || agency.state === 'removed' || engaged.has(agencyId)) continue;
      if (agency.state === 'engaging' || agency.state === 'notified') {
        try {
          await ctx.engagements.cancel(agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId, error: String(error) });
        }
      }
      ledger.removed(state.agencies[agencyId]!);
      note({ kind: 'removed', agencyId, detail: 'unassigned in intake by a coordinator' });
    }
  };

  return { engage, decideAndEngage, recordAcknowledgement, applyUnassignments };
}
