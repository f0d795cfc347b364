import type { Jurisdiction } from '@beacon/domain';
import type { Caller, Decision } from '../domain/access.js';
import { hasConsent } from '../domain/consent.js';
import type { ConsentPurpose, ConsentRecord, NeedKind } from '../domain/model.js';
import { routeReferrals } from '../domain/referral-routing.js';
import {
  involvedOrganisations,
  unmetNeeds,
  type CaseChange,
  type CaseState,
  type NewReferral,
} from '../domain/victim-case.js';
import { VictimsError } from './errors.js';
import { openPersonalData, withoutContact, type PersonalData } from './personal-data.js';
import type {
  AuditAction,
  AuditLog,
  CaseCipher,
  CaseStore,
  Clock,
  DataKey,
  OrganisationStore,
  SealedData,
  SearchHasher,
  StoredCase,
  StoredOrganisation,
} from './ports.js';

/**
 * What every victims use case is given. Each use case checks the caller's rights itself;
 * every read of personal data is audited before the data is opened; every change of a case is
 * one version-checked write of the case document with its events (see `changeCase`).
 */
export interface VictimsDeps {
  readonly cases: CaseStore;
  readonly organisations: OrganisationStore;
  readonly audit: AuditLog;
  readonly cipher: CaseCipher;
  readonly hasher: SearchHasher;
  readonly clock: Clock;
  /** Cryptographically strong random bytes (case references). */
  readonly random: (size: number) => Uint8Array;
  /** A freed referral place could not be given back (the count is off by one until fixed). */
  readonly onReleaseFailure?: (organisationId: string, error: unknown) => void;
  /** Part of an import could not be stored; its rows were answered as not stored. */
  readonly onPartialImport?: (error: unknown, rows: number) => void;
  /** Counts of people under this are suppressed in statistics; never below 5 whatever is given. */
  readonly statsThreshold?: number;
}

/** A victim's consent or its withdrawal, as the officer states it. */
export interface ConsentInput {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly wordingVersion: string;
}

const MAX_CAS_ATTEMPTS = 8;
/** Routings tried when organisations fill up between the choice and the reservation. */
export const MAX_RESERVE_ATTEMPTS = 5;

/** A refusal: the caller's role or organisation may not do this. */
export const refuse = (message: string) => new VictimsError('permission-denied', message);
export const CASE_WORK_ONLY =
  'victim cases are read and worked on only by victim officers of their organisations';
export const OWNER_ONLY = 'only victim officers of the organisation that opened the case close or erase it';

/**
 * Loads a case for a caller: a role that may never do this is refused before the lookup
 * (so the answer says nothing of whether the case exists), and a case the caller's
 * organisation may not see answers exactly like one that does not exist.
 */
export async function loadCase(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  access: (caller: Caller, facts: CaseState | undefined) => Decision,
  refusal: string,
): Promise<StoredCase> {
  if (access(caller, undefined) === 'refuse') throw refuse(refusal);
  const stored = await deps.cases.get(caseId);
  const decision = access(caller, stored?.state);
  if (decision === 'refuse') throw refuse(refusal);
  if (decision === 'hidden' || !stored) throw new VictimsError('not-found', `no case ${caseId}`);
  return stored;
}

/**
 * One version-checked change: load, decide, write the case with its events; when another
 * change came first, start again (or, if the caller named the version it saw, say so).
 * Places reserved for a write that lost are given back; places the change frees, too.
 */
export async function changeCase(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  how: {
    readonly access: (caller: Caller, facts: CaseState | undefined) => Decision;
    readonly refusal?: string;
    /** The version the caller saw; 0 for whatever is current. */
    readonly expectedVersion?: number;
    readonly action: AuditAction;
    readonly detail?: string;
  },
  apply: (
    current: StoredCase,
    now: Date,
    reserved: string[],
  ) => Promise<{ next: StoredCase; change: CaseChange } | 'unchanged'>,
): Promise<StoredCase> {
  const expectedVersion = how.expectedVersion ?? 0;
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const current = await loadCase(deps, caller, caseId, how.access, how.refusal ?? CASE_WORK_ONLY);
    if (expectedVersion > 0 && current.state.version !== expectedVersion) {
      throw new VictimsError(
        'conflict',
        `the case is at version ${current.state.version}, not ${expectedVersion}`,
      );
    }
    const reserved: string[] = [];
    let result: Awaited<ReturnType<typeof apply>>;
    try {
      result = await apply(current, deps.clock.now(), reserved);
    } catch (error) {
      await releaseAll(deps, reserved);
      throw error;
    }
    if (result === 'unchanged') {
      await releaseAll(deps, reserved);
      return current;
    }
    const next: StoredCase = {
      ...result.next,
      state: { ...result.next.state, version: current.state.version + 1 },
    };
    if (!(await deps.cases.update(next, current.state.version, result.change.events))) {
      await releaseAll(deps, reserved);
      if (expectedVersion > 0)
        throw new VictimsError('conflict', 'the case changed meanwhile; read it again');
      continue;
    }
    await releaseAll(deps, result.change.released);
    await recordAudit(deps, caller, how.action, [caseId], how.detail ?? '');
    return next;
  }
  throw new VictimsError('conflict', `case ${caseId} kept changing; try again`);
}

