/**
 * The response's regulatory clocks: one RegulatoryClock child per regime that applies, started
 * when it first applies and told whenever the facts it counts from change.
 */
import { getExternalWorkflowHandle, log, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { clockFactsSignal, clockWorkflowId, SEARCH_ATTRIBUTES, type ClockFactsInput } from './definitions.js';
import { MERGE_HAND_OVER_PATCH } from './merge-hand-over.js';
import { signalQuietly } from './proxies.js';
import { ransomFacts } from './ransom-payments.js';
import { regulatoryClock } from './regulatory-clock.js';
import type { ResponseContext } from './response-context.js';
import type { RegimeState } from './response-state.js';
import { draftFacts } from './response-view.js';

/** Responses from here on withdraw a regime that no longer applies (it was kept before). */
const WITHDRAW_REGIMES_PATCH = 'withdraw-regimes';

export interface ResponseRegimes {
  /** Starts a clock for each regime that newly applies, and tells running clocks what changed. */
  readonly updateRegimes: () => Promise<void>;
  /** Tells a regime's running clock what it counts from, as the response now has it. */
  readonly tellClock: (r: RegimeState) => Promise<boolean>;
}

export function responseRegimes(ctx: ResponseContext): ResponseRegimes {
  const { incidentId, state, ledger, note, policy } = ctx;

  const clockFacts = (r: RegimeState): ClockFactsInput => ({
    obligations: r.obligations,
    ...(r.withdrawn ? { withdrawn: true } : {}),
    draftFacts: draftFacts(incidentId, state),
    ...ransomFacts(state),
    // A merge may move the awareness time earlier and raise the label: the clocks follow.
    ...(patched(MERGE_HAND_OVER_PATCH)
      ? { awareAtMs: state.incident!.awareAtMs, tlp: state.incident!.tlp }
      : {}),
  });

  // Not async: the caller awaits the signal's own promise, as it always did.
  const tellClock = (r: RegimeState) =>
    signalQuietly(
      () =>
        getExternalWorkflowHandle(clockWorkflowId(incidentId, r.regime)).signal(
          clockFactsSignal,
          clockFacts(r),
        ),
      `${r.regime} clock`,
    );

  const updateRegimes = async () => {
    const incident = state.incident!;
    // Asked only when a regime is withdrawn: histories from before withdrawals kept it.
    const withdraws = () => patched(WITHDRAW_REGIMES_PATCH);
    for (const entry of ledger.reconcileRegimes(ledger.regulatoryFacts(), Date.now(), withdraws)) note(entry);
    for (const r of state.regimes) {
      if (!r.clockStarted) {
        r.clockStarted = true;
        try {
          await startChild(regulatoryClock, {
            workflowId: clockWorkflowId(incidentId, r.regime),
            args: [
              {
                incidentId,
                parentWorkflowId: ctx.self,
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
        await tellClock(r);
      }
    }
  };

  return { updateRegimes, tellClock };
}
