import type { Tlp } from '@beacon/domain';
import type { ChainedLog, ChainEnd, ChainVerification } from '@beacon/platform';
import type { IncidentScope } from '../domain/access.js';
import type { Incident, IncidentStatus, Report } from '../domain/incident.js';
import type { IncidentFilter, IncidentOrder } from '../domain/incident-filter.js';
import type { Change } from '../domain/rules.js';
import type { PossibleRelation } from '../domain/relation.js';

/** Where a report goes: decided once, stored with the report, so a retry repeats it exactly. */
export interface ReportPlan {
  readonly incidentId: string;
  /** True when the report opens that incident rather than joining it. */
  readonly opensIncident: boolean;
  /** Joining moves the incident's awareness time: the source agency's own report. */
  readonly revisesIncident?: boolean;
  /**
   * Incidents the report matched but may not join: once it is in its own incident, a possible
   * relation with each is recorded (again on a retry, which changes nothing).
   */
  readonly related?: readonly RelatedMatch[];
}

/** An incident a report matched and could not join, with the indicators they share. */
export interface RelatedMatch {
  readonly incidentId: string;
  readonly tlp: Tlp;
  /** Observable keys of the report's indicators that matched it. */
  readonly sharedKeys: readonly string[];
}

/**
 * Possible relations, one document per pair of incidents (`relationId`), with the
 * `relation-found` event in the same document's outbox, so it is announced exactly when first
 * stored.
 */
export interface RelationStore {
  /**
   * Stores the relation with its event and its audit record (pending until `auditAppended`);
   * when the pair is related already, adds the reports and indicators to it and returns the
   * audit records still pending on it.
   */
  record(
    relation: PossibleRelation,
    audit: PendingAudit,
  ): Promise<{ readonly inserted: boolean; readonly pending: readonly PendingAudit[] }>;
  auditAppended(relationId: string, key: string): Promise<void>;
  /** Relations naming the incident, newest first, at most `limit`. */
  involving(incidentId: string, limit: number): Promise<PossibleRelation[]>;
}

/** What a list of incidents asks for; a page token answers only the same question. */
export interface IncidentListOptions {
  readonly limit: number;
  /** Opaque: `next` of the previous page of the same list. */
  readonly cursor?: string;
  readonly status?: IncidentStatus;
  /** Only incidents `matchesIncidentFilter` accepts. */
  readonly filter?: IncidentFilter;
  /** Newest first when absent. */
  readonly order?: IncidentOrder;
}

export interface IncidentPage {
  readonly incidents: readonly Incident[];
  /** Opaque; absent on the last page. */
  readonly next?: string;
}

/**
 * Incidents with their outbox: every write stores the incident and the events it causes in one
 * document update, so an event is published if and only if its change was stored.
 */
export interface IncidentStore {
  get(id: string): Promise<Incident | undefined>;
  /**
   * Stores a new incident; `exists` when one with that id is already stored. The audit record,
   * if given, is stored with it as pending until `auditAppended`.
   */
  insert(change: Change, audit?: PendingAudit): Promise<'inserted' | 'exists'>;
  /**
   * Stores the change if the incident is still at `expectedVersion`; false when it is not. The
   * audit record, if given, is stored in the same write as pending until `auditAppended`.
   */
  save(change: Change, expectedVersion: number, audit?: PendingAudit): Promise<boolean>;
  /** The pending audit record is in the audit log now. */
  auditAppended(incidentId: string, key: string): Promise<void>;
  /** Pending audit records made before `before` (a crash or a failed append left them), at most `limit`. */
  pendingAudits(before: Date, limit: number): Promise<{ incidentId: string; audit: PendingAudit }[]>;
  getMany(ids: readonly string[]): Promise<Incident[]>;
  /** The fields trends count, of incidents in scope opened in [from, to), at most `limit`. */
  openedBetween(
    scope: IncidentScope,
    from: Date,
    to: Date,
    limit: number,
  ): Promise<Pick<Incident, 'openedAt' | 'classification' | 'sectors' | 'jurisdictions'>[]>;
  /** Incidents in scope that match, a page at a time; the filter only ever narrows the scope. */
  list(scope: IncidentScope, options: IncidentListOptions): Promise<IncidentPage>;
}

/** A report as stored: where it goes, whether it got there, and its submission's audit record. */
export interface StoredReport {
  readonly report: Report;
  readonly plan: ReportPlan;
  /** The report is in its incident and its submission in the audit log. */
  readonly linked: boolean;
  /** The submission's audit record, until linked (absent on reports stored before it was kept). */
  readonly audit: AuditRecord | undefined;
}

