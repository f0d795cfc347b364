import { followUpAccess, type Caller } from '../domain/access.js';
import { hasConsent } from '../domain/consent.js';
import type { CheckInOutcome } from '../domain/model.js';
import * as victimCase from '../domain/victim-case.js';
import type { CaseState } from '../domain/victim-case.js';
import { changeCase, loadCase, sealedWithoutContact, type VictimsDeps } from './case-work.js';

const FOLLOW_UP_ONLY = 'follow-up is for Beacon services and case officers';

/** The case as follow-up sees it (its check-ins), for services and case officers. */
export async function followUp(deps: VictimsDeps, caller: Caller, caseId: string): Promise<CaseState> {
  const stored = await loadCase(deps, caller, caseId, followUpAccess, FOLLOW_UP_ONLY);
  return stored.state;
}

/**
 * Records a check-in's outcome once (a repeat changes nothing). A victim who declines
 * contact at a check-in has their contact details dropped in the same write.
 */
export async function recordCheckIn(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  checkInId: string,
  outcome: CheckInOutcome,
): Promise<CaseState> {
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    {
      access: followUpAccess,
      refusal: FOLLOW_UP_ONLY,
      action: 'check-in',
      detail: `${checkInId}: ${outcome}`,
    },
    async (current, now) => {
      const { change, repeated } = victimCase.recordCheckIn(
        current.state,
        checkInId,
        outcome,
        caller.subject,
        now,
      );
      if (repeated) return 'unchanged';
      const declined =
        !hasConsent(change.state.consents, 'contact') && hasConsent(current.state.consents, 'contact');
      return {
        next: declined
          ? {
              ...current,
              state: change.state,
              sealed: sealedWithoutContact(deps, current),
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
