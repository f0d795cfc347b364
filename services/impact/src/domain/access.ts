import { mayReceive, type Tlp } from '@beacon/domain';

/** The parts of a verified caller that authorisation looks at. */
export interface Caller {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly agencyId: string | undefined;
  readonly clearance: Tlp;
}

const SEES_ALL = ['coordinator', 'service'];
const OPERATES = ['agency_admin', 'agency_analyst'];

const hasAny = (caller: Caller, roles: readonly string[]) => caller.roles.some((r) => roles.includes(r));

/**
 * Which assets a caller may see: the coordination centre and Beacon services every asset
 * within their clearance; an operator its own assets only (it is their source, so its own
 * labels never hide them); anyone else none. Asset details are TLP-marked by their operator.
 */
export type AssetScope =
  | { readonly kind: 'all'; readonly clearance: Tlp }
  | { readonly kind: 'operator'; readonly operatorId: string }
  | { readonly kind: 'none' };

export function assetScope(caller: Caller): AssetScope {
  if (hasAny(caller, SEES_ALL)) return { kind: 'all', clearance: caller.clearance };
  if (hasAny(caller, OPERATES) && caller.agencyId) return { kind: 'operator', operatorId: caller.agencyId };
  return { kind: 'none' };
}

export function canSeeAsset(
  scope: AssetScope,
  asset: { readonly operatorId: string; readonly tlp: Tlp },
): boolean {
  switch (scope.kind) {
    case 'all':
      return mayReceive(asset.tlp, { clearance: scope.clearance, named: true });
    case 'operator':
      return asset.operatorId === scope.operatorId;
    case 'none':
      return false;
  }
}

/**
 * Registering and changing assets: the coordination centre for any operator; an operator's
 * admin for its own. Analysts read but do not change the registry.
 */
export function canManageAssetsOf(caller: Caller, operatorId: string): boolean {
  if (caller.roles.includes('coordinator')) return true;
  return caller.roles.includes('agency_admin') && caller.agencyId === operatorId;
}

/** Assessments cross operators' boundaries, so only the coordination centre and services run or read them. */
export function canAssess(caller: Caller): boolean {
  return hasAny(caller, SEES_ALL);
}
