import { compareTlp, labelAllowsJoin, observableKey, type Observable } from '@beacon/domain';
import {
  canReadIncident,
  canSubmitReport,
  canVerifyAudit,
  incidentScope,
  revisesIncident,
  type Caller,
} from '../domain/access.js';
import type { Incident, Report } from '../domain/incident.js';
import {
  acceptsReports,
  attachReport,
  openDirectly,
  openFromReport,
  type IncidentOpening,
} from '../domain/rules.js';
import type { PossibleRelation } from '../domain/relation.js';
import { correlate } from './correlate.js';
import { IndicatorClaims } from './indicator-claims.js';
import { lookupIndicator } from './indicator-lookup.js';
import { PossibleRelations } from './possible-relations.js';
import { MergeIncidents, type MergeRequest, type MergeStore } from './merge-incidents.js';
import { AuditTrail, notFound, requireCleared, requireCoordinator } from './audit-trail.js';
import { eachPending } from './each-pending.js';
import { IntakeError } from './errors.js';
import { IncidentCommands } from './incident-commands.js';
import type {
  AuditLog,
  AuditRecord,
  Clock,
  CorrelationHasher,
  CreatedIds,
  IdempotencyStore,
  IncidentListOptions,
  IncidentPage,
  IncidentStore,
  Ids,
  IndicatorClaimStore,
  ReportPlan,
  ReportStore,
  AuditChainEnd,
  AuditVerification,
  CorrelationIndex,
  RelationStore,
  Sighting,
  SightingStore,
  StoredReport,
} from './ports.js';
import { trends, type TrendDimension, type TrendGranularity, type TrendPoint } from '../domain/trends.js';
import { exportIncidentStix, type StixBundle } from '../domain/stix.js';

export interface IntakeDeps {
  readonly incidents: IncidentStore;
  readonly reports: ReportStore;
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditLog;
  readonly sightings: SightingStore;
  readonly correlation: CorrelationIndex;
  readonly claims: IndicatorClaimStore;
  readonly relations: RelationStore;
  readonly merges: MergeStore;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly hash: CorrelationHasher;
  /** How far back a report's observables may correlate it with an incident's. */
  readonly correlationWindowMs: number;
  /** How long an idempotency key is honoured, at least. */
  readonly idempotencyRetentionMs: number;
  /** Who this deployment is in STIX exports: a stable `identity--<uuid>` and a name. */
  readonly stixIdentity: { readonly id: string; readonly name: string };
  readonly uuid: () => string;
}

/** Reports, or pending audit records, one recovery pass takes at most. */
export const RECOVERY_BATCH = 100;

/** Trends count at most this many incidents per query; ranges are limited to a year. */
export const TREND_INCIDENT_LIMIT = 200_000;
export const MAX_TREND_RANGE_MS = 366 * 86_400_000;

/** A report as submitted, validated, before it has an id. */
export type ReportInput = Omit<Report, 'id' | 'incidentId' | 'reporterAgencyId' | 'submittedAt'>;

export type OpenIncidentInput = IncidentOpening & { readonly observables: Report['observables'] };

export interface SubmitResult {
  /** Its `incidentId` is empty when the caller may not see that incident. */
  readonly report: Report;
  /** Absent when the caller may not see the incident its report joined. */
  readonly incident: Incident | undefined;
  /** True when the report joined an existing incident the caller may see. */
  readonly attached: boolean;
}

/** Creating calls carry the caller's idempotency key and a digest of the request. */
export interface Idempotency {
  readonly key: string;
  readonly requestHash: string;
}

/** Attempts at linking a report to a busy incident before it is answered ABORTED. */
const MAX_CAS_ATTEMPTS = 20;

/** The intake use cases. Each checks the caller's rights itself: no adapter is trusted to. */
export class IntakeService {
  readonly #relations: PossibleRelations;
  readonly #merges: MergeIncidents;
  readonly #indicatorClaims: IndicatorClaims;
  readonly #trail: AuditTrail;
  /** A coordinator's commands on an incident: facts, lifecycle, severity, engaged agencies. */
  readonly commands: IncidentCommands;

