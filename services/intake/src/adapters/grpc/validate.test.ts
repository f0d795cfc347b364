import { describe, expect, it } from 'vitest';
import { GrpcError } from '@beacon/platform';
import { Validator } from './validate.js';

const asset = (assetId: string, loss: number) => ({ assetId, loss });

describe('validating affected assets', () => {
  it('keeps valid assets, reads loss 0 as total loss and merges a repeated id to its largest loss', () => {
    const v = new Validator();
    const out = v.affectedAssets('affected_assets', [
      asset('pump-1', 0.25),
      asset('grid:substation-7', 0),
      asset('pump-1', 0.75),
      asset('pump-1', 0.5),
    ]);
    expect(v.violations).toEqual([]);
    expect(out).toEqual([asset('pump-1', 0.75), asset('grid:substation-7', 1)]);
  });

  it('names the element and member of every bad id and loss', () => {
    const v = new Validator();
    const out = v.affectedAssets('affected_assets', [
      asset('ok-1', 0.5),
      asset('', 0.5),
      asset('ok-2', 1.5),
      asset('-bad', Number.NaN),
      asset('ok-3', -0.1),
      asset('ok-4', Infinity),
    ]);
    expect(v.violations.map((x) => [x.field, x.reason])).toEqual([
      ['affected_assets[1].asset_id', 'INVALID_ASSET_ID'],
      ['affected_assets[2].loss', 'OUT_OF_RANGE'],
      ['affected_assets[3].asset_id', 'INVALID_ASSET_ID'],
      ['affected_assets[3].loss', 'OUT_OF_RANGE'],
      ['affected_assets[4].loss', 'OUT_OF_RANGE'],
      ['affected_assets[5].loss', 'OUT_OF_RANGE'],
    ]);
    expect(out).toEqual([asset('ok-1', 0.5)]);
    expect(() => v.check()).toThrow(GrpcError);
  });

  it('accepts 100 and refuses 101 as one violation on the list', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => asset(`asset-${i}`, 1));
    const ok = new Validator();
    expect(ok.affectedAssets('affected_assets', many(100))).toHaveLength(100);
    expect(ok.violations).toEqual([]);

    const tooMany = new Validator();
    expect(tooMany.affectedAssets('affected_assets', many(101))).toEqual([]);
    expect(tooMany.violations).toEqual([
      { field: 'affected_assets', description: 'at most 100', reason: 'TOO_MANY' },
    ]);
  });

  it('counts the limit before merging, so repeats cannot hide a long list', () => {
    const v = new Validator();
    v.affectedAssets(
      'affected_assets',
      Array.from({ length: 101 }, () => asset('same', 1)),
    );
    expect(v.violations.map((x) => x.reason)).toEqual(['TOO_MANY']);
  });
});
