import type { ContactChannel, Need, RiskFlag, Victim, VictimKind } from '../domain/model.js';
import { VICTIM_FIELDS, type CaseCipher, type DataKey, type SealedData, type SealedField } from './ports.js';

/** Everything personal about a case: what only its organisations' officers ever read. */
export interface PersonalData {
  readonly reference: string;
  readonly victim: Victim;
  readonly needs: readonly Need[];
  readonly riskFlags: readonly RiskFlag[];
}

type VictimField = (typeof VICTIM_FIELDS)[number];
/** What is kept only for contacting the victim; dropped when they withdraw that consent. */
export const CONTACT_FIELDS = ['email', 'phone', 'preferredChannel'] as const;

/** The plaintext of the sealed value, as JSON: times as ISO text, empty victim fields left out. */
interface Plain {
  reference: string;
  victim: Partial<Record<VictimField, string>>;
  needs: (Omit<Need, 'paidAt'> & { paidAt?: string })[];
  riskFlags: RiskFlag[];
}

/**
 * Seals all of a case's personal data as one value under the case's data key, with the case
 * as additional data: one AES-GCM operation a victim rather than one a field (a bulk intake
 * sealed eight, and each cost about as much as the whole now does), and the store sees one
 * length, not which fields a victim gave.
 */
export function sealPersonalData(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  data: PersonalData,
): SealedData {
  const victim: Plain['victim'] = {};
  for (const field of VICTIM_FIELDS) {
    const value = data.victim[field];
    if (value) victim[field] = value;
  }
  // JSON.stringify writes a need's `paidAt` (a Date) as ISO text.
  const plain = { reference: data.reference, victim, needs: data.needs, riskFlags: data.riskFlags };
  return { personal: cipher.seal(key, caseId, 'personal', JSON.stringify(plain)) };
}

/** Replaces the victim's own details, keeping the reference and needs as they are. */
export function sealVictim(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  victim: Victim,
): SealedData {
  const current = openPersonalData(cipher, key, caseId, sealed, victim.kind);
  return sealPersonalData(cipher, key, caseId, { ...current, victim });
}

/** Replaces the needs and risk flags, keeping the rest. */
export function sealNeeds(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  kind: VictimKind,
  needs: readonly Need[],
  riskFlags: readonly RiskFlag[],
): SealedData {
  const current = openPersonalData(cipher, key, caseId, sealed, kind);
  return sealPersonalData(cipher, key, caseId, { ...current, needs, riskFlags });
}

/**
 * The sealed data without the contact details. Without a key (the victim's data was erased)
 * nothing can be opened: an earlier case's sealed contact fields are dropped, and a sealed
 * value of everything stays as it is, unreadable.
 */
export function withoutContact(
  cipher: CaseCipher,
  key: DataKey | undefined,
  caseId: string,
  sealed: SealedData,
  kind: VictimKind,
): SealedData {
  if (key) {
    const current = openPersonalData(cipher, key, caseId, sealed, kind);
    const victim: Victim = { ...current.victim, email: '', phone: '', preferredChannel: undefined };
    return sealPersonalData(cipher, key, caseId, { ...current, victim });
  }
  const next: Partial<Record<SealedField, Uint8Array>> = { ...sealed };
  for (const field of CONTACT_FIELDS) delete next[field];
  return next;
}

/** Opens the sealed personal data, in either form; throws CipherError if it was altered or moved. */
export function openPersonalData(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  kind: VictimKind,
): PersonalData {
  const plain = sealed.personal
    ? parsed(cipher.open(key, caseId, 'personal', sealed.personal), caseId)
    : fieldByField(cipher, key, caseId, sealed);
  const v = plain.victim;
  return {
    reference: plain.reference,
    victim: {
      kind,
      displayName: v.displayName ?? '',
      organisationName: v.organisationName ?? '',
      email: v.email ?? '',
      phone: v.phone ?? '',
      preferredChannel: v.preferredChannel ? (v.preferredChannel as ContactChannel) : undefined,
      notes: v.notes ?? '',
    },
    needs: plain.needs.map((n) =>
      n.kind === 'financial-loss'
        ? ({ ...n, paidAt: typeof n.paidAt === 'string' ? new Date(n.paidAt) : undefined } as Need)
        : (n as Need),
    ),
    riskFlags: plain.riskFlags,
  };
}

function parsed(text: string, caseId: string): Plain {
  try {
    return JSON.parse(text) as Plain;
  } catch {
    // JSON.parse quotes the text it fails on; that text is personal data, so no cause is kept.
    throw new Error(`the sealed personal data of case ${caseId} is not JSON`);
  }
}

/** A case written before personal data was sealed as one value: each field sealed on its own. */
function fieldByField(cipher: CaseCipher, key: DataKey, caseId: string, sealed: SealedData): Plain {
  const read = (field: SealedField) => {
    const value = sealed[field];
    return value ? cipher.open(key, caseId, field, value) : '';
  };
  const victim: Plain['victim'] = {};
  for (const field of VICTIM_FIELDS) victim[field] = read(field);
  let details: Pick<Plain, 'needs' | 'riskFlags'>;
  try {
    details = JSON.parse(read('needs') || '{"needs":[],"riskFlags":[]}') as Pick<
      Plain,
      'needs' | 'riskFlags'
    >;
  } catch {
    throw new Error(`the sealed needs of case ${caseId} are not JSON`);
  }
  return { reference: read('reference'), victim, ...details };
}
