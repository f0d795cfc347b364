import { describe, expect, it } from 'vitest';
import { feedItemDecision, labelsAbove, withdrawnLabels } from './feed-access.js';

const agency = { id: 'cert-a', clearance: 'RED' as const };
const engaged = { tlp: 'AMBER' as const, engagedAgencyIds: ['cert-a'] };
const removed = { tlp: 'AMBER' as const, engagedAgencyIds: ['cert-b'] };

describe('reading a feed message now', () => {
  it('answers by the incident as it is now: an agency removed from it no longer reads above GREEN', () => {
    const item = { type: 'incident.opened', tlp: 'AMBER' as const, incidentId: 'inc_1' };
    expect(feedItemDecision(agency, item, engaged)).toEqual({ deliver: true, grant: 'named' });
    expect(feedItemDecision(agency, item, removed)).toEqual({ deliver: false, reason: 'not-named' });
    // The community's messages stay readable.
    expect(feedItemDecision(agency, { ...item, tlp: 'GREEN' }, { ...removed, tlp: 'GREEN' }).deliver).toBe(
      true,
    );
  });

  it('answers by the agency’s clearance now, named or not', () => {
    const item = { type: 'incident.opened', tlp: 'RED' as const, incidentId: 'inc_1' };
    const red = { tlp: 'RED' as const, engagedAgencyIds: ['cert-a'] };
    expect(feedItemDecision(agency, item, red).deliver).toBe(true);
    expect(feedItemDecision({ ...agency, clearance: 'AMBER' }, item, red)).toEqual({
      deliver: false,
      reason: 'above-clearance',
    });
  });

  it('reads an event under its incident’s label should that have risen, a notice under its own', () => {
    const raised = { tlp: 'RED' as const, engagedAgencyIds: [] };
    expect(
      feedItemDecision(agency, { type: 'incident.opened', tlp: 'GREEN', incidentId: 'inc_1' }, raised)
        .deliver,
    ).toBe(false);
    expect(
      feedItemDecision(agency, { type: 'notify.access-withdrawn', tlp: 'GREEN', incidentId: 'inc_1' }, raised)
        .deliver,
    ).toBe(true);
  });

  it('names nobody on an incident notify does not know', () => {
    const item = { type: 'impact.assessed', tlp: 'AMBER' as const, incidentId: 'inc_x' };
    expect(feedItemDecision(agency, item, undefined).deliver).toBe(false);
    expect(feedItemDecision(agency, { ...item, tlp: 'GREEN' }, undefined).deliver).toBe(true);
  });

  it('never hands a possible relation to an agency', () => {
    const item = { type: 'incident.relation-found', tlp: 'CLEAR' as const, incidentId: 'inc_1' };
    expect(feedItemDecision(agency, item, engaged)).toEqual({ deliver: false, reason: 'coordinators-only' });
  });
});

describe('what a withdrawal purges', () => {
  it('an incident’s labels above GREEN once the agency is not named on it, nothing while it is', () => {
    expect(withdrawnLabels(agency, removed)).toEqual(['AMBER', 'AMBER+STRICT', 'RED']);
    expect(withdrawnLabels(agency, engaged)).toEqual([]);
  });

  it('also what is above the agency’s clearance', () => {
    expect(withdrawnLabels({ id: 'cert-a', clearance: 'CLEAR' }, removed)).toEqual([
      'GREEN',
      'AMBER',
      'AMBER+STRICT',
      'RED',
    ]);
    expect(labelsAbove('GREEN')).toEqual(['AMBER', 'AMBER+STRICT', 'RED']);
    expect(labelsAbove('RED')).toEqual([]);
  });
});
