/**
 * The incident changing under a running response (intake's new version, impact's new
 * assessment, a coordinator's new severity): what the response does to follow it.
 */
import { patched } from '@temporalio/workflow';
import { classic, signalQuietly } from './proxies.js';
import { MERGE_HAND_OVER_PATCH, relabelEngagements } from './merge-hand-over.js';
import type { ResponseContext } from './response-context.js';
import type { ResponseEngagements } from './response-engagements.js';
import type { ResponseRegimes } from './response-regimes.js';

export interface ResponseChanges {
  /** The incident changed severity: search attributes, engagements' waits, new agencies and regimes. */
  readonly afterSeverityChange: (previousLevel: number) => Promise<void>;
  /**
   * Impact assessed the incident again: the cascade the response acts on is replaced, and the
   * engagements and regimes follow it. (Impact feeds the new severity inputs to intake itself;
   * that change arrives as an incident change.)
   */
  readonly followImpact: () => Promise<void>;
  /** Applies what intake changed: severity and its consequences, agencies a coordinator engaged. */
  readonly applyIncidentChange: () => Promise<void>;
}

export function responseChanges(
  ctx: ResponseContext,
  { decideAndEngage }: Pick<ResponseEngagements, 'decideAndEngage'>,
  { updateRegimes }: Pick<ResponseRegimes, 'updateRegimes'>,
): ResponseChanges {
  const { incidentId, state, ledger, note } = ctx;

  const afterSeverityChange = async (previousLevel: number) => {
    ctx.publishSearchAttributes();
    const level = state.incident!.ncissLevel;
    if (level !== previousLevel) {
      note({
        kind: 'severity',
        detail: `NCISS level ${previousLevel} → ${level} (score ${state.incident!.ncissScore})`,
      });
      for (const a of Object.values(state.agencies)) {
        if (a.state === 'engaging' || a.state === 'notified') {
          await signalQuietly(
            () => ctx.engagements.severityChanged(a.agencyId, { ncissLevel: level }),
            `engagement of ${a.agencyId}`,
          );
        }
      }
    }
    await decideAndEngage();
    await updateRegimes();
  };

  const followImpact = async () => {
    const reassessed = ledger.takeImpact();
    if (!reassessed) return;
    note(reassessed);
    ctx.publishSearchAttributes();
    await decideAndEngage();
    await updateRegimes();
  };

  const applyIncidentChange = async () => {
    const taken = ledger.takeIncident();
    if (!taken) return;
    const { previous } = taken;
    let { next } = taken;
    if (ledger.namesNewAgency(next) && ctx.unassignmentWins()) {
      // Announcements arrive late: an agency is engaged on intake's word as it is now, so an
      // assignment a coordinator already took back is never acted on.
      const current = await classic.intake.loadIncident(incidentId);
      if (current.version > next.version) next = current;
    }
    // A coordinator revised the label or awareness time: who is cleared and the clocks follow.
    const change = ledger.applyIncident(previous, next, () => patched(MERGE_HAND_OVER_PATCH));
    if (!change.note) return;
    note(change.note);
    await afterSeverityChange(previous.ncissLevel);
    if (change.revised) await relabelEngagements(ctx.engagements, state.agencies, previous.tlp, next);
  };

  return { afterSeverityChange, followImpact, applyIncidentChange };
}
