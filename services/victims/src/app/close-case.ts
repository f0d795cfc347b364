import { caseOwnerAccess, type Caller } from '../domain/access.js';
import type { CloseReason } from '../domain/model.js';
import * as victimCase from '../domain/victim-case.js';
import { eraseCase, type CaseState } from '../domain/victim-case.js';
import { changeCase, OWNER_ONLY, type VictimsDeps } from './case-work.js';

/** Closes the case; only its owning organisation's officers may. */
export async function closeCase(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  reason: CloseReason,
): Promise<CaseState> {
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    { access: caseOwnerAccess, refusal: OWNER_ONLY, action: 'close', detail: reason },
    async (current, now) => {
      const change = victimCase.closeCase(current.state, reason, now);
      return { next: { ...current, state: change.state }, change };
    },
  );
  return stored.state;
}

/**
 * Erasure: the wrapped data key and the search hashes go in the same write that closes the
 * case. The sealed data stays where it was and can never be opened again.
 */
export async function erase(deps: VictimsDeps, caller: Caller, caseId: string): Promise<CaseState> {
  const stored = await changeCase(
    deps,
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
