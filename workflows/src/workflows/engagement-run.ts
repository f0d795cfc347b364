import { CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import type { Tlp } from '@beacon/domain';
import { ackTimeoutMs } from '../domain/policy.js';
import type {
  AcknowledgementInput,
  AgencyEngagementInput,
  AgencyEngagementOutcome,
  EngagementChange,
} from './definitions.js';
import { classic, events, notify, quick } from './proxies.js';

/** How far an engagement has gone: all it needs to carry on in another run. */
export interface EngagementProgress {
  assigned: boolean;
  /** Pass over the chain, from 1, and step within it. */
  round: number;
  step: number;
  noticesSent: number;
  firstNoticeAtMs?: number;
  ncissLevel: number;
  acknowledgement?: AcknowledgementInput;
  /** The incident's label since it changed (a merge or a revision); the start's until then. */
  tlp?: Tlp;
  /**
   * When the current step's contact was notified, while the engagement waits there (kept only
   * by engagements inside their response, which may hand them to a new run mid-wait).
   */
  waitingSinceMs?: number;
}

/** Where an engagement runs: what it tells, and what it may do between steps. */
export interface EngagementPort {
  /** Tells the response a change (a signal from a child, a call inside the response). */
  report(change: Omit<EngagementChange, 'agencyId' | 'noticesSent' | 'atMs'>): Promise<unknown>;
  /** Whether a notice after the first publishes `response.engagement-escalated`. */
  escalationEvents(): boolean;
  /** Between two steps: a child hands its history to a new run here. */
  betweenSteps?(progress: EngagementProgress): Promise<void>;
  /** Whether it remembers its wait (`waitingSinceMs`) across runs. */
  readonly resumesWaits: boolean;
}

export const initialProgress = (input: AgencyEngagementInput): EngagementProgress => ({
  assigned: input.assignedInIntake === true,
  round: 1,
  step: 0,
  noticesSent: 0,
  ncissLevel: input.ncissLevel,
});

/**
 * One agency's engagement on an incident: engages it in intake (so it may read the incident and
 * acknowledge), then notifies each contact of its chain in turn through notify, waiting at each
 * for an acknowledgement as long as the incident's severity allows, and ends at the national
 * SPOC; repeats the chain as the policy says. Ends on the first acknowledgement, with the time
 * it took, or unacknowledged; removed when cancelled. Reports each step through its port.
 *
 * The same steps run as a child workflow (`agencyEngagement`, responses from before
 * `inline-engagements`) or inside the response, which then costs no run of its own.
 */
export class Engagement {
  #escalateRequested = false;
  #levelChanged = false;
  #waiting = false;

  constructor(
    readonly input: AgencyEngagementInput,
    readonly progress: EngagementProgress,
  ) {}

  /** An acknowledgement arrived; the first one stands, as in notify. */
  acknowledge(ack: AcknowledgementInput): void {
    this.progress.acknowledgement ??= ack;
  }

  /** A coordinator asked for the next contact now. */
  escalateNow(): void {
    this.#escalateRequested = true;
  }

  /** The incident's severity (and perhaps its label) changed. */
  severityChanged({ ncissLevel, tlp }: { ncissLevel: number; tlp?: Tlp | undefined }): void {
    this.progress.ncissLevel = ncissLevel;
    if (tlp !== undefined) this.progress.tlp = tlp;
    this.#levelChanged = true;
  }

  /** Waiting at a contact, with no call under way: a run may hand it over now. */
  get waiting(): boolean {
    return this.#waiting;
  }

  async run(port: EngagementPort): Promise<AgencyEngagementOutcome> {
    const { incidentId, agencyId, chain, policy } = this.input;
    const progress = this.progress;
    const report = (change: Omit<EngagementChange, 'agencyId' | 'noticesSent' | 'atMs'>) =>
      port.report(change);

    const acknowledged = async (): Promise<AgencyEngagementOutcome> => {
      const acknowledgement = progress.acknowledgement!;
      const timeToAcknowledgeMs =
        progress.firstNoticeAtMs === undefined
          ? 0
          : Math.max(0, acknowledgement.atMs - progress.firstNoticeAtMs);
      await report({ state: 'acknowledged', acknowledgement, timeToAcknowledgeMs });
      return {
        agencyId,
        state: 'acknowledged',
        noticesSent: progress.noticesSent,
        acknowledgement,
        timeToAcknowledgeMs,
      };
    };

    try {
      if (!progress.assigned) {
        await (this.input.lean ? quick : classic).intake.engageAgency(incidentId, agencyId);
        progress.assigned = true;
      }
      while (progress.round <= policy.engagement.rounds && !progress.acknowledgement) {
        const step = chain[progress.step];
        if (step) {
          let noticeAtMs = progress.waitingSinceMs;
          if (noticeAtMs === undefined) {
            const timeoutMs = ackTimeoutMs(policy, progress.ncissLevel);
            await notify.notifyEngagement({
              incidentId,
              agencyId: step.agencyId,
              contactRank: step.contactRank,
              regardingAgencyId: agencyId,
              round: progress.round,
              ncissLevel: progress.ncissLevel,
              acknowledgeByMs: Date.now() + timeoutMs,
            });
            noticeAtMs = Date.now();
            progress.noticesSent += 1;
            progress.firstNoticeAtMs ??= noticeAtMs;
            const escalation = progress.noticesSent > 1;
            if (escalation && port.escalationEvents()) {
              await events.publishResponseEvent({
                type: 'engagement-escalated',
                incidentId,
                tlp: progress.tlp ?? this.input.tlp,
                agencyId,
                toAgencyId: step.agencyId,
                contactRank: step.contactRank,
                role: step.role,
                round: progress.round,
                atMs: noticeAtMs,
              });
            }
            await report({ state: 'notified', step, round: progress.round, notifiedAtMs: noticeAtMs });
            if (port.resumesWaits) progress.waitingSinceMs = noticeAtMs;
          }
          // Wait at this contact; a change of severity moves the deadline, a coordinator's
          // escalation or an acknowledgement ends the wait.
          this.#waiting = true;
          for (;;) {
            if (progress.acknowledgement || this.#escalateRequested) break;
            const remainingMs = noticeAtMs + ackTimeoutMs(policy, progress.ncissLevel) - Date.now();
            if (remainingMs <= 0) break;
            this.#levelChanged = false;
            await condition(
              () => !!progress.acknowledgement || this.#escalateRequested || this.#levelChanged,
              remainingMs,
            );
          }
          this.#waiting = false;
          this.#escalateRequested = false;
          delete progress.waitingSinceMs;
        }
        if (progress.acknowledgement) break;
        progress.step += 1;
        if (progress.step >= chain.length) {
          progress.step = 0;
          progress.round += 1;
        }
        if (port.betweenSteps) await port.betweenSteps(progress);
      }
      if (progress.acknowledgement) return await acknowledged();

      const last = chain.at(-1);
      await events.publishResponseEvent({
        type: 'engagement-unacknowledged',
        incidentId,
        tlp: progress.tlp ?? this.input.tlp,
        agencyId,
        toAgencyId: last?.agencyId ?? agencyId,
        contactRank: last?.contactRank ?? 0,
        role: last?.role ?? '',
        round: policy.engagement.rounds,
        atMs: Date.now(),
      });
      await report({ state: 'unacknowledged' });
      return { agencyId, state: 'unacknowledged', noticesSent: progress.noticesSent };
    } catch (error) {
      this.#waiting = false;
      if (!isCancellation(error)) throw error;
      log.info('engagement removed', { incidentId, agencyId });
      await CancellationScope.nonCancellable(() => report({ state: 'removed' }));
      return { agencyId, state: 'removed', noticesSent: progress.noticesSent };
    }
  }
}
