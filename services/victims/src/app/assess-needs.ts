import { caseWorkAccess, type Caller } from '../domain/access.js';
import type { Need, NeedKind, RiskFlag } from '../domain/model.js';
import * as needRules from '../domain/needs.js';
import { addReferrals, reassess, type CaseState } from '../domain/victim-case.js';
import {
  changeCase,
  crisisFor,
  dataKeyOf,
  followedBy,
  uncoveredNeeds,
  type VictimsDeps,
} from './case-work.js';
import { sealNeeds } from './personal-data.js';

/**
 * Replaces the case's needs and risk flags. A crisis with no crisis referral is routed at once
 * (the referral waits for consent to share when there is none); answers with the needs nobody
 * covers now.
 */
export async function assessNeeds(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  input: { readonly needs: readonly Need[]; readonly riskFlags: readonly RiskFlag[] },
  expectedVersion: number,
): Promise<{ state: CaseState; uncovered: NeedKind[] }> {
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    { access: caseWorkAccess, expectedVersion, action: 'assess' },
    async (current, now, reserved) => {
      const dataKey = dataKeyOf(deps, current);
      const assessment = needRules.assessNeeds(input.needs, input.riskFlags, now);
      let change = reassess(current.state, assessment, now);
      const crisis = await crisisFor(deps, change.state, reserved);
      if (crisis.referral) change = followedBy(change, addReferrals(change.state, [crisis.referral], now));
      const sealed = sealNeeds(
        deps.cipher,
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
  return { state: stored.state, uncovered: await uncoveredNeeds(deps, stored.state) };
}