export interface ReportStore {
  /** Stores the report with its plan and its submission's audit record; `exists` if already stored. */
  insert(report: Report, plan: ReportPlan, audit: AuditRecord): Promise<'inserted' | 'exists'>;
  get(id: string): Promise<StoredReport | undefined>;
  /** The report is in its incident and its audit record in the log: the record is dropped. */
  markLinked(id: string): Promise<void>;
  /**
   * Points the report at another incident: its planned one closed before it was linked, or
   * another report claimed its indicators for an incident it may join (`IndicatorClaims`).
   */
  replan(id: string, plan: ReportPlan): Promise<void>;
  /** Reports stored but not yet linked to their incident, older than `before` (a crash left them). */
  unlinked(before: Date, limit: number): Promise<StoredReport[]>;
}

/** The ids a creating request was given. */
export interface CreatedIds {
  readonly incidentId: string;
  readonly reportId?: string;
}

export type IdempotencyOutcome =
  | { readonly state: 'new' }
  | { readonly state: 'replay'; readonly ids: CreatedIds }
  | { readonly state: 'mismatch' };

/**
 * Remembers, per caller and key, a digest of the creating request and the ids it was given, so
 * a retry reuses them: the work is then repeated with the same ids and stored only once.
 */
export interface IdempotencyStore {
  claim(scope: string, requestHash: string, ids: CreatedIds): Promise<IdempotencyOutcome>;
  /** Forgets the keys claimed before `before`; returns how many. */
  expire(before: Date): Promise<number>;
}

export interface AuditRecord {
  readonly actor: string;
  readonly agencyId: string | undefined;
  readonly action: string;
  readonly objectId: string;
  readonly tlp: string;
  readonly at: Date;
}

/**
 * An audit record stored with the change it records, in the same write, until it is in the
 * log: a crash between the two leaves it for the recovery sweep, never lost.
 */
export interface PendingAudit {
  /** Unique per record, so appending it is confirmed for this record only. */
  readonly key: string;
  readonly record: AuditRecord;
}

/** A verification of the audit log: every chain's end to keep, or the first break. */
export type AuditVerification = ChainVerification;

/** A record of the audit log named with the hash it must have: a chain's end. */
export type AuditChainEnd = ChainEnd;

/** Append-only, hash-chained: one chain per writer. */
export type AuditLog = ChainedLog<AuditRecord>;

/**
 * Which incident each correlation hash was last seen on. Derived data, rebuilt by re-linking:
 * looked up by key only, so it stays fast on any Mongo-wire store.
 */
export interface CorrelationIndex {
  /**
   * Incidents last seen with any of the hashes since `since`, most recent first, each with the
   * hashes it was seen with.
   */
  find(hashes: readonly string[], since: Date): Promise<{ incidentId: string; hashes: string[] }[]>;
  record(hashes: readonly string[], incidentId: string, at: Date): Promise<void>;
}

/**
 * A report's claim on one of its indicators, taken before it opens an incident for it: of two
 * first reports of a new indicator, the one that claims it first opens the incident, and the
 * other joins it (`IndicatorClaims`).
 */
export interface IndicatorClaim {
  /** The indicator's correlation hash. */
  readonly hash: string;
  /** The incident the claiming report opens. */
  readonly incidentId: string;
  /** The report whose plan opens it; its stored plan says whether the claim still stands. */
  readonly reportId: string;
  readonly at: Date;
}

/** One claim per correlation hash, read and written by `_id` alone. */
export interface IndicatorClaimStore {
  /** Claims each hash unless another claim holds it; the claims holding them afterwards, in order. */
  claim(claims: readonly IndicatorClaim[]): Promise<IndicatorClaim[]>;
  /** Puts `claim` in place of `held` if `held` still holds its hash; the claim holding it afterwards. */
  takeOver(held: IndicatorClaim, claim: IndicatorClaim): Promise<IndicatorClaim>;
}

/** One report that carried an indicator. */
export interface Sighting {
  readonly incidentId: string;
  readonly reportId: string;
  readonly seenAt: Date;
  readonly tlp: Tlp;
}

/** Where every indicator was seen: the watchlist across incidents. */
export interface SightingStore {
  /** Records the report's observables; repeating it changes nothing. */
  record(report: Report): Promise<void>;
  /** Sightings of one observable key, newest first, read as they are consumed. */
  newestFirst(observableKey: string): AsyncIterable<Sighting>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A new unique id with a readable prefix, e.g. `inc_…`. */
  next(prefix: 'inc' | 'rep'): string;
}

/** Keyed hash (HMAC) of an observable key: equal indicators correlate, values stay hidden. */
export type CorrelationHasher = (observableKey: string) => string;
