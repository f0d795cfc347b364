import type { ChainedLog, ChainEnd, ChainVerification } from '@beacon/platform';
import type { StatsScope } from '../domain/access.js';
import type { SupportOrganisation } from '../domain/model.js';
import type { CaseEvent, CaseState } from '../domain/victim-case.js';

/** A victim's data key, unwrapped: only ever held in memory, for one request. */
export type DataKey = { readonly __dataKey: unique symbol };

/** A data key as stored: sealed by the key-encryption key `kekId`. */
export interface WrappedKey {
  readonly kekId: string;
  readonly wrapped: Uint8Array;
}

/** Envelope encryption of personal data (AES-256-GCM, a data key per victim). */
export interface CaseCipher {
  /** The key-encryption key new data keys are wrapped by. */
  readonly currentKeyId: string;
  newKey(caseId: string): { key: DataKey; wrapped: WrappedKey };
  /** Throws CipherError when the wrapped key was altered or its KEK is not configured. */
  unwrap(caseId: string, wrapped: WrappedKey): DataKey;
  /** The key wrapped by the current KEK; undefined when it already is. */
  rewrap(caseId: string, wrapped: WrappedKey): WrappedKey | undefined;
  seal(key: DataKey, caseId: string, field: SealedField, plaintext: string): Uint8Array;
  /** Throws CipherError when the value was altered or belongs to another case or field. */
  open(key: DataKey, caseId: string, field: SealedField, sealed: Uint8Array): string;
}

/** Keyed hashes of what must be found without being stored. */
export interface SearchHasher {
  email(normalised: string): string;
  phone(normalised: string): string;
  /** The case id a victim's reference leads to. */
  caseIdOf(reference: string): string;
  /** Stable bytes for an idempotency scope, standing in for the randomness of a reference. */
  idempotencySeed(scope: string): Uint8Array;
}

/** The victim's personal fields, which cases written before `personal` sealed one by one. */
export const VICTIM_FIELDS = [
  'displayName',
  'organisationName',
  'email',
  'phone',
  'preferredChannel',
  'notes',
] as const;

/**
 * What is sealed: `personal`, all of a case's personal data as one value; the others, one
 * field each, are only read, in cases written before that form.
 */
export const SEALED_FIELDS = [
  'personal',
  'reference',
  ...VICTIM_FIELDS,
  /** The needs' details and the risk flags, as one JSON document. */
  'needs',
] as const;
export type SealedField = (typeof SEALED_FIELDS)[number];
export type SealedData = Readonly<Partial<Record<SealedField, Uint8Array>>>;

