import { canReadReferralsOf, officerOrganisation, type Caller, type Decision } from '../domain/access.js';
import type { DeclineReason, ReferralState } from '../domain/model.js';
import * as victimCase from '../domain/victim-case.js';
import { addReferrals, type CaseState } from '../domain/victim-case.js';
import { changeCase, crisisFor, followedBy, refuse, type VictimsDeps } from './case-work.js';

/**
 * The referred organisation accepts or declines. A declined crisis referral goes at once to
 * the next crisis-capable organisation.
 */
export async function respondToReferral(
  deps: VictimsDeps,
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
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    {
      access: referredTo,
      action: 'respond-referral',
      detail: `${referralId}: ${answer.accept ? 'accepted' : `declined (${answer.reason})`}`,
    },
    async (current, now, reserved) => {
      let change = victimCase.respondToReferral(current.state, referralId, org, answer, now);
      if (change.events.length === 0 && change.released.length === 0 && answer.accept) return 'unchanged';
      const declined = change.state.referrals.find((r) => r.id === referralId);
      if (!answer.accept && declined?.crisis) {
        const crisis = await crisisFor(deps, change.state, reserved);
        if (crisis.referral) change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
      }
      return { next: { ...current, state: change.state }, change };
    },
  );
  return stored.state;
}

/** An organisation's referral inbox: cases and referrals, without personal data. */
export async function referralsTo(
  deps: VictimsDeps,
  caller: Caller,
  orgId: string,
  state: ReferralState | undefined,
): Promise<{ state: CaseState; referral: CaseState['referrals'][number] }[]> {
  if (!canReadReferralsOf(caller, orgId)) {
    throw refuse('an organisation’s referrals are read by its own victim officers');
  }
  const cases = await deps.cases.referralsTo(orgId);
  return cases.flatMap((c) =>
    c.referrals
      .filter((r) => r.organisationId === orgId && r.state !== 'awaiting-consent')
      .filter((r) => state === undefined || r.state === state)
      .map((referral) => ({ state: c, referral })),
  );
}
