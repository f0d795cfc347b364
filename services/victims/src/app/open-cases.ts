import type { Jurisdiction } from '@beacon/domain';
import { officerOrganisation, type Caller } from '../domain/access.js';
import { referenceFromBytes, REFERENCE_RANDOM_SYMBOLS } from '../domain/case-reference.js';
import type { Need, NeedKind, RiskFlag, Victim } from '../domain/model.js';
import { assessNeeds } from '../domain/needs.js';
import * as victimCase from '../domain/victim-case.js';
import type { CaseState, NewReferral } from '../domain/victim-case.js';
import {
  consentRecord,
  placeCrisis,
  recordAudit,
  refuse,
  releaseAll,
  uncoveredNeeds,
  type ConsentInput,
  type VictimsDeps,
} from './case-work.js';
import { VictimsError } from './errors.js';
import { sealPersonalData } from './personal-data.js';
import type { StoredCase } from './ports.js';

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

/**
 * Opens one case for the officer's organisation; sent again under the same idempotency key,
 * the same request is answered as before and a different one is refused.
 */
export async function openCase(
  deps: VictimsDeps,
  caller: Caller,
  row: Omit<IntakeRow, 'row'>,
): Promise<Extract<IntakeOutcome, { ok: true }>> {
  const org = officerOrganisation(caller);
  if (!org) throw refuse('only victim officers open cases');
  const [outcome] = await intake(deps, caller, org, [{ ...row, row: 1 }], 'open');
  if (!outcome!.ok) {
    throw new VictimsError('idempotency-mismatch', outcome!.message);
  }
  return outcome!;
}

/** Opens many cases in bulk writes of 250; rows that cannot be opened are answered one by one. */
export async function importCases(
  deps: VictimsDeps,
  caller: Caller,
  rows: readonly IntakeRow[],
): Promise<IntakeOutcome[]> {
  const org = officerOrganisation(caller);
  if (!org) throw refuse('only victim officers open cases');
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new VictimsError('failed-precondition', `at most ${MAX_IMPORT_ROWS} rows per batch`);
  }
  return intake(deps, caller, org, rows, 'import');
}

/**
 * The intake both entrances share: assess, route a disclosed crisis at once, seal and write,
 * answer each row, and audit the cases opened.
 */
async function intake(
  deps: VictimsDeps,
  caller: Caller,
  org: string,
  rows: readonly IntakeRow[],
  action: 'open' | 'import',
): Promise<IntakeOutcome[]> {
  const { cipher, hasher, clock } = deps;
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
        : deps.random(REFERENCE_RANDOM_SYMBOLS),
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
    const orgs = await deps.organisations.list();
    for (const p of crises) {
      const placed = await placeCrisis(deps, orgs, {
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
    const change = victimCase.openCase(
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
      const write = deps.cases.insert(
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
    await releaseAll(
      deps,
      notStored.flatMap((p) => (p.reserved ? [p.reserved] : [])),
    );
    const failure = settled.find((r) => r.status === 'rejected');
    if (stored.length === 0) throw failure ? (failure.reason as unknown) : unsealed;
    // Part of the batch is stored: it is answered and audited as usual, the rest row by row.
    deps.onPartialImport?.(failure ? (failure.reason as unknown) : unsealed, notStored.length);
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
  const before = await deps.cases.getMany([...existing]);
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
        uncovered: action === 'open' ? await uncoveredNeeds(deps, stored.state) : [],
      });
      continue;
    }
    // The key opened this case before: the same request gets the same answer.
    if (p.reserved) await releaseAll(deps, [p.reserved]);
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
  if (inserted.length > 0) await recordAudit(deps, caller, action, inserted, `${inserted.length} case(s)`);
  return outcomes.sort((a, b) => a.row - b.row);
}