/** A case as stored: its clear state, its sealed personal data and what opens it. */
export interface StoredCase {
  readonly state: CaseState;
  readonly sealed: SealedData;
  /** Gone once the victim's data is erased: the sealed data can never be opened again. */
  readonly dataKey: WrappedKey | undefined;
  /** Keyed hashes for search; removed with the key at erasure. */
  readonly emailHash: string | undefined;
  readonly phoneHash: string | undefined;
  /** Digest of the request that opened the case under an idempotency key. */
  readonly requestHash: string | undefined;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

export interface CaseListFilter {
  readonly incidentId?: string;
  readonly urgentOnly: boolean;
  readonly includeClosed: boolean;
}

export interface CaseStore {
  get(id: string): Promise<StoredCase | undefined>;
  /** Several cases by id; those that do not exist are absent from the map. */
  getMany(ids: readonly string[]): Promise<Map<string, StoredCase>>;
  /**
   * Inserts new cases, each with its events in the same document write. Returns the ids of
   * those that existed already, which are left as they were.
   */
  insert(
    cases: readonly { readonly stored: StoredCase; readonly events: readonly CaseEvent[] }[],
    /** A bulk intake's batch: its events may trail it a little (see OutboxAnnouncements). */
    options?: { readonly bulk?: boolean },
  ): Promise<Set<string>>;
  /**
   * Replaces the case if it is still at `expectedVersion`, with its events in the same write;
   * false when another change came first. A key or hash that `next` lacks is removed.
   */
  update(next: StoredCase, expectedVersion: number, events: readonly CaseEvent[]): Promise<boolean>;
  /** An organisation's cases (those assigned to it), or all of an incident's cases, by id. */
  list(
    scope: { readonly org: string } | { readonly incident: string },
    filter: CaseListFilter,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CaseState>>;
  /** An organisation's cases whose victim has this keyed hash of an e-mail address or phone. */
  findByHash(orgId: string, field: 'email' | 'phone', hash: string): Promise<CaseState[]>;
  /** Open cases with a referral to the organisation. */
  referralsTo(orgId: string): Promise<CaseState[]>;
  /** Every case in scope, for counting; personal data never leaves the store here. */
  scan(
    scope: StatsScope,
    filter: { readonly incidentId?: string; readonly jurisdiction?: string },
    each: (state: CaseState) => void,
  ): Promise<void>;
  /** Cases whose data key is wrapped by another KEK than `currentKekId`. */
  keysNotWrappedBy(currentKekId: string, limit: number): Promise<{ id: string; dataKey: WrappedKey }[]>;
  countKeysNotWrappedBy(currentKekId: string): Promise<number>;
  /**
   * Replaces each case's wrapped key if it is still `from` (an erasure in between wins);
   * returns how many were replaced.
   */
  replaceKeys(changes: readonly { id: string; from: WrappedKey; to: WrappedKey }[]): Promise<number>;
}

export interface StoredOrganisation extends SupportOrganisation {
  /** Places free now: capacity minus referrals held. May go below 0 after a capacity cut. */
  readonly spare: number;
  readonly version: number;
}

export interface OrganisationStore {
  get(id: string): Promise<StoredOrganisation | undefined>;
  list(): Promise<StoredOrganisation[]>;
  /** Registers it with every place free; throws VictimsError already-exists. */
  create(org: SupportOrganisation): Promise<StoredOrganisation>;
  /** Replaces it at `expectedVersion`, moving its free places by the change in capacity. */
  update(org: SupportOrganisation, expectedVersion: number): Promise<StoredOrganisation>;
  /** Takes one free place if the organisation accepts and has one; whether it did. */
  reserve(id: string): Promise<boolean>;
  /** Gives one place back. */
  release(id: string): Promise<void>;
}

export const AUDIT_ACTIONS = [
  'open',
  'import',
  'read-personal-data',
  'update-personal-data',
  'search',
  'disclose-law-enforcement',
  'assess',
  'consent',
  'refer',
  'respond-referral',
  'check-in',
  'close',
  'erase',
  'rewrap',
  /** A status look-up with a reference that led nowhere: a guess, recorded under its keyed hash. */
  'lookup-failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One audit record: who did what to which cases. Never personal data of a victim. */
export interface AuditEntry {
  readonly at: Date;
  /** The caller's token subject. */
  readonly actor: string;
  readonly actorOrgId: string | undefined;
  readonly action: AuditAction;
  readonly caseIds: readonly string[];
  /** Non-personal detail: a purpose, a recipient agency, a referral id. */
  readonly detail: string;
}

/** A record of the audit log named with the hash it must have: a chain's end. */
export type AuditChainEnd = ChainEnd;

/** A verification of the audit log: every chain's end to keep, or the first break. */
export type AuditVerification = ChainVerification;

/** A stored audit record: the entry, and where it sits in its writer's chain. */
export interface ListedAuditEntry extends AuditEntry {
  readonly chain: string;
  readonly seq: number;
}

/** Append-only, hash-chained: one chain per writer (process). */
export interface AuditLog extends ChainedLog<AuditEntry> {
  /** Resolves once the record is stored; a read of personal data waits for it. */
  append(entry: AuditEntry): Promise<void>;
  /** A case's records in the order written; `after` and `next` are opaque cursors. */
  list(
    caseId: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ records: ListedAuditEntry[]; next: string | undefined }>;
}

export interface Clock {
  now(): Date;
}
