import { MAX_COUNT } from './asset-types.js';
import { clamp } from './random.js';

// The nearest-provider search that makes connecting millions of assets affordable.

/** Where every asset is: what the dependency pass needs, as columns. */
export interface Placed {
  readonly count: number;
  readonly ids: readonly string[];
  readonly type: Uint8Array;
  /** Projected plane, in degrees of latitude: x = lon·cos(lat₀), y = lat. */
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/**
 * The assets of one kind bucketed in square cells of about one each on average, so "the k nearest" looks
 * at a few cells around the point instead of every asset. Each cell's coordinates sit side by
 * side, so a search reads memory in order rather than hopping over all assets.
 */
export class SpatialGrid {
  readonly #best = new Float64Array(MAX_COUNT);

  private constructor(
    private readonly minX: number,
    private readonly minY: number,
    private readonly cell: number,
    private readonly width: number,
    private readonly height: number,
    /** Cell c holds members[start[c] .. start[c+1]), at (memberX, memberY). */
    private readonly start: Uint32Array,
    private readonly members: Uint32Array,
    private readonly memberX: Float64Array,
    private readonly memberY: Float64Array,
  ) {}

  static of(placed: Placed, type: number): SpatialGrid {
    let n = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < placed.count; i++) {
      if (placed.type[i] !== type) continue;
      n++;
      minX = Math.min(minX, placed.x[i]!);
      maxX = Math.max(maxX, placed.x[i]!);
      minY = Math.min(minY, placed.y[i]!);
      maxY = Math.max(maxY, placed.y[i]!);
    }
    if (n === 0) [minX, minY, maxX, maxY] = [0, 0, 0, 0];
    const spanX = Math.max(maxX - minX, 1e-9);
    const spanY = Math.max(maxY - minY, 1e-9);
    // Assets crowd into towns, so most cells are empty and the occupied ones hold several.
    const cell = Math.max(Math.sqrt((spanX * spanY) / Math.max(1, n)), 1e-6);
    const width = Math.min(4096, Math.floor(spanX / cell) + 1);
    const height = Math.min(4096, Math.floor(spanY / cell) + 1);
    const start = new Uint32Array(width * height + 1);
    const cellOf = (i: number) =>
      Math.min(height - 1, Math.floor((placed.y[i]! - minY) / cell)) * width +
      Math.min(width - 1, Math.floor((placed.x[i]! - minX) / cell));
    for (let i = 0; i < placed.count; i++) if (placed.type[i] === type) start[cellOf(i) + 1]!++;
    for (let c = 0; c < width * height; c++) start[c + 1]! += start[c]!;
    const cursor = start.slice();
    const members = new Uint32Array(n);
    const memberX = new Float64Array(n);
    const memberY = new Float64Array(n);
    for (let i = 0; i < placed.count; i++) {
      if (placed.type[i] !== type) continue;
      const at = cursor[cellOf(i)]!++;
      members[at] = i;
      memberX[at] = placed.x[i]!;
      memberY[at] = placed.y[i]!;
    }
    return new SpatialGrid(minX, minY, cell, width, height, start, members, memberX, memberY);
  }

  /**
   * Writes the (up to) k members nearest to (px, py), nearest first and other than `exclude`,
   * into `out`; returns how many. Searches rings of cells outwards until no closer one can exist.
   */
  nearest(px: number, py: number, k: number, exclude: number, out: Int32Array): number {
    const { cell, width, height, start, members, memberX, memberY } = this;
    const best = this.#best;
    let found = 0;
    const cx = clamp(Math.floor((px - this.minX) / cell), 0, width - 1);
    const cy = clamp(Math.floor((py - this.minY) / cell), 0, height - 1);
    const rings = Math.max(width, height);
    for (let r = 0; r <= rings; r++) {
      for (let gy = Math.max(0, cy - r); gy <= Math.min(height - 1, cy + r); gy++) {
        const edge = gy === cy - r || gy === cy + r;
        for (let gx = cx - r; gx <= cx + r; gx += edge || r === 0 ? 1 : 2 * r) {
          if (gx < 0 || gx >= width) continue;
          const c = gy * width + gx;
          for (let m = start[c]!, end = start[c + 1]!; m < end; m++) {
            const dx = memberX[m]! - px;
            const dy = memberY[m]! - py;
            const d = dx * dx + dy * dy;
            if (found === k && d >= best[k - 1]!) continue;
            const i = members[m]!;
            if (i === exclude) continue;
            // Insertion into the short sorted list of the best so far.
            let at = found < k ? found++ : k - 1;
            while (at > 0 && best[at - 1]! > d) {
              best[at] = best[at - 1]!;
              out[at] = out[at - 1]!;
              at--;
            }
            best[at] = d;
            out[at] = i;
          }
        }
      }
      if (found === k) {
        // Nothing outside the searched block of cells is nearer than the block's nearest open side.
        const left = cx - r > 0 ? px - (this.minX + (cx - r) * cell) : Infinity;
        const right = cx + r < width - 1 ? this.minX + (cx + r + 1) * cell - px : Infinity;
        const below = cy - r > 0 ? py - (this.minY + (cy - r) * cell) : Infinity;
        const above = cy + r < height - 1 ? this.minY + (cy + r + 1) * cell - py : Infinity;
        const reach = Math.min(left, right, below, above);
        if (reach === Infinity || best[k - 1]! <= reach * reach) break;
      }
    }
    return found;
  }
}
