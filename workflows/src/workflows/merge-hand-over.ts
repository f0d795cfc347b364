import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  log,
  setHandler,
} from '@temporalio/workflow';
import { obligationSpec, type ObligationId, type Regime, type Tlp } from '@beacon/domain';
import type { IncidentSnapshot } from '../activities/types.js';
import type { EngagementDecision } from '../domain/engagement.js';
import {
  clockHandedOverSignal,
  clockWorkflowId,
  handOverSignal,
  mergedIntoSignal,
  reportFiledSignal,
  responseWorkflowId,
  type AgencyEngagementStatus,
  type HandOver,
  type ResponsePhase,
  type TimelineEntry,
} from './definitions.js';
import type { EngagementRuns } from './engagement-runs.js';
import { MergeHandOvers, type HandOverState } from './merge-hand-over-state.js';
import { intake, registry, signalQuietly } from './proxies.js';

/**
 * Since merges exist the response tells its clocks the incident's awareness time and label with
 * every change of facts, and follows a revision of either (a merge, or a coordinator's
 * UpdateIncidentFacts, may move both); histories from before carry on without.
 */
export const MERGE_HAND_OVER_PATCH = 'merge-hand-over';

/** The part of an IncidentResponse's state the hand-over reads and changes. */
export interface HandOverResponseState {
  phase: ResponsePhase;
  incident?: IncidentSnapshot;
  agencies: Record<string, AgencyEngagementStatus>;
  filed: Partial<Record<ObligationId, { atMs: number; reference: string }>>;
  readonly regimes: readonly { readonly regime: Regime }[];
  closedAtMs?: number;
  merge?: HandOverState;
}

/**
 * Tells the engagements still waiting the incident's label when it changed (a merge or a
 * revision may raise it), so the events they publish are labelled as the incident now is.
 */
export async function relabelEngagements(
  engagements: EngagementRuns,
  agencies: Readonly<Record<string, AgencyEngagementStatus>>,
  previousTlp: Tlp,
  incident: IncidentSnapshot,
): Promise<void> {
  if (incident.tlp === previousTlp) return;
  for (const a of Object.values(agencies)) {
    if (a.state !== 'engaging' && a.state !== 'notified') continue;
    await signalQuietly(
      () => engagements.severityChanged(a.agencyId, { ncissLevel: incident.ncissLevel, tlp: incident.tlp }),
      `engagement of ${a.agencyId}`,
    );
  }
}

/** What the hand-over needs of the response it runs in. */
export interface HandOverContext {
  readonly incidentId: string;
  readonly state: HandOverResponseState;
  readonly engagements: EngagementRuns;
  note(entry: Omit<TimelineEntry, 'atMs'>): void;
  enter(phase: ResponsePhase): void;
  /** Engages the agencies (already engaged ones are skipped). */
  engage(decisions: readonly EngagementDecision[]): Promise<void>;
  /** The incident changed: engages whom the rules now name, starts and tells the clocks. */
  afterChange(previousLevel: number): Promise<void>;
}

export interface MergeHandOver {
  /** Whether a step waits; the response's loops wake on it. */
  hasWork(): boolean;
  step(): Promise<void>;
}

/**
 * The response's side of a merge, on either incident. Merged: it ends its waiting engagements
 * and its clocks, hands its engagements and filed reports to the survivor's response, and
 * closes without asking intake (intake closed the incident in the merge). Survivor: it re-reads
 * the incident from intake (label, awareness time, sectors, engagements of both), records the
 * engagements that ended on the merged incident as they are, engages the ones still waiting
 * there, and lets its clocks follow the awareness time; its own clocks are the only ones left.
 */
export function mergeHandOver(ctx: HandOverContext): MergeHandOver {
  const { incidentId, state } = ctx;
  const note = (entry: Omit<TimelineEntry, 'atMs'>) => ctx.note(entry);
  state.merge ??= MergeHandOvers.initial();
  const merges = new MergeHandOvers(state.merge);

  setHandler(mergedIntoSignal, ({ survivorId }) => merges.mergedInto(survivorId, incidentId));
  setHandler(handOverSignal, (handOver) => merges.received(handOver));

  const handOverToSurvivor = async (survivorId: string) => {
    const handOver = MergeHandOvers.handOverOf(incidentId, state.agencies, state.filed);
    for (const agency of Object.values(state.agencies)) {
      if (agency.state !== 'engaging' && agency.state !== 'notified') continue;
      try {
        await ctx.engagements.cancel(agency.agencyId);
      } catch (error) {
        log.warn('engagement already ended', { agencyId: agency.agencyId, error: String(error) });
      }
      state.agencies[agency.agencyId] = { ...agency, state: 'removed' };
      note({
        kind: 'removed',
        agencyId: agency.agencyId,
        detail: `handed over to the response of incident ${survivorId}`,
      });
    }
    for (const { regime } of state.regimes) {
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, regime)).signal(clockHandedOverSignal, {
            survivorId,
          }),
        `${regime} clock`,
      );
    }
    await signalQuietly(
      () => getExternalWorkflowHandle(responseWorkflowId(survivorId)).signal(handOverSignal, handOver),
      `response of incident ${survivorId}`,
    );
    merges.handedOver();
    note({
      kind: 'merged',
      detail: `merged into incident ${survivorId}: its response took over engagements, clocks and filed reports`,
    });
    await condition(allHandlersFinished);
    state.closedAtMs = Date.now();
    ctx.enter('closed');
  };

  const takeOver = async (handOver: HandOver) => {
    const previous = state.incident!;
    const now = await intake.loadIncident(incidentId);
    if (now.version > previous.version) state.incident = now;
    const survivor = state.incident!;
    const plan = MergeHandOvers.plan(handOver, state, survivor, await registry.listAgencies());
    for (const agency of plan.adopt) {
      state.agencies[agency.agencyId] = agency;
      note({
        kind: 'engagement',
        agencyId: agency.agencyId,
        detail: `taken over from merged incident ${handOver.mergedId}, ${agency.state} there`,
      });
    }
    for (const agencyId of plan.notCleared) {
      note({
        kind: 'engagement',
        agencyId,
        detail: `not taken over from merged incident ${handOver.mergedId}: not cleared for TLP:${survivor.tlp}`,
      });
    }
    for (const [obligation, report] of plan.filed) {
      state.filed[obligation] = report;
      note({
        kind: 'report-filed',
        obligation,
        detail: `${obligationSpec(obligation).title} filed about merged incident ${handOver.mergedId} (${report.reference})`,
      });
    }
    await ctx.engage(plan.engage);
    await ctx.afterChange(previous.ncissLevel);
    await relabelEngagements(ctx.engagements, state.agencies, previous.tlp, survivor);
    for (const [obligation, report] of plan.filed) {
      const regime = obligationSpec(obligation).regime;
      if (!state.regimes.some((r) => r.regime === regime)) continue;
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, regime)).signal(reportFiledSignal, {
            obligation,
            filedAtMs: report.atMs,
            reference: report.reference,
          }),
        `${regime} clock`,
      );
    }
    merges.tookOver(handOver.mergedId);
    note({
      kind: 'merged',
      detail: `incident ${handOver.mergedId} merged into this one: aware since ${new Date(survivor.awareAtMs).toISOString()}, TLP:${survivor.tlp}`,
    });
  };

  return {
    hasWork: () => merges.hasWork(),
    step: async () => {
      const survivorId = merges.survivorId;
      if (survivorId !== undefined) {
        if (merges.mustHandOver) await handOverToSurvivor(survivorId);
        return;
      }
      const next = merges.next();
      if (next) await takeOver(next);
    },
  };
}
