/**
 * Why a coordinator's command is refused, as the refusal says it; undefined when it is
 * accepted. Pure: each update's validator refuses with these (`response-commands.ts`). The
 * checks run in a fixed order, and the first that fails is the reason given.
 */
import { invalidNcissInputs, isObligationId, type NcissInputs } from '@beacon/domain';
import type { AgencyEngagementStatus, FileReportCommand } from './definitions.js';
import { ransomPaymentProblem } from './ransom-payments.js';
import { isWaiting } from './response-ledger.js';
import type { ResponseState } from './response-state.js';
import { resolveBlockers, schedules } from './response-view.js';

export class CommandChecks {
  constructor(private readonly state: ResponseState) {}

  private closed(): string | undefined {
    return this.state.phase === 'closed' ? 'the response is closed' : undefined;
  }

  private untriaged(): string | undefined {
    return (
      this.closed() ??
      (this.state.phase === 'triage' ? 'the response is still in triage; try again in a moment' : undefined)
    );
  }

  private notActive(): string | undefined {
    return (
      this.untriaged() ?? (this.state.phase === 'active' ? undefined : `the response is ${this.state.phase}`)
    );
  }

  private agency(agencyId: string, allowed: readonly AgencyEngagementStatus['state'][]): string | undefined {
    const agency = this.state.agencies[agencyId];
    if (!agency) return `agency ${agencyId} is not engaged on this incident`;
    return allowed.includes(agency.state) ? undefined : `the engagement of ${agencyId} is ${agency.state}`;
  }

  /** An agency notified while the response is still in triage can acknowledge at once. */
  acknowledge(agencyId: string): string | undefined {
    return this.closed() ?? this.agency(agencyId, ['engaging', 'notified', 'unacknowledged']);
  }

  /** One engagement (or, with no agency, every waiting one), even while still in triage. */
  escalate(agencyId: string): string | undefined {
    const closed = this.closed();
    if (closed || agencyId) return closed ?? this.agency(agencyId, ['engaging', 'notified']);
    return Object.values(this.state.agencies).some(isWaiting)
      ? undefined
      : 'no engagement is waiting for an acknowledgement';
  }

  addAgency(agencyId: string): string | undefined {
    const phase = this.notActive();
    if (phase) return phase;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(agencyId)) return 'agencyId is not an agency id';
    const current = this.state.agencies[agencyId];
    return current && current.state !== 'removed'
      ? `agency ${agencyId} is already engaged (${current.state})`
      : undefined;
  }

  removeAgency(agencyId: string): string | undefined {
    return (
      this.untriaged() ?? this.agency(agencyId, ['engaging', 'notified', 'acknowledged', 'unacknowledged'])
    );
  }

  changeSeverity(inputs: NcissInputs | undefined): string | undefined {
    const phase = this.notActive();
    if (phase) return phase;
    const bad = invalidNcissInputs(inputs ?? {});
    return bad.length > 0 ? `invalid severity inputs: ${bad.join(', ')}` : undefined;
  }

  fileReport({ obligation, reference, filedAtMs }: FileReportCommand, nowMs: number): string | undefined {
    const untriaged = this.untriaged();
    if (untriaged) return untriaged;
    if (!isObligationId(obligation)) return `${String(obligation)} is not a reporting obligation`;
    if (!schedules(this.state).some((o) => o.id === obligation))
      return `${obligation} does not apply to this incident`;
    if (this.state.filed[obligation]) return `${obligation} was already filed`;
    if (typeof reference !== 'string' || reference.trim() === '' || reference.length > 200)
      return 'reference must be 1 to 200 characters';
    if (filedAtMs !== undefined && (!Number.isFinite(filedAtMs) || filedAtMs > nowMs))
      return 'filedAtMs must not be in the future';
    return undefined;
  }

  ransomPayment(paidAtMs: number, nowMs: number): string | undefined {
    return this.untriaged() ?? ransomPaymentProblem(this.state, paidAtMs, nowMs);
  }

  /** Refused, with the reasons, while reports that must come first are unfiled. */
  resolve(summary: string, nowMs: number): string | undefined {
    const untriaged = this.untriaged();
    if (untriaged) return untriaged;
    if (this.state.resolution) return 'resolution was already requested';
    if (this.state.phase !== 'active') return `the response is ${this.state.phase}`;
    if (typeof summary !== 'string' || summary.trim() === '') return 'a resolution needs a summary';
    const blockers = resolveBlockers(this.state, nowMs);
    return blockers.length > 0 ? `cannot resolve yet: ${blockers.join('; ')}` : undefined;
  }
}
