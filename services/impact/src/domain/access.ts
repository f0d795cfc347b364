import { hasScope, withinClearance, type Principal, type Tlp } from '@beacon/domain';

/** The parts of a verified caller that authorisation looks at: the trust model's principal. */
export type Caller = Principal;

/**
 * Who the registry serves at all. Narrower than the trust model's coordination centre: auditors
 * check incidents, not the infrastructure registry, and victim officers have no use for it. A
 * Beacon process browses none of it; the response worker's assessments read the whole graph
 * (`assessmentScope`).
 */
const SEES_ALL = ['coordinator'];
const OPERATES = ['agency_admin', 'agency_analyst'];

const hasAny = (caller: Caller, roles: readonly string[]) => caller.roles.some((r) => roles.includes(r));

/**
 * Which assets a caller may see. The registry is need-to-know: the coordination centre and
 * Beacon services see every asset, an operator its own assets only (it is their source), anyone
 * else none. Clearance bounds every one of them (`withinClearance`, the trust model's first
 * test of every read): an operator's own asset labelled above the clearance of the token asking
 * is not shown to that token either, so a GREEN-cleared analyst of an operator that registers
 * AMBER assets sees its GREEN ones only.
 */
export type AssetScope =
  | { readonly kind: 'all'; readonly clearance: Tlp }
  | { readonly kind: 'operator'; readonly operatorId: string; readonly clearance: Tlp }
  | { readonly kind: 'none' };

export function assetScope(caller: Caller): AssetScope {
  if (hasAny(caller, SEES_ALL)) return { kind: 'all', clearance: caller.clearance };
  if (hasAny(caller, OPERATES) && caller.agencyId)
    return { kind: 'operator', operatorId: caller.agencyId, clearance: caller.clearance };
  return { kind: 'none' };
}

export function canSeeAsset(
  scope: AssetScope,
  asset: { readonly operatorId: string; readonly tlp: Tlp },
): boolean {
  switch (scope.kind) {
    case 'all':
      return withinClearance(scope, asset.tlp);
    case 'operator':
      return asset.operatorId === scope.operatorId && withinClearance(scope, asset.tlp);
    case 'none':
      return false;
  }
}

/**
 * Registering and changing assets: the coordination centre for any operator; an operator's
 * admin for its own. Analysts read but do not change the registry. Which asset a caller may
 * change is further bounded by what it may see (`canSeeAsset`): nobody changes what it cannot
 * read back.
 */
export function canManageAssetsOf(caller: Caller, operatorId: string): boolean {
  if (caller.roles.includes('coordinator')) return true;
  return caller.roles.includes('agency_admin') && caller.agencyId === operatorId;
}

/**
 * Assessments cross operators' boundaries, so only coordinators and the response worker (scope
 * `impact:assess`) run or read them; each sees an assessment within its clearance (see
 * `assessment-view.ts`).
 */
export function canAssess(caller: Caller): boolean {
  return hasAny(caller, SEES_ALL) || hasScope(caller, 'impact:assess');
}

/** The assets an assessment the caller runs may name: the whole graph within its clearance. */
export function assessmentScope(caller: Caller): AssetScope {
  return canAssess(caller) ? { kind: 'all', clearance: caller.clearance } : { kind: 'none' };
}
