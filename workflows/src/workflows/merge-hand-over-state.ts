/**
 * The hand-over between the responses of two incidents intake merged: what each side has
 * received and done, and what the survivor takes over. Pure (no Temporal calls), so the rules
 * are unit-tested on their own; `merge-hand-over.ts` carries them out inside the workflow.
 */
import { agencyMayReceive, type ObligationId, type Tlp } from '@beacon/domain';
import type { EngagementDecision } from '../domain/engagement.js';
import type { AgencyEngagementStatus, HandOver } from './definitions.js';

type Filed = HandOver['filed'];
type FiledReport = NonNullable<Filed[ObligationId]>;

/** Carried across continue-as-new in the response's state. */
export interface HandOverState {
  /** This incident was merged into another; `handedOver` once its response said so. */
  mergedInto?: { readonly survivorId: string; handedOver: boolean };
  /** Hand-overs from incidents merged into this one, not taken over yet. */
  pending: HandOver[];
  /** Incidents merged into this one whose hand-over was taken over: a repeat is ignored. */
  absorbed: string[];
}

/** What the survivor's response does with one hand-over. */
export interface TakeOverPlan {
  /**
   * Engagements that ended on the merged incident (acknowledged there, or unacknowledged after
   * the whole chain): recorded on the survivor as they are, so nobody is paged twice.
   */
  readonly adopt: readonly AgencyEngagementStatus[];
  /** Engagements still waiting for an acknowledgement there: the survivor engages these itself. */
  readonly engage: readonly EngagementDecision[];
  /** Agencies the survivor's label is above: neither adopted nor engaged. */
  readonly notCleared: readonly string[];
  /** Reports filed about the merged incident that the survivor had not filed. */
  readonly filed: readonly (readonly [ObligationId, FiledReport])[];
}

/** The survivor as the plan needs it. */
export interface SurvivorFacts {
  readonly tlp: Tlp;
  readonly engagedAgencyIds: readonly string[];
}

export class MergeHandOvers {
  constructor(private readonly state: HandOverState) {}

  static initial(): HandOverState {
    return { pending: [], absorbed: [] };
  }

  /** The survivor this incident was merged into, if it was. */
  get survivorId(): string | undefined {
    return this.state.mergedInto?.survivorId;
  }

  /**
   * Intake merged this incident into `survivorId`. The first merge stands: intake refuses to
   * merge an incident twice, so a second one is a redelivery or a mistake.
   */
  mergedInto(survivorId: string, selfId: string): void {
    if (survivorId === '' || survivorId === selfId || this.state.mergedInto) return;
    this.state.mergedInto = { survivorId, handedOver: false };
  }

  /** An incident was merged into this one; a hand-over already taken over or queued is ignored. */
  received(handOver: HandOver): void {
    const id = handOver.mergedId;
    if (this.state.absorbed.includes(id) || this.state.pending.some((h) => h.mergedId === id)) return;
    this.state.pending.push(handOver);
  }

  /** Whether this incident's response still has to hand over to its survivor. */
  get mustHandOver(): boolean {
    return this.state.mergedInto !== undefined && !this.state.mergedInto.handedOver;
  }

  handedOver(): void {
    if (this.state.mergedInto) this.state.mergedInto.handedOver = true;
  }

  /** The next hand-over to take over, or none. It stays queued until `tookOver`. */
  next(): HandOver | undefined {
    return this.state.pending[0];
  }

  tookOver(mergedId: string): void {
    this.state.pending = this.state.pending.filter((h) => h.mergedId !== mergedId);
    if (!this.state.absorbed.includes(mergedId)) this.state.absorbed.push(mergedId);
  }

  /** Whether a step waits: a hand-over to make (before anything else), or one to take over. */
  hasWork(): boolean {
    return this.mustHandOver || (!this.state.mergedInto && this.state.pending.length > 0);
  }

  /** What a merged incident's response hands over: its engagements as they stand and its filed reports. */
  static handOverOf(
    mergedId: string,
    agencies: Readonly<Record<string, AgencyEngagementStatus>>,
    filed: Filed,
  ): HandOver {
    return {
      mergedId,
      agencies: Object.values(agencies).sort((a, b) => a.agencyId.localeCompare(b.agencyId)),
      filed: { ...filed },
    };
  }

  /**
   * What the survivor takes over. An agency it engages already (in any state, removed
   * included: a coordinator's removal stands) keeps that engagement: no engagement is doubled.
   * An agency removed on the merged incident is left out. Every other one must be cleared for
   * the survivor's label by the trust policy, as a recipient named on it: the label may have
   * risen in the merge, and an agency unknown to the registry is not cleared.
   */
  static plan(
    handOver: HandOver,
    here: {
      readonly agencies: Readonly<Record<string, AgencyEngagementStatus>>;
      readonly filed: Filed;
    },
    survivor: SurvivorFacts,
    registry: readonly { readonly id: string; readonly clearance: Tlp }[],
  ): TakeOverPlan {
    const adopt: AgencyEngagementStatus[] = [];
    const engage: EngagementDecision[] = [];
    const notCleared: string[] = [];
    const from = `taken over from merged incident ${handOver.mergedId}`;
    for (const agency of handOver.agencies) {
      if (here.agencies[agency.agencyId] || agency.state === 'removed') continue;
      const profile = registry.find((a) => a.id === agency.agencyId);
      const cleared =
        profile !== undefined &&
        agencyMayReceive(profile, {
          tlp: survivor.tlp,
          engagedAgencyIds: [...survivor.engagedAgencyIds, agency.agencyId],
        });
      if (!cleared) notCleared.push(agency.agencyId);
      else if (agency.state === 'acknowledged' || agency.state === 'unacknowledged')
        adopt.push({ ...agency, reasons: [...agency.reasons, from] });
      else engage.push({ agencyId: agency.agencyId, reasons: [...agency.reasons, from] });
    }
    const filed = (Object.entries(handOver.filed) as [ObligationId, FiledReport | undefined][]).flatMap(
      ([obligation, report]) =>
        report && here.filed[obligation] === undefined ? [[obligation, report] as const] : [],
    );
    return { adopt, engage, notCleared, filed };
  }
}
