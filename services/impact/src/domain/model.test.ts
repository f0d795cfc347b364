import { describe, expect, it } from 'vitest';
import { assetProblems, type Asset } from './model.js';

const asset: Asset = {
  id: 'substation-7',
  name: 'Substation 7',
  operatorId: 'grid-op',
  sector: 'energy',
  jurisdiction: 'DE-BY',
  location: { lat: 48.1, lon: 11.6 },
  populationServed: 12_000,
  criticality: 3,
  services: ['electricity'],
  tlp: 'AMBER',
};

describe('assetProblems', () => {
  it('refuses control characters in an asset’s name, naming the field, and accepts a plain name', () => {
    expect(assetProblems(asset)).toEqual([]);
    expect(assetProblems({ ...asset, name: 'Substation\n7' })).toEqual([
      { field: 'name', message: 'contains a control character (U+000A at position 10)' },
    ]);
  });
});
