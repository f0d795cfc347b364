import { disclosureThreshold, mayChangeOrganisationField, type Jurisdiction } from '@beacon/domain';
import {
  canListAudit,
  caseListScope,
  canListOrganisations,
  canReadReferralsOf,
  canRegisterOrganisation,
  canRewrapKeys,
  canUpdateOrganisation,
  canVerifyAudit,
  caseOwnerAccess,
  caseWorkAccess,
  followUpAccess,
  officerOrganisation,
  statsScope,
  type Caller,
  type Decision,
} from '../domain/access.js';
import { referenceFromBytes, REFERENCE_RANDOM_SYMBOLS } from '../domain/case-reference.js';
import { hasConsent, requireConsent } from '../domain/consent.js';
import type {
  CaseStatus,
  CheckInOutcome,
  CloseReason,
  ConsentPurpose,
  ConsentRecord,
  DeclineReason,
  Need,
  NeedKind,
  ReferralState,
  RiskFlag,
  SupportOrganisation,
  Victim,
} from '../domain/model.js';
import { assessNeeds } from '../domain/needs.js';
import { routeReferrals, type RoutingPick } from '../domain/referral-routing.js';
import { releaseStats, StatsAccumulator, type ReleasedVictimStats } from '../domain/stats.js';
import {
  addReferrals,
  closeCase,
  eraseCase,
  involvedOrganisations,
  offerAwaiting,
  openCase,
  reassess,
  recordCheckIn,
  recordConsent,
  respondToReferral,
  statusOf,
  unmetNeeds,
  type CaseChange,
  type CaseState,
  type NewReferral,
} from '../domain/victim-case.js';
import { VictimsError } from './errors.js';
import {
  openPersonalData,
  sealNeeds,
  sealPersonalData,
  sealVictim,
  withoutContact,
  type PersonalData,
} from './personal-data.js';
import type {
  AuditAction,
  AuditChainEnd,
  AuditLog,
  AuditVerification,
  ListedAuditEntry,
  CaseCipher,
  CaseListFilter,
  CaseStore,
  Clock,
  OrganisationStore,
  Page,
  SealedData,
  SearchHasher,
  StoredCase,
  StoredOrganisation,
} from './ports.js';

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

export interface ConsentInput {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly wordingVersion: string;
}

/** A new case, validated and normalised at the edge. */
export interface NewCaseInput {
  readonly incidentIds: readonly string[];
  readonly reportIds: readonly string[];
  readonly jurisdiction: Jurisdiction;
  readonly language: string;
  readonly victim: Victim;
  readonly needs: readonly Need[];
  readonly riskFlags: readonly RiskFlag[];
  readonly consents: readonly ConsentInput[];
}

export interface IntakeRow {
  /** The row's number, for the answer. */
  readonly row: number;
  readonly input: NewCaseInput;
  /** The caller's idempotency key for this case, and a digest of what it guards. */
  readonly idempotency?: { readonly key: string; readonly requestHash: string };
}

export type IntakeOutcome =
  | {
      readonly ok: true;
      readonly row: number;
      readonly reference: string;
      readonly replayed: boolean;
      readonly state: CaseState;
      /** Needs no organisation can take yet (only a crisis is routed by itself). */
      readonly uncovered: readonly NeedKind[];
    }
  | { readonly ok: false; readonly row: number; readonly field: string; readonly message: string };

export const MAX_IMPORT_ROWS = 1_000;
/** Cases sealed and written together within an import. */
const INSERT_CHUNK = 250;
const MAX_CAS_ATTEMPTS = 8;
const MAX_RESERVE_ATTEMPTS = 5;

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Every field but the id, so that a field added to the record cannot escape the comparison. */
const ORGANISATION_FIELDS: Record<Exclude<keyof SupportOrganisation, 'id'>, true> = {
  name: true,
  jurisdictions: true,
  languages: true,
  needsCovered: true,
  crisisCapable: true,
  capacity: true,
  accepting: true,
};

/** The fields of a support organisation's record a replacement changes; lists compared as sets. */
function changedOrganisationFields(before: SupportOrganisation, after: SupportOrganisation): string[] {
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));
  return (Object.keys(ORGANISATION_FIELDS) as (keyof typeof ORGANISATION_FIELDS)[]).filter((field) => {
    const [a, b] = [before[field], after[field]];
    return Array.isArray(a) && Array.isArray(b) ? !sameSet(a, b) : a !== b;
  });
}

const refuse = (message: string) => new VictimsError('permission-denied', message);
const CASE_WORK_ONLY = 'victim cases are read and worked on only by victim officers of their organisations';
const OWNER_ONLY = 'only victim officers of the organisation that opened the case close or erase it';

/**
 * The victim assistance use cases. Each checks the caller's rights itself; every read of
 * personal data is audited before the data is opened; every change of a case is one
 * version-checked write of the case document with its events.
 */
