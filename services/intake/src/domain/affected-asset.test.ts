import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAssetId, mergeAffectedAssets, normaliseLoss, type AffectedAsset } from './affected-asset.js';

describe('asset ids', () => {
  it('accept 1 to 128 letters, digits and . _ : -, starting with a letter or digit', () => {
    for (const id of ['a', '7', 'grid:substation-7', 'DE.water_works-3', `a${'b'.repeat(127)}`]) {
      expect(isAssetId(id), id).toBe(true);
    }
  });

  it('refuse anything else', () => {
    for (const id of [
      '',
      '-leading-dash',
      '.hidden',
      ':x',
      'has space',
      'slash/inside',
      '$where',
      'ümlaut',
      'line\nbreak',
      `a${'b'.repeat(128)}`,
    ]) {
      expect(isAssetId(id), JSON.stringify(id)).toBe(false);
    }
  });
});

describe('loss', () => {
  it('keeps a fraction in (0, 1] and reads the unset 0 as total loss', () => {
    expect(normaliseLoss(0.25)).toBe(0.25);
    expect(normaliseLoss(1)).toBe(1);
    expect(normaliseLoss(Number.MIN_VALUE)).toBe(Number.MIN_VALUE);
    expect(normaliseLoss(0)).toBe(1);
    expect(normaliseLoss(-0)).toBe(1);
  });

  it('refuses what is not a finite number from 0 to 1', () => {
    for (const loss of [1.5, 1 + Number.EPSILON, -0.1, Number.NaN, Infinity, -Infinity]) {
      expect(normaliseLoss(loss), String(loss)).toBeUndefined();
    }
  });
});

describe('merging affected assets', () => {
  const a = (assetId: string, loss: number): AffectedAsset => ({ assetId, loss });

  it('keeps each asset once with the largest loss, in order of first mention', () => {
    expect(
      mergeAffectedAssets(
        [a('pump-1', 0.2), a('grid-1', 1), a('pump-1', 0.7)],
        [a('dam-1', 0.1), a('pump-1', 0.4), a('grid-1', 0.3)],
      ),
    ).toEqual([a('pump-1', 0.7), a('grid-1', 1), a('dam-1', 0.1)]);
  });

  it('does not share objects with its inputs', () => {
    const input = [a('pump-1', 0.5)];
    const [merged] = mergeAffectedAssets(input);
    expect(merged).toEqual(input[0]);
    expect(merged).not.toBe(input[0]);
  });

  it('is a union with the max loss per asset, whatever the lists', () => {
    const asset = fc.record({
      assetId: fc.constantFrom('a', 'b', 'c', 'd'),
      loss: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(asset, { maxLength: 6 }), { maxLength: 4 }), (lists) => {
        const merged = mergeAffectedAssets(...lists);
        const all = lists.flat();
        expect(merged.map((m) => m.assetId)).toEqual([...new Set(all.map((x) => x.assetId))]);
        for (const m of merged) {
          expect(m.loss).toBe(Math.max(...all.filter((x) => x.assetId === m.assetId).map((x) => x.loss)));
        }
        // Merging again, or in another grouping, changes nothing.
        expect(mergeAffectedAssets(merged)).toEqual(merged);
        expect(mergeAffectedAssets(all)).toEqual(merged);
      }),
    );
  });
});