/** A case's personal data, opened for `caller` once the read is audited. */
export async function readPersonal(
  deps: VictimsDeps,
  caller: Caller,
  stored: StoredCase,
  action: AuditAction,
  detail: string,
): Promise<PersonalData> {
  const key = dataKeyOf(deps, stored);
  // Audited first: a read that cannot be recorded does not happen.
  await recordAudit(deps, caller, action, [stored.state.id], detail);
  return openPersonalData(deps.cipher, key, stored.state.id, stored.sealed, stored.state.victimKind);
}

/** The sealed data without the contact details (see `withoutContact`). */
export function sealedWithoutContact(deps: VictimsDeps, stored: StoredCase): SealedData {
  const key = stored.state.erasedAt || !stored.dataKey ? undefined : dataKeyOf(deps, stored);
  return withoutContact(deps.cipher, key, stored.state.id, stored.sealed, stored.state.victimKind);
}

/** The case's data key, unwrapped; an erased case has none, and says so. */
export function dataKeyOf(deps: VictimsDeps, stored: StoredCase): DataKey {
  if (stored.state.erasedAt || !stored.dataKey) {
    throw new VictimsError(
      'failed-precondition',
      'the victim’s personal data was erased and can no longer be read',
    );
  }
  return deps.cipher.unwrap(stored.state.id, stored.dataKey);
}

/** A crisis referral for a case that needs one and has none (reserved when consented). */
export async function crisisFor(
  deps: VictimsDeps,
  state: CaseState,
  reserved: string[],
): Promise<{ referral?: NewReferral; unplaced: boolean }> {
  if (!state.assessment.crisis || hasCrisisReferral(state)) return { unplaced: false };
  const placed = await placeCrisis(deps, await deps.organisations.list(), {
    jurisdiction: state.jurisdiction,
    language: state.language,
    needs: unmetNeeds(state),
    consented: hasConsent(state.consents, 'share-support'),
    exclude: involvedOrganisations(state),
  });
  if (placed.reserved) reserved.push(placed.reserved);
  return placed.referral ? { referral: placed.referral, unplaced: false } : { unplaced: true };
}

/**
 * The crisis-capable organisation for a case, by the routing rules. Without consent to
 * share, the referral waits for it and nothing is told to anyone; with it, a place is
 * taken (when another case took the last one meanwhile, the next organisation is tried).
 */
export async function placeCrisis(
  deps: VictimsDeps,
  orgs: readonly StoredOrganisation[],
  facts: {
    readonly jurisdiction: Jurisdiction;
    readonly language: string;
    readonly needs: readonly NeedKind[];
    readonly consented: boolean;
    readonly exclude: ReadonlySet<string>;
  },
): Promise<{ referral?: NewReferral; reserved?: string }> {
  const tried = new Set(facts.exclude);
  for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
    const pick = routeReferrals(
      {
        jurisdiction: facts.jurisdiction,
        language: facts.language,
        needs: facts.needs,
        crisis: true,
        exclude: tried,
      },
      orgs,
    ).picks.find((p) => p.crisis);
    if (!pick) return {};
    const referral = { organisationId: pick.organisationId, needs: pick.needs, crisis: true };
    if (!facts.consented) return { referral: { ...referral, state: 'awaiting-consent' } };
    if (await deps.organisations.reserve(pick.organisationId)) {
      return { referral: { ...referral, state: 'offered' }, reserved: pick.organisationId };
    }
    tried.add(pick.organisationId);
  }
  return {};
}

/** Unmet needs that no eligible organisation covers now. */
export async function uncoveredNeeds(deps: VictimsDeps, state: CaseState): Promise<NeedKind[]> {
  const needs = unmetNeeds(state);
  if (needs.length === 0 || state.closedAt) return [];
  const result = routeReferrals(
    {
      jurisdiction: state.jurisdiction,
      language: state.language,
      needs,
      crisis: false,
      exclude: involvedOrganisations(state),
    },
    await deps.organisations.list(),
  );
  return [...result.uncovered];
}

/** Gives referral places back; one that cannot be is reported, never thrown (the change stands). */
export async function releaseAll(deps: VictimsDeps, orgIds: readonly string[]): Promise<void> {
  for (const id of orgIds) {
    try {
      await deps.organisations.release(id);
    } catch (error) {
      deps.onReleaseFailure?.(id, error);
    }
  }
}

/** Appends one audit record of `caller` acting on `caseIds`. */
export function recordAudit(
  deps: VictimsDeps,
  caller: Caller,
  action: AuditAction,
  caseIds: readonly string[],
  detail: string,
): Promise<void> {
  return deps.audit.append({
    at: deps.clock.now(),
    actor: caller.subject,
    actorOrgId: caller.agencyId,
    action,
    caseIds: [...caseIds],
    detail,
  });
}

/** Two changes one after the other, as one: events and freed places of both. */
export function followedBy(first: CaseChange, second: CaseChange): CaseChange {
  return {
    state: second.state,
    events: [...first.events, ...second.events],
    released: [...first.released, ...second.released],
  };
}

/** Whether a crisis referral is offered, accepted or waiting for consent. */
export function hasCrisisReferral(state: CaseState): boolean {
  return state.referrals.some(
    (r) => r.crisis && (r.state === 'offered' || r.state === 'accepted' || r.state === 'awaiting-consent'),
  );
}

/** A consent as recorded: by whom and when, besides what was given. */
export function consentRecord(input: ConsentInput, caller: Caller, at: Date): ConsentRecord {
  return {
    purpose: input.purpose,
    granted: input.granted,
    wordingVersion: input.wordingVersion,
    recordedAt: at,
    recordedBy: caller.subject,
  };
}