export class VictimsService {
  constructor(private readonly deps: VictimsDeps) {}

  // ── Intake ────────────────────────────────────────────────────────────────────────────

  async openCase(caller: Caller, row: Omit<IntakeRow, 'row'>): Promise<Extract<IntakeOutcome, { ok: true }>> {
    const org = officerOrganisation(caller);
    if (!org) throw refuse('only victim officers open cases');
    const [outcome] = await this.#intake(caller, org, [{ ...row, row: 1 }], 'open');
    if (!outcome!.ok) {
      throw new VictimsError('idempotency-mismatch', outcome!.message);
    }
    return outcome!;
  }

  /** Opens many cases in bulk writes of 250; rows that cannot be opened are answered one by one. */
  async importCases(caller: Caller, rows: readonly IntakeRow[]): Promise<IntakeOutcome[]> {
    const org = officerOrganisation(caller);
    if (!org) throw refuse('only victim officers open cases');
    if (rows.length > MAX_IMPORT_ROWS) {
      throw new VictimsError('failed-precondition', `at most ${MAX_IMPORT_ROWS} rows per batch`);
    }
    return this.#intake(caller, org, rows, 'import');
  }

  async #intake(
    caller: Caller,
    org: string,
    rows: readonly IntakeRow[],
    action: 'open' | 'import',
  ): Promise<IntakeOutcome[]> {
    const { cipher, hasher, clock } = this.deps;
    const now = clock.now();
    const outcomes: IntakeOutcome[] = [];
    const seen = new Map<string, number>();
    type Prepared = {
      row: IntakeRow;
      reference: string;
      caseId: string;
      assessment: ReturnType<typeof assessNeeds>;
      referral?: NewReferral;
      reserved?: string;
    };
    const prepared: Prepared[] = [];
    for (const row of rows) {
      // A key yields the same reference (so the same case id) every time; without one, chance does.
      const reference = referenceFromBytes(
        row.idempotency
          ? hasher.idempotencySeed(`case\0${org}\0${row.idempotency.key}`)
          : this.deps.random(REFERENCE_RANDOM_SYMBOLS),
      );
      const caseId = hasher.caseIdOf(reference);
      const earlier = seen.get(caseId);
      if (earlier !== undefined) {
        outcomes.push({ ok: false, row: row.row, field: 'client_ref', message: `repeats row ${earlier}` });
        continue;
      }
      seen.set(caseId, row.row);
      const assessment = assessNeeds(row.input.needs, row.input.riskFlags, now);
      prepared.push({ row, reference, caseId, assessment });
    }

    // A disclosed risk is routed at once. Rare, so the registry is read only when needed.
    const crises = prepared.filter((p) => p.assessment.crisis);
    if (crises.length > 0) {
      const orgs = await this.deps.organisations.list();
      for (const p of crises) {
        const placed = await this.#placeCrisis(orgs, {
          jurisdiction: p.row.input.jurisdiction,
          language: p.row.input.language,
          needs: p.assessment.needs.map((n) => n.kind),
          consented: p.row.input.consents.some((c) => c.purpose === 'share-support' && c.granted),
          exclude: new Set(),
        });
        if (placed.referral) p.referral = placed.referral;
        if (placed.reserved) p.reserved = placed.reserved;
      }
    }

    const build = (p: Prepared) => {
      const input = p.row.input;
      const change = openCase(
        {
          id: p.caseId,
          ownerOrgId: org,
          incidentIds: input.incidentIds,
          reportIds: input.reportIds,
          jurisdiction: input.jurisdiction,
          language: input.language,
          victimKind: input.victim.kind,
          assessment: p.assessment,
          consents: input.consents.map((c) => consentRecord(c, caller, now)),
          ...(p.referral ? { referrals: [p.referral] } : {}),
        },
        now,
      );
      const { key, wrapped } = cipher.newKey(p.caseId);
      const stored: StoredCase = {
        state: change.state,
        sealed: sealPersonalData(cipher, key, p.caseId, {
          reference: p.reference,
          victim: input.victim,
          needs: input.needs,
          riskFlags: input.riskFlags,
        }),
        dataKey: wrapped,
        emailHash: input.victim.email ? hasher.email(input.victim.email) : undefined,
        phoneHash: input.victim.phone ? hasher.phone(input.victim.phone) : undefined,
        requestHash: p.row.idempotency?.requestHash,
      };
      return { p, stored, events: change.events };
    };

    // Sealed and written a chunk at a time: the store writes one chunk while the next is
    // sealed, rather than waiting for the whole batch and then making it wait.
    const chunks: ReturnType<typeof build>[][] = [];
    const writes: Promise<Set<string>>[] = [];
    let unsealed: unknown;
    try {
      for (let i = 0; i < prepared.length; i += INSERT_CHUNK) {
        const chunk = prepared.slice(i, i + INSERT_CHUNK).map(build);
        chunks.push(chunk);
        const write = this.deps.cases.insert(
          chunk.map(({ stored, events }) => ({ stored, events })),
          { bulk: action === 'import' },
        );
        // Settled below, with the others; never left unhandled while the next chunk is sealed.
        write.catch(() => undefined);
        writes.push(write);
        // Lets the driver send this chunk before the next one takes the thread.
        if (i + INSERT_CHUNK < prepared.length) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      // A chunk could not be sealed: the rest of the batch is not written.
      unsealed = error;
    }
    const settled = await Promise.allSettled(writes);
    const stored = chunks.filter((_, i) => settled[i]!.status === 'fulfilled');
    const storedRows = new Set(stored.flat().map((b) => b.p));
    const notStored = prepared.filter((p) => !storedRows.has(p));
    if (notStored.length > 0) {
      // Their places are free again; the stored cases keep theirs.
      await this.#releaseAll(notStored.flatMap((p) => (p.reserved ? [p.reserved] : [])));
      const failure = settled.find((r) => r.status === 'rejected');
      if (stored.length === 0) throw failure ? (failure.reason as unknown) : unsealed;
      // Part of the batch is stored: it is answered and audited as usual, the rest row by row.
      this.deps.onPartialImport?.(failure ? (failure.reason as unknown) : unsealed, notStored.length);
      for (const p of notStored) {
        outcomes.push({
          ok: false,
          row: p.row.row,
          field: 'case',
          message:
            'not stored, or not wholly: sealing or writing it failed; send the row again (with its client_ref, a case opened meanwhile is answered as a replay)',
        });
      }
    }
    const built = stored.flat();
    const existing = new Set(settled.flatMap((r) => (r.status === 'fulfilled' ? [...r.value] : [])));

    const inserted: string[] = [];
    // The cases the keys opened before, read together: a whole batch may be sent again.
    const before = await this.deps.cases.getMany([...existing]);
    for (const { p, stored } of built) {
      if (!existing.has(p.caseId)) {
        inserted.push(p.caseId);
        outcomes.push({
          ok: true,
          row: p.row.row,
          reference: p.reference,
          replayed: false,
          state: stored.state,
          // Telling one officer what nobody covers is worth a registry read; a bulk import is not.
          uncovered: action === 'open' ? await this.#uncovered(stored.state) : [],
        });
        continue;
      }
      // The key opened this case before: the same request gets the same answer.
      if (p.reserved) await this.#releaseAll([p.reserved]);
      const earlier = before.get(p.caseId);
      if (
        !earlier ||
        earlier.requestHash === undefined ||
        earlier.requestHash !== p.row.idempotency?.requestHash
      ) {
        outcomes.push({
          ok: false,
          row: p.row.row,
          field: action === 'open' ? 'idempotency-key' : 'client_ref',
          message: 'this idempotency key was used for a different case; use a new key',
        });
        continue;
      }
      outcomes.push({
        ok: true,
        row: p.row.row,
        reference: p.reference,
        replayed: true,
        state: earlier.state,
        uncovered: [],
      });
    }
    if (inserted.length > 0) await this.#audit(caller, action, inserted, `${inserted.length} case(s)`);
    return outcomes.sort((a, b) => a.row - b.row);
  }

  // ── Reading ───────────────────────────────────────────────────────────────────────────

  /** The whole case, personal data included; the read is audited before anything is opened. */
  async getCase(caller: Caller, caseId: string): Promise<{ state: CaseState; personal: PersonalData }> {
    const stored = await this.#load(caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
    const personal = await this.#readPersonal(caller, stored, 'read-personal-data', '');
    return { state: stored.state, personal };
  }

  listCases(
    caller: Caller,
    filter: CaseListFilter,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CaseState>> {
    const scope = caseListScope(caller, filter.incidentId);
    if (!scope) throw refuse(CASE_WORK_ONLY);
    return this.deps.cases.list(scope, filter, after, limit);
  }

  /** The organisation's cases of a victim, found by keyed hash; the search itself is audited. */
  async findCases(
    caller: Caller,
    by: { readonly email: string } | { readonly phone: string },
  ): Promise<CaseState[]> {
    const org = officerOrganisation(caller);
    if (!org) throw refuse(CASE_WORK_ONLY);
    const found =
      'email' in by
        ? await this.deps.cases.findByHash(org, 'email', this.deps.hasher.email(by.email))
        : await this.deps.cases.findByHash(org, 'phone', this.deps.hasher.phone(by.phone));
    await this.#audit(
      caller,
      'search',
      found.map((s) => s.id),
      'email' in by ? 'by e-mail address' : 'by phone number',
    );
    return found;
  }

  /** The victim's details for a law-enforcement agency: only with their consent; audited. */
  async discloseToLawEnforcement(
    caller: Caller,
    caseId: string,
    recipient: { readonly agencyId: string; readonly legalReference: string },
  ): Promise<{ state: CaseState; personal: PersonalData; at: Date }> {
    const stored = await this.#load(caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
    requireConsent(stored.state.consents, 'share-law-enforcement');
    const personal = await this.#readPersonal(
      caller,
      stored,
      'disclose-law-enforcement',
      `to ${recipient.agencyId}${recipient.legalReference ? ` (${recipient.legalReference})` : ''}`,
    );
    return { state: stored.state, personal, at: this.deps.clock.now() };
  }

  /** The status for whoever holds the victim's reference: nothing else. */
  async lookupStatus(reference: string): Promise<CaseStatus> {
    const stored = await this.deps.cases.get(this.deps.hasher.caseIdOf(reference));
    if (!stored) throw new VictimsError('not-found', 'no case has this reference');
    return statusOf(stored.state);
  }

  async stats(
    caller: Caller,
    filter: { readonly incidentId?: string; readonly jurisdiction?: string },
  ): Promise<ReleasedVictimStats> {
    const scope = statsScope(caller);
    if (!scope)
      throw refuse('victim statistics are for coordinators, auditors, services and victim officers');
    const accumulator = new StatsAccumulator();
    await this.deps.cases.scan(scope, filter, (state) => accumulator.add(state));
    // Suppressed for every caller, victim officers included: statistics are shared as figures,
    // not read as cases (an officer reads its cases themselves through the case RPCs).
    return releaseStats(accumulator.result(), disclosureThreshold(this.deps.statsThreshold));
  }

  // ── Changes ───────────────────────────────────────────────────────────────────────────

  async assessNeeds(
    caller: Caller,
    caseId: string,
    input: { readonly needs: readonly Need[]; readonly riskFlags: readonly RiskFlag[] },
    expectedVersion: number,
  ): Promise<{ state: CaseState; uncovered: NeedKind[] }> {
    const stored = await this.#change(
      caller,
      caseId,
      { access: caseWorkAccess, expectedVersion, action: 'assess' },
      async (current, now, reserved) => {
        const dataKey = this.#dataKey(current);
        const assessment = assessNeeds(input.needs, input.riskFlags, now);
        let change = reassess(current.state, assessment, now);
        const crisis = await this.#crisisFor(change.state, reserved);
        if (crisis.referral) change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
        const sealed = sealNeeds(
          this.deps.cipher,
          dataKey,
          caseId,
          current.sealed,
          current.state.victimKind,
          input.needs,
          input.riskFlags,
        );
        return { next: { ...current, state: change.state, sealed }, change };
      },
    );
    return { state: stored.state, uncovered: await this.#uncovered(stored.state) };
  }

  /**
   * Replaces the victim's own details (not their needs). Contact details are kept only while
   * the victim consents to contact.
   */
  async updateVictim(
    caller: Caller,
    caseId: string,
    victim: Victim,
    expectedVersion: number,
  ): Promise<CaseState> {
    const stored = await this.#change(
      caller,
      caseId,
      { access: caseWorkAccess, expectedVersion, action: 'update-personal-data' },
      async (current, now) => {
        if (victim.kind !== current.state.victimKind) {
          throw new VictimsError('failed-precondition', 'a case’s victim stays a person or an organisation');
        }
        const contact = victim.email !== '' || victim.phone !== '' || victim.preferredChannel !== undefined;
        if (contact && !hasConsent(current.state.consents, 'contact')) {
          throw new VictimsError(
            'failed-precondition',
            'contact details are kept only with the victim’s consent to contact: record it first',
          );
        }
        const key = this.#dataKey(current);
        const state: CaseState = { ...current.state, updatedAt: now, version: current.state.version + 1 };
        return {
          next: {
            ...current,
            state,
            sealed: sealVictim(this.deps.cipher, key, caseId, current.sealed, victim),
            emailHash: victim.email ? this.deps.hasher.email(victim.email) : undefined,
            phoneHash: victim.phone ? this.deps.hasher.phone(victim.phone) : undefined,
          },
          change: { state, events: [], released: [] },
        };
      },
    );
    return stored.state;
  }

  /**
   * Records consent. Granting sharing with support organisations offers the referrals that
   * waited for it (and routes a crisis that has none); withdrawing it withdraws them all.
   */
  async recordConsent(caller: Caller, caseId: string, input: ConsentInput): Promise<CaseState> {
    const stored = await this.#change(
      caller,
      caseId,
      {
        access: caseWorkAccess,
        action: 'consent',
        detail: `${input.purpose}: ${input.granted ? 'granted' : 'withdrawn'} (${input.wordingVersion})`,
      },
      async (current, now, reserved) => {
        let change = recordConsent(current.state, consentRecord(input, caller, now), now);
        if (input.purpose === 'share-support' && hasConsent(change.state.consents, 'share-support')) {
          change = await this.#offerWaiting(change, reserved, now);
          const crisis = await this.#crisisFor(change.state, reserved);
          if (crisis.referral)
            change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
        }
        if (input.purpose === 'contact' && !hasConsent(change.state.consents, 'contact')) {
          // Contact details serve only contact: without consent to it they are not kept.
          return {
            next: {
              ...current,
              state: change.state,
              sealed: this.#withoutContact(current),
              emailHash: undefined,
              phoneHash: undefined,
            },
            change,
          };
        }
        return { next: { ...current, state: change.state }, change };
      },
    );
    return stored.state;
  }

  /** What the rules would choose for the case's unmet needs; changes nothing. */
  async suggestReferrals(
    caller: Caller,
    caseId: string,
  ): Promise<{ picks: (RoutingPick & { name: string })[]; uncovered: NeedKind[] }> {
    const stored = await this.#load(caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
    const orgs = await this.deps.organisations.list();
    const state = stored.state;
    const result = routeReferrals(
      {
        jurisdiction: state.jurisdiction,
        language: state.language,
        needs: unmetNeeds(state),
        crisis: state.assessment.crisis && !hasCrisisReferral(state),
        exclude: involvedOrganisations(state),
      },
      orgs,
    );
    const names = new Map(orgs.map((o) => [o.id, o.name]));
    return {
      picks: result.picks.map((p) => ({ ...p, name: names.get(p.organisationId) ?? p.organisationId })),
      uncovered: [...result.uncovered],
    };
  }

  /**
   * Refers the case to one organisation, or to those the rules choose for the given needs (by
   * default every unmet one). Never without consent to share with support organisations.
   */
  async makeReferral(
    caller: Caller,
    caseId: string,
    request: { readonly organisationId?: string; readonly needs: readonly NeedKind[] },
  ): Promise<{ state: CaseState; made: string[]; uncovered: NeedKind[] }> {
    let made: string[] = [];
    let uncovered: NeedKind[] = [];
    const stored = await this.#change(
      caller,
      caseId,
      {
        access: caseWorkAccess,
        action: 'refer',
        detail: request.organisationId ? `to ${request.organisationId}` : 'by the routing rules',
      },
      async (current, now, reserved) => {
        const state = current.state;
        requireConsent(state.consents, 'share-support');
        const kinds = new Set(state.assessment.needs.map((n) => n.kind));
        const missing = request.needs.filter((n) => !kinds.has(n));
        if (missing.length > 0) {
          throw new VictimsError('failed-precondition', `the case has no ${missing.join(', ')} need`);
        }
        const needs = request.needs.length > 0 ? [...request.needs] : unmetNeeds(state);
        const referrals: NewReferral[] = [];
        if (request.organisationId) {
          const org = await this.deps.organisations.get(request.organisationId);
          if (!org) throw new VictimsError('not-found', `no support organisation ${request.organisationId}`);
          if (involvedOrganisations(state).has(org.id)) {
            throw new VictimsError(
              'already-exists',
              `${org.id} already holds or declined a referral of this case`,
            );
          }
          // Needs named: the organisation must cover each. None named: those unmet it covers.
          const outside = needs.filter((n) => !org.needsCovered.includes(n));
          if (request.needs.length > 0 && outside.length > 0) {
            throw new VictimsError('failed-precondition', `${org.id} does not cover ${outside.join(', ')}`);
          }
          const covered = needs.filter((n) => org.needsCovered.includes(n));
          if (covered.length === 0 && !(org.crisisCapable && state.assessment.crisis)) {
            throw new VictimsError('failed-precondition', `${org.id} covers none of the case’s unmet needs`);
          }
          if (!(await this.deps.organisations.reserve(org.id))) {
            throw new VictimsError(
              'resource-exhausted',
              `${org.id} takes no referrals now (full or not accepting)`,
            );
          }
          reserved.push(org.id);
          referrals.push({
            organisationId: org.id,
            needs: covered,
            crisis: org.crisisCapable && state.assessment.crisis && !hasCrisisReferral(state),
            state: 'offered',
          });
          uncovered = [];
        } else {
          const placed = await this.#route(state, needs, false, reserved);
          referrals.push(...placed.referrals);
          uncovered = placed.uncovered;
        }
        if (referrals.length === 0) {
          made = [];
          return 'unchanged';
        }
        const change = addReferrals(state, referrals, now);
        made = change.state.referrals.slice(state.referrals.length).map((r) => r.id);
        return { next: { ...current, state: change.state }, change };
      },
    );
    return { state: stored.state, made, uncovered };
  }

  /**
   * The referred organisation accepts or declines. A declined crisis referral goes at once to
   * the next crisis-capable organisation.
   */
  async respondToReferral(
    caller: Caller,
    caseId: string,
    referralId: string,
    answer: { readonly accept: true } | { readonly accept: false; readonly reason: DeclineReason },
  ): Promise<CaseState> {
    const org = officerOrganisation(caller);
    if (!org) throw refuse('referrals are answered by victim officers of the organisation referred to');
    // The referred organisation is not assigned the case (yet): it reaches it by its referral.
    const referredTo = (_caller: Caller, facts: CaseState | undefined): Decision =>
      facts?.referrals.some((r) => r.id === referralId && r.organisationId === org) ? 'allow' : 'hidden';
    const stored = await this.#change(
      caller,
      caseId,
      {
        access: referredTo,
        action: 'respond-referral',
        detail: `${referralId}: ${answer.accept ? 'accepted' : `declined (${answer.reason})`}`,
      },
      async (current, now, reserved) => {
        let change = respondToReferral(current.state, referralId, org, answer, now);
        if (change.events.length === 0 && change.released.length === 0 && answer.accept) return 'unchanged';
        const declined = change.state.referrals.find((r) => r.id === referralId);
        if (!answer.accept && declined?.crisis) {
          const crisis = await this.#crisisFor(change.state, reserved);
          if (crisis.referral)
            change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
        }
        return { next: { ...current, state: change.state }, change };
      },
    );
    return stored.state;
  }

  /** An organisation's referral inbox: cases and referrals, without personal data. */
  async referralsTo(
    caller: Caller,
    orgId: string,
    state: ReferralState | undefined,
  ): Promise<{ state: CaseState; referral: CaseState['referrals'][number] }[]> {
    if (!canReadReferralsOf(caller, orgId)) {
      throw refuse('an organisation’s referrals are read by its own victim officers');
    }
    const cases = await this.deps.cases.referralsTo(orgId);
    return cases.flatMap((c) =>
      c.referrals
        .filter((r) => r.organisationId === orgId && r.state !== 'awaiting-consent')
        .filter((r) => state === undefined || r.state === state)
        .map((referral) => ({ state: c, referral })),
    );
  }

  async followUp(caller: Caller, caseId: string): Promise<CaseState> {
    const stored = await this.#load(
      caller,
      caseId,
      followUpAccess,
      'follow-up is for Beacon services and case officers',
    );
    return stored.state;
  }

  async recordCheckIn(
    caller: Caller,
    caseId: string,
    checkInId: string,
    outcome: CheckInOutcome,
  ): Promise<CaseState> {
    const stored = await this.#change(
      caller,
      caseId,
      {
        access: followUpAccess,
        refusal: 'follow-up is for Beacon services and case officers',
        action: 'check-in',
        detail: `${checkInId}: ${outcome}`,
      },
      async (current, now) => {
        const { change, repeated } = recordCheckIn(current.state, checkInId, outcome, caller.subject, now);
        if (repeated) return 'unchanged';
        const declined =
          !hasConsent(change.state.consents, 'contact') && hasConsent(current.state.consents, 'contact');
        return {
          next: declined
            ? {
                ...current,
                state: change.state,
                sealed: this.#withoutContact(current),
                emailHash: undefined,
                phoneHash: undefined,
              }
            : { ...current, state: change.state },
          change,
        };
      },
    );
    return stored.state;
  }

  async closeCase(caller: Caller, caseId: string, reason: CloseReason): Promise<CaseState> {
    const stored = await this.#change(
      caller,
      caseId,
      { access: caseOwnerAccess, refusal: OWNER_ONLY, action: 'close', detail: reason },
      async (current, now) => {
        const change = closeCase(current.state, reason, now);
        return { next: { ...current, state: change.state }, change };
      },
    );
    return stored.state;
  }

  /**
   * Erasure: the wrapped data key and the search hashes go in the same write that closes the
   * case. The sealed data stays where it was and can never be opened again.
   */
  async erase(caller: Caller, caseId: string): Promise<CaseState> {
    const stored = await this.#change(
      caller,
      caseId,
      { access: caseOwnerAccess, refusal: OWNER_ONLY, action: 'erase' },
      async (current, now) => {
        if (current.state.erasedAt && !current.dataKey) return 'unchanged';
        const change = eraseCase(current.state, now);
        return {
          next: {
            ...current,
            state: change.state,
            dataKey: undefined,
            emailHash: undefined,
            phoneHash: undefined,
          },
          change,
        };
      },
    );
    return stored.state;
  }

  // ── Registry ──────────────────────────────────────────────────────────────────────────

  async putOrganisation(
    caller: Caller,
    org: SupportOrganisation,
    expectedVersion: number,
  ): Promise<StoredOrganisation> {
    if (expectedVersion === 0) {
      if (!canRegisterOrganisation(caller))
        throw refuse('support organisations are registered by coordinators');
      return this.deps.organisations.create(org);
    }
    if (!canUpdateOrganisation(caller, org.id)) {
      throw refuse('an organisation is updated by coordinators or its own admins');
    }
    // Judged against the version being replaced; if another change came first, the store's
    // version check refuses the write anyway.
    const current = await this.deps.organisations.get(org.id);
    if (current && current.version === expectedVersion) {
      const refused = changedOrganisationFields(current, org).filter(
        (field) => !mayChangeOrganisationField(caller, org.id, field),
      );
      if (refused.length > 0) {
        throw refuse(
          `${refused.map((f) => `organisation.${snakeCase(f)}`).join(', ')}: vetting, set by the coordination centre; an organisation's admins change its languages and whether it is accepting referrals`,
        );
      }
    }
    return this.deps.organisations.update(org, expectedVersion);
  }

  async listOrganisations(caller: Caller): Promise<StoredOrganisation[]> {
    if (!canListOrganisations(caller))
      throw refuse('the registry is for coordinators, officers, admins and services');
    return this.deps.organisations.list();
  }

  // ── Keys and audit ────────────────────────────────────────────────────────────────────

  /** Moves up to `limit` data keys to the current KEK; an erasure in between wins. */
  async rewrapKeys(
    caller: Caller,
    limit: number,
  ): Promise<{ rewrapped: number; remaining: number; currentKeyId: string }> {
    if (!canRewrapKeys(caller)) throw refuse('keys are re-wrapped by Beacon services (operators’ tooling)');
    const { cipher, cases } = this.deps;
    const current = cipher.currentKeyId;
    const candidates = await cases.keysNotWrappedBy(current, limit);
    const changes = candidates.flatMap(({ id, dataKey }) => {
      const to = cipher.rewrap(id, dataKey);
      return to ? [{ id, from: dataKey, to }] : [];
    });
    const rewrapped = changes.length > 0 ? await cases.replaceKeys(changes) : 0;
    if (rewrapped > 0) {
      await this.#audit(
        caller,
        'rewrap',
        changes.map((c) => c.id),
        `to key-encryption key ${current}`,
      );
    }
    return { rewrapped, remaining: await cases.countKeysNotWrappedBy(current), currentKeyId: current };
  }

  async verifyAudit(caller: Caller, checkpoint: readonly AuditChainEnd[] = []): Promise<AuditVerification> {
    if (!canVerifyAudit(caller)) throw refuse('the audit log is verified by auditors and coordinators');
    return this.deps.audit.verify(checkpoint);
  }

  async listAudit(
    caller: Caller,
    caseId: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ records: ListedAuditEntry[]; next: string | undefined }> {
    if (!canListAudit(caller)) throw refuse('audit records are read by auditors');
    return this.deps.audit.list(caseId, after, limit);
  }

  // ── Helpers ───────────────────────────────────────────────────────────────────────────

  /**
   * Loads a case for a caller: a role that may never do this is refused before the lookup
   * (so the answer says nothing of whether the case exists), and a case the caller's
   * organisation may not see answers exactly like one that does not exist.
   */
  async #load(
    caller: Caller,
    caseId: string,
    access: (caller: Caller, facts: CaseState | undefined) => Decision,
    refusal: string,
  ): Promise<StoredCase> {
    if (access(caller, undefined) === 'refuse') throw refuse(refusal);
    const stored = await this.deps.cases.get(caseId);
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
  async #change(
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
      const current = await this.#load(caller, caseId, how.access, how.refusal ?? CASE_WORK_ONLY);
      if (expectedVersion > 0 && current.state.version !== expectedVersion) {
        throw new VictimsError(
          'conflict',
          `the case is at version ${current.state.version}, not ${expectedVersion}`,
        );
      }
      const reserved: string[] = [];
      let result: Awaited<ReturnType<typeof apply>>;
      try {
        result = await apply(current, this.deps.clock.now(), reserved);
      } catch (error) {
        await this.#releaseAll(reserved);
        throw error;
      }
      if (result === 'unchanged') {
        await this.#releaseAll(reserved);
        return current;
      }
      const next: StoredCase = {
        ...result.next,
        state: { ...result.next.state, version: current.state.version + 1 },
      };
      if (!(await this.deps.cases.update(next, current.state.version, result.change.events))) {
        await this.#releaseAll(reserved);
        if (expectedVersion > 0)
          throw new VictimsError('conflict', 'the case changed meanwhile; read it again');
        continue;
      }
      await this.#releaseAll(result.change.released);
      await this.#audit(caller, how.action, [caseId], how.detail ?? '');
      return next;
    }
    throw new VictimsError('conflict', `case ${caseId} kept changing; try again`);
  }

  async #readPersonal(
    caller: Caller,
    stored: StoredCase,
    action: AuditAction,
    detail: string,
  ): Promise<PersonalData> {
    const key = this.#dataKey(stored);
    // Audited first: a read that cannot be recorded does not happen.
    await this.#audit(caller, action, [stored.state.id], detail);
    return openPersonalData(this.deps.cipher, key, stored.state.id, stored.sealed, stored.state.victimKind);
  }

  /** The sealed data without the contact details (see `withoutContact`). */
  #withoutContact(stored: StoredCase): SealedData {
    const key = stored.state.erasedAt || !stored.dataKey ? undefined : this.#dataKey(stored);
    return withoutContact(this.deps.cipher, key, stored.state.id, stored.sealed, stored.state.victimKind);
  }

  #dataKey(stored: StoredCase) {
    if (stored.state.erasedAt || !stored.dataKey) {
      throw new VictimsError(
        'failed-precondition',
        'the victim’s personal data was erased and can no longer be read',
      );
    }
    return this.deps.cipher.unwrap(stored.state.id, stored.dataKey);
  }

  /** A crisis referral for a case that needs one and has none (reserved when consented). */
  async #crisisFor(
    state: CaseState,
    reserved: string[],
  ): Promise<{ referral?: NewReferral; unplaced: boolean }> {
    if (!state.assessment.crisis || hasCrisisReferral(state)) return { unplaced: false };
    const placed = await this.#placeCrisis(await this.deps.organisations.list(), {
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
  async #placeCrisis(
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
      if (await this.deps.organisations.reserve(pick.organisationId)) {
        return { referral: { ...referral, state: 'offered' }, reserved: pick.organisationId };
      }
      tried.add(pick.organisationId);
    }
    return {};
  }

  /** Unmet needs that no eligible organisation covers now. */
  async #uncovered(state: CaseState): Promise<NeedKind[]> {
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
      await this.deps.organisations.list(),
    );
    return [...result.uncovered];
  }

  /** Routes needs to organisations, taking a place at each (re-routing around full ones). */
  async #route(
    state: CaseState,
    needs: readonly NeedKind[],
    crisis: boolean,
    reserved: string[],
  ): Promise<{ referrals: NewReferral[]; uncovered: NeedKind[] }> {
    const orgs = await this.deps.organisations.list();
    const exclude = involvedOrganisations(state);
    const referrals: NewReferral[] = [];
    let open = [...needs];
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS && open.length > 0; attempt++) {
      const result = routeReferrals(
        { jurisdiction: state.jurisdiction, language: state.language, needs: open, crisis, exclude },
        orgs,
      );
      let full = false;
      for (const pick of result.picks) {
        if (await this.deps.organisations.reserve(pick.organisationId)) {
          reserved.push(pick.organisationId);
          referrals.push({
            organisationId: pick.organisationId,
            needs: pick.needs,
            crisis: pick.crisis,
            state: 'offered',
          });
          open = open.filter((n) => !pick.needs.includes(n));
        } else {
          full = true;
        }
        exclude.add(pick.organisationId);
      }
      if (!full) break;
    }
    return { referrals, uncovered: open };
  }

  /** Offers each referral that waited for consent, to its organisation or the next one. */
  async #offerWaiting(change: CaseChange, reserved: string[], now: Date): Promise<CaseChange> {
    let result = change;
    const waiting = change.state.referrals.filter((r) => r.state === 'awaiting-consent');
    if (waiting.length === 0) return result;
    const orgs = await this.deps.organisations.list();
    for (const referral of waiting) {
      const state = result.state;
      let target: string | undefined;
      if (await this.deps.organisations.reserve(referral.organisationId)) {
        target = referral.organisationId;
      } else {
        const placed = await this.#placeCrisis(orgs, {
          jurisdiction: state.jurisdiction,
          language: state.language,
          needs: referral.needs,
          consented: true,
          exclude: involvedOrganisations(state),
        });
        target = placed.reserved;
      }
      if (!target) continue;
      reserved.push(target);
      result = followedBy(result, offerAwaiting(state, referral.id, target, now));
    }
    return result;
  }

  async #releaseAll(orgIds: readonly string[]): Promise<void> {
    for (const id of orgIds) {
      try {
        await this.deps.organisations.release(id);
      } catch (error) {
        this.deps.onReleaseFailure?.(id, error);
      }
    }
  }

  #audit(caller: Caller, action: AuditAction, caseIds: readonly string[], detail: string): Promise<void> {
    return this.deps.audit.append({
      at: this.deps.clock.now(),
      actor: caller.subject,
      actorOrgId: caller.agencyId,
      action,
      caseIds: [...caseIds],
      detail,
    });
  }
}

/** Two changes one after the other, as one: events and freed places of both. */
function followedBy(first: CaseChange, second: CaseChange): CaseChange {
  return {
    state: second.state,
    events: [...first.events, ...second.events],
    released: [...first.released, ...second.released],
  };
}

function hasCrisisReferral(state: CaseState): boolean {
  return state.referrals.some(
    (r) => r.crisis && (r.state === 'offered' || r.state === 'accepted' || r.state === 'awaiting-consent'),
  );
}

function consentRecord(input: ConsentInput, caller: Caller, at: Date): ConsentRecord {
  return {
    purpose: input.purpose,
    granted: input.granted,
    wordingVersion: input.wordingVersion,
    recordedAt: at,
    recordedBy: caller.subject,
  };
}
