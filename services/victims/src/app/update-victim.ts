import { caseWorkAccess, type Caller } from '../domain/access.js';
import { hasConsent } from '../domain/consent.js';
import type { Victim } from '../domain/model.js';
import type { CaseState } from '../domain/victim-case.js';
import { changeCase, dataKeyOf, type VictimsDeps } from './case-work.js';
import { VictimsError } from './errors.js';
import { sealVictim } from './personal-data.js';

/**
 * Replaces the victim's own details (not their needs). Contact details are kept only while
 * the victim consents to contact.
 */
export async function updateVictim(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  victim: Victim,
  expectedVersion: number,
): Promise<CaseState> {
  const stored = await changeCase(
    deps,
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
      const key = dataKeyOf(deps, current);
      const state: CaseState = { ...current.state, updatedAt: now, version: current.state.version + 1 };
      return {
        next: {
          ...current,
          state,
          sealed: sealVictim(deps.cipher, key, caseId, current.sealed, victim),
          emailHash: victim.email ? deps.hasher.email(victim.email) : undefined,
          phoneHash: victim.phone ? deps.hasher.phone(victim.phone) : undefined,
        },
        change: { state, events: [], released: [] },
      };
    },
  );
  return stored.state;
}
