import { describe, expect, it } from 'vitest';
import { describeTouch, incidentTouches, namedPlaces, placeWithin, touchesWithin } from './places.js';

describe('the places an incident touches', () => {
  it('are what the reports name, each sector in each jurisdiction, or one list alone', () => {
    expect(namedPlaces(['energy'], ['DE', 'FR'])).toEqual([
      { sector: 'energy', jurisdiction: 'DE', how: 'named' },
      { sector: 'energy', jurisdiction: 'FR', how: 'named' },
    ]);
    expect(namedPlaces([], ['DE'])).toEqual([{ jurisdiction: 'DE', how: 'named' }]);
    expect(namedPlaces(['energy'], [])).toEqual([{ sector: 'energy', how: 'named' }]);
    expect(namedPlaces([], [])).toEqual([]);
  });

  it('add the places only the cascade reaches, once each, a named place staying named', () => {
    expect(
      incidentTouches({ sectors: ['communications'], jurisdictions: ['UA'] }, [
        { sector: 'communications', jurisdiction: 'UA' },
        { sector: 'energy', jurisdiction: 'DE' },
        { sector: 'energy', jurisdiction: 'DE' },
      ]),
    ).toEqual([
      { sector: 'communications', jurisdiction: 'UA', how: 'named' },
      { sector: 'energy', jurisdiction: 'DE', how: 'reached' },
    ]);
  });

  it('lie within a remit when one place has both its sector and its jurisdiction there', () => {
    const remit = { sectors: ['energy'], jurisdictions: ['DE'] };
    expect(placeWithin({ sector: 'energy', jurisdiction: 'DE-BY' }, remit)).toBe(true);
    expect(placeWithin({ sector: 'energy', jurisdiction: 'UA' }, remit)).toBe(false);
    expect(placeWithin({ sector: 'communications', jurisdiction: 'DE' }, remit)).toBe(false);
    // A subdivision does not cover its country, and an unknown part fails a filter on it.
    expect(placeWithin({ sector: 'energy', jurisdiction: 'DE' }, { jurisdictions: ['DE-BY'] })).toBe(false);
    expect(placeWithin({ jurisdiction: 'DE' }, { sectors: ['energy'] })).toBe(false);
    expect(placeWithin({ sector: 'energy' }, { jurisdictions: ['DE'] })).toBe(false);
    expect(placeWithin({ sector: 'energy' }, {})).toBe(true);
    const touches = incidentTouches({ sectors: ['communications'], jurisdictions: ['UA', 'DE'] }, [
      { sector: 'energy', jurisdiction: 'DE-NI' },
    ]);
    expect(touchesWithin(touches, remit)).toEqual([
      { sector: 'energy', jurisdiction: 'DE-NI', how: 'reached' },
    ]);
    expect(touchesWithin(touches, remit, 'named')).toEqual([]);
    expect(touchesWithin(touches, { sectors: ['energy'], jurisdictions: ['UA'] })).toEqual([]);
  });

  it('read in a reason as the place and how it was reached', () => {
    expect(describeTouch({ sector: 'energy', jurisdiction: 'DE', how: 'reached' })).toBe(
      'energy in DE (reached by the cascade)',
    );
    expect(describeTouch({ jurisdiction: 'DE', how: 'named' })).toBe('in DE');
  });
});
