/**
 * A critical-infrastructure asset an incident directly affects. The impact service owns the
 * asset registry and assesses cascades from these; intake only records which assets were named
 * and how badly, so the id is checked for shape, not for existence.
 */
export interface AffectedAsset {
  /** The asset's id in the impact service's registry. */
  readonly assetId: string;
  /** Fraction of the asset's service lost, in (0, 1]. */
  readonly loss: number;
}

/** One request may name at most this many assets. */
export const MAX_AFFECTED_ASSETS = 100;

const ASSET_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Whether `id` has the shape of an asset id in the impact service's registry. */
export function isAssetId(id: string): boolean {
  return ASSET_ID.test(id);
}

/**
 * The loss as stored, or undefined when it is not a fraction. On the wire 0 is the unset value,
 * and an asset named without a loss is taken to be lost entirely, so 0 becomes 1.
 */
export function normaliseLoss(loss: number): number | undefined {
  if (!Number.isFinite(loss) || loss < 0 || loss > 1) return undefined;
  return loss === 0 ? 1 : loss;
}

/**
 * Each asset once, with the largest loss any list gave it, in order of first mention. The worst
 * reported loss is kept because the impact assessment must not understate a cascade; a smaller
 * figure from a later report does not mean the asset recovered.
 */
export function mergeAffectedAssets(...lists: readonly (readonly AffectedAsset[])[]): AffectedAsset[] {
  const byId = new Map<string, AffectedAsset>();
  for (const list of lists) {
    for (const asset of list) {
      const existing = byId.get(asset.assetId);
      if (!existing || asset.loss > existing.loss) byId.set(asset.assetId, asset);
    }
  }
  return [...byId.values()].map(({ assetId, loss }) => ({ assetId, loss }));
}
