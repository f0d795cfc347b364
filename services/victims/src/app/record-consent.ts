import { caseWorkAccess, type Caller } from '../domain/access.js';
import { hasConsent } from '../domain/consent.js';
import * as victimCase from '../domain/victim-case.js';
import {
  addReferrals,
  involvedOrganisations,
  offerAwaiting,
  type CaseChange,
  type CaseState,
} from '../domain/victim-case.js';
import {
  changeCase,
  consentRecord,
  crisisFor,
  followedBy,
  placeCrisis,
  sealedWithoutContact,
  type ConsentInput,
  type VictimsDeps,
} from './case-work.js';

/**
 * Records consent. Granting sharing with support organisations offers the referrals that
 * waited for it (and routes a crisis that has none); withdrawing it withdraws them all.
 */
export async function recordConsent(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  input: ConsentInput,
): Promise<CaseState> {
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    {
      access: caseWorkAccess,
      action: 'consent',
      detail: `${input.purpose}: ${input.granted ? 'granted' : 'withdrawn'} (${input.wordingVersion})`,
    },
    async (current, now, reserved) => {
      let change = victimCase.recordConsent(current.state, consentRecord(input, caller, now), now);
      if (input.purpose === 'share-support' && hasConsent(change.state.consents, 'share-support')) {
        change = await offerWaiting(deps, change, reserved, now);
        const crisis = await crisisFor(deps, change.state, reserved);
        if (crisis.referral) change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
      }
      if (input.purpose === 'contact' && !hasConsent(change.state.consents, 'contact')) {
        // Contact details serve only contact: without consent to it they are not kept.
        return {
          next: {
            ...current,
            state: change.state,
            sealed: sealedWithoutContact(deps, current),
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

/** Offers each referral that waited for consent, to its organisation or the next one. */
async function offerWaiting(
  deps: VictimsDeps,
  change: CaseChange,
  reserved: string[],
  now: Date,
): Promise<CaseChange> {
  let result = change;
  const waiting = change.state.referrals.filter((r) => r.state === 'awaiting-consent');
  if (waiting.length === 0) return result;
  const orgs = await deps.organisations.list();
  for (const referral of waiting) {
    const state = result.state;
    let target: string | undefined;
    if (await deps.organisations.reserve(referral.organisationId)) {
      target = referral.organisationId;
    } else {
      const placed = await placeCrisis(deps, orgs, {
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