  constructor(private readonly deps: IntakeDeps) {
    this.#trail = new AuditTrail(deps);
    this.commands = new IncidentCommands(deps, this.#trail);
    this.#relations = new PossibleRelations(deps);
    this.#merges = new MergeIncidents(deps);
    this.#indicatorClaims = new IndicatorClaims(deps);
  }

  /** A coordinator's merge of two incidents it may both read (see `MergeIncidents`). */
  mergeIncidents(caller: Caller, request: MergeRequest, idempotency?: Idempotency): Promise<Incident> {
    return this.#merges.merge(caller, request, idempotency);
  }

  /** Finishes merges a crash left half done; safe to run on every replica. Returns how many. */
  finishPendingMerges(olderThanMs?: number): Promise<number> {
    return this.#merges.finishPending(olderThanMs);
  }

  async submitReport(caller: Caller, input: ReportInput, idempotency?: Idempotency): Promise<SubmitResult> {
    if (!canSubmitReport(caller))
      throw new IntakeError('permission-denied', 'this caller may not file reports');
    const { ids, replay } = await this.#claim(caller, 'SubmitReport', idempotency, {
      incidentId: this.deps.ids.next('inc'),
      reportId: this.deps.ids.next('rep'),
    });
    const reportId = ids.reportId!;

