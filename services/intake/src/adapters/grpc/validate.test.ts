import { describe, expect, it } from 'vitest';
import { GrpcError } from '@beacon/platform';
import { MAX_AFFECTED_ASSETS } from '../../domain/affected-asset.js';
import { RULES, Validator } from './validate.js';

const { affectedAssets: assetsRule, observables: observablesRule } = RULES.SubmitReportRequest;

const asset = (assetId: string, loss: number) => ({ assetId, loss });

describe('validating affected assets', () => {
  it('keeps valid assets, reads loss 0 as total loss and merges a repeated id to its largest loss', () => {
    const v = new Validator();
    const out = v.affectedAssets(
      'affected_assets',
      [asset('pump-1', 0.25), asset('grid:substation-7', 0), asset('pump-1', 0.75), asset('pump-1', 0.5)],
      assetsRule,
    );
    expect(v.violations).toEqual([]);
    expect(out).toEqual([asset('pump-1', 0.75), asset('grid:substation-7', 1)]);
  });

  it('names the element and member of every bad id and loss', () => {
    const v = new Validator();
    const out = v.affectedAssets(
      'affected_assets',
      [
        asset('ok-1', 0.5),
        asset('', 0.5),
        asset('ok-2', 1.5),
        asset('-bad', Number.NaN),
        asset('ok-3', -0.1),
        asset('ok-4', Infinity),
      ],
      assetsRule,
    );
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
    expect(ok.affectedAssets('affected_assets', many(100), assetsRule)).toHaveLength(100);
    expect(ok.violations).toEqual([]);

    const tooMany = new Validator();
    expect(tooMany.affectedAssets('affected_assets', many(101), assetsRule)).toEqual([]);
    expect(tooMany.violations).toEqual([
      { field: 'affected_assets', description: 'at most 100', reason: 'TOO_MANY' },
    ]);
  });

  it('counts the limit before merging, so repeats cannot hide a long list', () => {
    const v = new Validator();
    v.affectedAssets(
      'affected_assets',
      Array.from({ length: 101 }, () => asset('same', 1)),
      assetsRule,
    );
    expect(v.violations.map((x) => x.reason)).toEqual(['TOO_MANY']);
  });
});

describe('validating observables', () => {
  it('refangs defanged indicators and keeps what the reporter wrote beside the canonical value', () => {
    const v = new Validator();
    const out = v.observables(
      'observables',
      [
        { type: 'url', value: 'hxxps://evil[.]example[.]com/login' },
        { type: 'email', value: 'billing[at]evil[dot]example' },
        { type: 'ipv4', value: '192.0.2.1' },
        // A client cannot set the reported form: it is what the server was sent.
        { type: 'domain', value: 'evil.example', reported: 'something else' },
      ],
      observablesRule,
    );
    expect(v.violations).toEqual([]);
    expect(out).toEqual([
      {
        type: 'url',
        value: 'https://evil.example.com/login',
        reported: 'hxxps://evil[.]example[.]com/login',
      },
      { type: 'email', value: 'billing@evil.example', reported: 'billing[at]evil[dot]example' },
      { type: 'ipv4', value: '192.0.2.1' },
      { type: 'domain', value: 'evil.example' },
    ]);
  });

  it('still refuses what refanging does not make an indicator, naming each', () => {
    const v = new Validator();
    v.observables(
      'observables',
      [
        { type: 'ipv4', value: '192[.]0[.]2[.]1' },
        { type: 'ipv4', value: '999[.]1[.]1[.]1' },
        { type: 'url', value: 'hxxp://' },
      ],
      observablesRule,
    );
    expect(v.violations.map((x) => [x.field, x.reason])).toEqual([
      ['observables[1]', 'INVALID_OBSERVABLE'],
      ['observables[2]', 'INVALID_OBSERVABLE'],
    ]);
  });
});

describe('the limits intake takes from proto/', () => {
  it('agree with what the domain and the platform assume', () => {
    // The domain caps an incident's merged assets at what one request may carry.
    expect(RULES.SubmitReportRequest.affectedAssets.maxItems).toBe(MAX_AFFECTED_ASSETS);
    expect(RULES.OpenIncidentRequest.affectedAssets.maxItems).toBe(MAX_AFFECTED_ASSETS);
    // `pageSize` reads 0 as "unset": a page_size rule must start there.
    expect(RULES.ListIncidentsRequest.pageSize.minimum).toBe(0);
  });
});
