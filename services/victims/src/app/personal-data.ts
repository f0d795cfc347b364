import type { ContactChannel, Need, RiskFlag, Victim, VictimKind } from '../domain/model.js';
import type { CaseCipher, DataKey, SealedData, SealedField } from './ports.js';

/** Everything personal about a case: what only its organisations' officers ever read. */
export interface PersonalData {
  readonly reference: string;
  readonly victim: Victim;
  readonly needs: readonly Need[];
  readonly riskFlags: readonly RiskFlag[];
}

type Details = { needs: (Omit<Need, 'paidAt'> & { paidAt?: string })[]; riskFlags: RiskFlag[] };

const VICTIM_FIELDS = [
  'displayName',
  'organisationName',
  'email',
  'phone',
  'preferredChannel',
  'notes',
] as const;
/** What is sealed only for contacting the victim; dropped when they withdraw that consent. */
export const CONTACT_FIELDS = ['email', 'phone', 'preferredChannel'] as const;

/**
 * Seals each personal field on its own under the case's data key (an absent field is not
 * stored at all, so not even its length shows). The needs' details and risk flags go
 * together, as JSON.
 */
export function sealPersonalData(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  data: PersonalData,
): SealedData {
  return {
    ...sealVictim(cipher, key, caseId, {}, data.victim),
    reference: cipher.seal(key, caseId, 'reference', data.reference),
    needs: sealedNeeds(cipher, key, caseId, data.needs, data.riskFlags),
  };
}

/** Replaces the victim's own details, keeping the reference and needs as they are. */
export function sealVictim(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  victim: Victim,
): SealedData {
  const next: Partial<Record<SealedField, Uint8Array>> = { ...sealed };
  const values: Record<(typeof VICTIM_FIELDS)[number], string> = {
    displayName: victim.displayName,
    organisationName: victim.organisationName,
    email: victim.email,
    phone: victim.phone,
    preferredChannel: victim.preferredChannel ?? '',
    notes: victim.notes,
  };
  for (const field of VICTIM_FIELDS) {
    if (values[field] === '') delete next[field];
    else next[field] = cipher.seal(key, caseId, field, values[field]);
  }
  return next;
}

/** Replaces the needs and risk flags, keeping the other fields. */
export function sealNeeds(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  needs: readonly Need[],
  riskFlags: readonly RiskFlag[],
): SealedData {
  return { ...sealed, needs: sealedNeeds(cipher, key, caseId, needs, riskFlags) };
}

/** The sealed data without the contact details: nothing to unseal, so no key is needed. */
export function withoutContact(sealed: SealedData): SealedData {
  const next: Partial<Record<SealedField, Uint8Array>> = { ...sealed };
  for (const field of CONTACT_FIELDS) delete next[field];
  return next;
}

function sealedNeeds(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  needs: readonly Need[],
  riskFlags: readonly RiskFlag[],
): Uint8Array {
  const details: Details = {
    needs: needs.map((n) =>
      n.kind === 'financial-loss' ? { ...n, paidAt: n.paidAt?.toISOString() } : { ...n },
    ),
    riskFlags: [...riskFlags],
  };
  return cipher.seal(key, caseId, 'needs', JSON.stringify(details));
}

/** Opens every sealed field; throws CipherError if any was altered or moved. */
export function openPersonalData(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  kind: VictimKind,
): PersonalData {
  const read = (field: SealedField) => {
    const value = sealed[field];
    return value ? cipher.open(key, caseId, field, value) : '';
  };
  let details: Details;
  try {
    details = JSON.parse(read('needs') || '{"needs":[],"riskFlags":[]}') as Details;
  } catch {
    // JSON.parse quotes the text it fails on; that text is personal data, so no cause is kept.
    throw new Error(`the sealed needs of case ${caseId} are not JSON`);
  }
  const channel = read('preferredChannel');
  return {
    reference: read('reference'),
    victim: {
      kind,
      displayName: read('displayName'),
      organisationName: read('organisationName'),
      email: read('email'),
      phone: read('phone'),
      preferredChannel: channel === '' ? undefined : (channel as ContactChannel),
      notes: read('notes'),
    },
    needs: details.needs.map((n) =>
      n.kind === 'financial-loss'
        ? ({ ...n, paidAt: typeof n.paidAt === 'string' ? new Date(n.paidAt) : undefined } as Need)
        : (n as Need),
    ),
    riskFlags: details.riskFlags,
  };
}