    // Only a replayed key can find its report stored already.
    let stored = replay ? await this.deps.reports.get(reportId) : undefined;
    if (!stored) {
      const now = this.deps.clock.now();
      const { target, related } = await correlate(
        this.deps,
        caller,
        {
          tlp: input.tlp,
          keyByHash: new Map(
            input.observables.map((o) => [this.deps.hash(observableKey(o)), observableKey(o)]),
          ),
        },
        new Date(now.getTime() - this.deps.correlationWindowMs),
      );
      // Decided once, with the caller's rights, and stored with the report: a retry or the
      // recovery sweep (which has no caller) repeats exactly this.
      const plan: ReportPlan = target
        ? {
            incidentId: target.id,
            opensIncident: false,
            revisesIncident: revisesIncident(caller, target),
            related,
          }
        : { incidentId: ids.incidentId, opensIncident: true, related };
      const report: Report = {
        ...input,
        id: reportId,
        incidentId: plan.incidentId,
        reporterAgencyId: caller.agencyId,
        submittedAt: now,
      };
      // The submission's audit record is stored with the report, in the same write.
      const audit = this.#trail.record(caller, 'report.submitted', reportId, input.tlp);
      stored =
        (await this.deps.reports.insert(report, plan, audit)) === 'inserted'
          ? { report, plan, linked: false, audit }
          : // A concurrent retry with the same key stored it first: follow its plan.
            await this.deps.reports.get(reportId);
      if (!stored) throw new Error(`report ${reportId} vanished`);
    }
    const { plan, ...settled } = await this.#settle(caller, stored);
    const { incident, report } = await this.#link(settled.report, plan);
    // A replay of a submission that got as far as marking it linked was audited already; one
    // that did not appends the record its first attempt stored (twice only if both attempts
    // run at once: an audit record may repeat, it is never lost).
    if (stored.linked) await this.#relations.record(report, incident, plan.related ?? []);
    else {
      const audit = stored.audit ?? this.#trail.record(caller, 'report.submitted', report.id, report.tlp);
      await this.#finishLinking(report, incident, plan, audit);
    }
    // A report joins only an incident its reporter reads; this covers a reporter who may not
    // read even the incident its own report opened (labelled above its clearance).
    const readable = canReadIncident(caller, incident);
    return {
      report: readable ? report : { ...report, incidentId: '' },
      incident: readable ? incident : undefined,
      attached: readable && incident.reportIds[0] !== report.id,
    };
  }

  /**
   * Forgets idempotency keys older than the retention, so the records do not grow without end:
   * a retry within the retention still returns the first result; after it, the request is new.
   * Safe to run on every replica.
   */
  forgetIdempotencyKeys(): Promise<number> {
    return this.deps.idempotency.expire(
      new Date(this.deps.clock.now().getTime() - this.deps.idempotencyRetentionMs),
    );
  }

  /** Finishes reports a crash left stored but unlinked; safe to run on every replica. */
  async linkUnlinkedReports(olderThanMs = 30_000): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - olderThanMs);
    const pending = await this.deps.reports.unlinked(before, RECOVERY_BATCH);
    return eachPending(pending, 'reports could not be linked', async (stored) => {
      const { report, plan } = await this.#settle(undefined, stored);
      const done = await this.#link(report, plan);
      await this.#finishLinking(done.report, done.incident, plan, stored.audit);
    });
  }

  /**
   * Appends the audit records a crash or a failed append left stored with their changes; safe
   * to run on every replica (a record may then be appended twice, never lost). Returns how many.
   */
  async appendPendingAudits(olderThanMs = 30_000): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - olderThanMs);
    const pending = await this.deps.incidents.pendingAudits(before, RECOVERY_BATCH);
    for (const { incidentId, audit } of pending) await this.#trail.appendPending(incidentId, audit);
    return pending.length;
  }

  async openIncident(caller: Caller, input: OpenIncidentInput, idempotency?: Idempotency): Promise<Incident> {
    requireCoordinator(caller, 'open');
    requireCleared(caller, input.tlp);
    const {
      ids: { incidentId },
    } = await this.#claim(caller, 'OpenIncident', idempotency, { incidentId: this.deps.ids.next('inc') });
    const existing = await this.deps.incidents.get(incidentId);
    if (existing) return existing;
    const change = openDirectly(
      {
        ...input,
        id: incidentId,
        observables: input.observables.map((o) => ({ ...o, tlp: input.tlp, reportId: '' })),
      },
      this.deps.clock.now(),
    );
    const audit = this.#trail.pending(caller, 'incident.opened', incidentId, input.tlp);
    const inserted = (await this.deps.incidents.insert(change, audit)) === 'inserted';
    await this.deps.correlation.record(this.#hashes(input.observables), incidentId, change.incident.openedAt);
    // A concurrent retry that inserted first appends its own record.
    if (inserted) await this.#trail.appendPending(incidentId, audit);
    return (await this.deps.incidents.get(incidentId)) ?? change.incident;
  }

  async getIncident(caller: Caller, id: string): Promise<Incident> {
    const incident = await this.deps.incidents.get(id);
    // Not found and not allowed look the same, so ids cannot be probed.
    if (!incident || !canReadIncident(caller, incident)) throw notFound(id);
    if (compareTlp(incident.tlp, 'AMBER') >= 0)
      await this.#trail.read(caller, 'incident.read', id, incident.tlp);
    // A merged incident points to its survivor only for callers who may read the survivor.
    return this.#merges.asSeenBy(caller, incident);
  }

  async listIncidents(caller: Caller, options: IncidentListOptions): Promise<IncidentPage> {
    const page = await this.deps.incidents.list(incidentScope(caller), options);
    // A list shows whole incidents: reading AMBER and above is audited as for a single read.
    await Promise.all(
      page.incidents
        .filter((i) => compareTlp(i.tlp, 'AMBER') >= 0)
        .map((i) => this.#trail.read(caller, 'incident.read', i.id, i.tlp)),
    );
    // A merged incident points to its survivor only for a caller who may read the survivor.
    return {
      ...page,
      incidents: await Promise.all(page.incidents.map((i) => this.#merges.asSeenBy(caller, i))),
    };
  }

  async trends(
    caller: Caller,
    query: { from: Date; to: Date; granularity: TrendGranularity; dimension: TrendDimension },
  ): Promise<TrendPoint[]> {
    const incidents = await this.deps.incidents.openedBetween(
      incidentScope(caller),
      query.from,
      query.to,
      TREND_INCIDENT_LIMIT,
    );
    return trends(incidents, query.granularity, query.dimension);
  }

  /** Sightings of one indicator on the incidents the caller may see (`lookupIndicator`). */
  lookupIndicator(caller: Caller, observable: Observable): Promise<Sighting[]> {
    return lookupIndicator(this.deps, caller, observable, (incident) =>
      this.#trail.read(caller, 'incident.read', incident.id, incident.tlp),
    );
  }

  /** The incident as the caller may see it, as a STIX 2.1 bundle. */
  async exportStix(caller: Caller, id: string): Promise<StixBundle> {
    const incident = await this.getIncident(caller, id);
    return exportIncidentStix(incident, {
      identityId: this.deps.stixIdentity.id,
      identityName: this.deps.stixIdentity.name,
      now: this.deps.clock.now(),
      uuid: this.deps.uuid,
    });
  }

  async verifyAudit(caller: Caller, checkpoint: readonly AuditChainEnd[] = []): Promise<AuditVerification> {
    if (!canVerifyAudit(caller)) {
      throw new IntakeError('permission-denied', 'only auditors and coordinators may verify the audit chain');
    }
    return this.deps.audit.verify(checkpoint);
  }

  /**
   * Possible relations of the incident, for coordinators cleared for both incidents of each;
   * everyone else, and an incident hidden or missing, gets an empty list.
   */
  listPossibleRelations(caller: Caller, incidentId: string): Promise<PossibleRelation[]> {
    return this.#relations.list(caller, incidentId);
  }

  /** A report about to open its incident claims its indicators first (`IndicatorClaims`). */
  #settle(caller: Caller | undefined, stored: StoredReport): Promise<Pick<StoredReport, 'report' | 'plan'>> {
    if (stored.linked || !stored.plan.opensIncident) return Promise.resolve(stored);
    return this.#indicatorClaims.settle(caller, stored.report, stored.plan);
  }

  /** Makes sure the report is part of its incident; repeating it changes nothing. */
  async #link(report: Report, plan: ReportPlan): Promise<{ incident: Incident; report: Report }> {
    const now = this.deps.clock.now();
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (plan.opensIncident) {
        const opened = openFromReport(report, plan.incidentId, now);
        if ((await this.deps.incidents.insert(opened)) === 'inserted') {
          await this.#linked(report);
          return { incident: opened.incident, report };
        }
      }
      const incident = await this.deps.incidents.get(plan.incidentId);
      if (!incident) throw new Error(`incident ${plan.incidentId} of report ${report.id} is missing`);
      if (incident.reportIds.includes(report.id)) {
        await this.#linked(report);
        return { incident, report };
      }
      if (!acceptsReports(incident) || !labelAllowsJoin(report.tlp, incident.tlp)) {
        // The incident it was to join closed or filled up meanwhile, or a coordinator lowered
        // its label below the report's: it opens one of its own.
        plan = { incidentId: this.deps.ids.next('inc'), opensIncident: true };
        report = { ...report, incidentId: plan.incidentId };
        await this.deps.reports.replan(report.id, plan);
        continue;
      }
      const change = attachReport(incident, report, now, plan.revisesIncident ?? false);
      if (await this.deps.incidents.save(change, incident.version)) {
        await this.#linked(report);
        return { incident: change.incident, report };
      }
    }
    throw new IntakeError('conflict', `incident ${plan.incidentId} is too busy; retry the report`);
  }

  /**
   * After the incident has the report: its indicators' correlation and sightings, two writes
   * that need nothing of each other (a submission waits for the slower, not for both).
   */
  async #linked(report: Report): Promise<void> {
    await Promise.all([
      this.deps.correlation.record(this.#hashes(report.observables), report.incidentId, report.submittedAt),
      this.deps.sightings.record(report),
    ]);
  }

  /**
   * Last steps: the possible relations the report found and its audit record (when it has not
   * been appended yet), side by side; then the report is marked linked, and nothing is left for
   * the recovery sweep to redo. A crash before the mark redoes both, which each bear.
   */
  async #finishLinking(
    report: Report,
    incident: Incident,
    plan: ReportPlan,
    audit: AuditRecord | undefined,
  ): Promise<void> {
    await Promise.all([
      this.#relations.record(report, incident, plan.related ?? []),
      audit ? this.deps.audit.append(audit) : undefined,
    ]);
    await this.deps.reports.markLinked(report.id);
  }

  #hashes(observables: readonly Observable[]): string[] {
    return observables.map((o) => this.deps.hash(observableKey(o)));
  }

  /** A key is the caller's, per operation: the same key on another RPC is another request. */
  async #claim(
    caller: Caller,
    operation: string,
    idempotency: Idempotency | undefined,
    ids: CreatedIds,
  ): Promise<{ ids: CreatedIds; replay: boolean }> {
    if (!idempotency) return { ids, replay: false };
    const outcome = await this.deps.idempotency.claim(
      `${operation}:${caller.subject}:${idempotency.key}`,
      idempotency.requestHash,
      ids,
    );
    switch (outcome.state) {
      case 'new':
        return { ids, replay: false };
      case 'replay':
        return { ids: outcome.ids, replay: true };
      case 'mismatch':
        throw new IntakeError(
          'idempotency-mismatch',
          'this idempotency key was used for a different request; use a new key',
        );
    }
  }
}
