import type { ContactChannel, Need, RiskFlag, Victim } from '../domain/model.js';
import type { CaseCipher, DataKey, SealedData, SealedField } from './ports.js';

/** Everything personal about a case: what only its organisations' officers ever read. */
export interface PersonalData {
  readonly reference: string;
  readonly victim: Victim;
  readonly needs: readonly Need[];
  readonly riskFlags: readonly RiskFlag[];
}

type Details = {
  needs: (Omit<Need, 'paidAt'> & { paidAt?: string })[];
  riskFlags: RiskFlag[];
  kind: Victim['kind'];
};

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
  const sealed: Partial<Record<SealedField, Uint8Array>> = {};
  const put = (field: SealedField, value: string) => {
    if (value !== '') sealed[field] = cipher.seal(key, caseId, field, value);
  };
  put('reference', data.reference);
  put('displayName', data.victim.displayName);
  put('organisationName', data.victim.organisationName);
  put('email', data.victim.email);
  put('phone', data.victim.phone);
  put('preferredChannel', data.victim.preferredChannel ?? '');
  put('notes', data.victim.notes);
  sealed.needs = cipher.seal(key, caseId, 'needs', needsJson(data.needs, data.riskFlags, data.victim.kind));
  return sealed;
}

/** Seals new needs for an existing case, leaving its other fields as they are. */
export function sealNeeds(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
  needs: readonly Need[],
  riskFlags: readonly RiskFlag[],
  kind: Victim['kind'],
): SealedData {
  return { ...sealed, needs: cipher.seal(key, caseId, 'needs', needsJson(needs, riskFlags, kind)) };
}

function needsJson(needs: readonly Need[], riskFlags: readonly RiskFlag[], kind: Victim['kind']): string {
  const details: Details = {
    needs: needs.map((n) =>
      n.kind === 'financial-loss' ? { ...n, paidAt: n.paidAt?.toISOString() } : { ...n },
    ),
    riskFlags: [...riskFlags],
    kind,
  };
  return JSON.stringify(details);
}

/** Opens every sealed field; throws CipherError if any was altered or moved. */
export function openPersonalData(
  cipher: CaseCipher,
  key: DataKey,
  caseId: string,
  sealed: SealedData,
): PersonalData {
  const read = (field: SealedField) => {
    const value = sealed[field];
    return value ? cipher.open(key, caseId, field, value) : '';
  };
  const details = JSON.parse(read('needs') || '{"needs":[],"riskFlags":[],"kind":"person"}') as Details;
  const channel = read('preferredChannel');
  return {
    reference: read('reference'),
    victim: {
      kind: details.kind,
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
