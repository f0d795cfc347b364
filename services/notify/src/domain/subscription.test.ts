import { describe, expect, it } from 'vitest';
import { eventTypeMatches, parseSubscription, subscriptionProblems } from './subscription.js';

const fields = (input: Parameters<typeof subscriptionProblems>[0]) =>
  subscriptionProblems(input).map((p) => p.field);

describe('subscriptions', () => {
  it('accepts a subscription with every filter set, and one with none', () => {
    const full = {
      id: 'sub-1',
      agencyId: 'cert-bund',
      eventTypes: ['incident.opened', 'impact.*'],
      rsitClasses: ['intrusions', 'availability'],
      sectors: ['energy'],
      jurisdictions: ['DE', 'FR-75'],
      minNcissLevel: 3,
      incidentIds: ['inc-1'],
    };
    expect(subscriptionProblems(full)).toEqual([]);
    expect(parseSubscription(full)).toEqual({ ok: true, subscription: full });
    expect(subscriptionProblems({ id: 'all', agencyId: 'cert-bund' })).toEqual([]);
  });

  it('names each bad field and entry', () => {
    expect(
      fields({
        id: '',
        agencyId: 'Cert.Bund',
        eventTypes: ['incident.opened', 'incident', '*', 'beacon.evt.incident.opened'],
        rsitClasses: ['ransomware'],
        sectors: ['energy', 'space'],
        jurisdictions: ['de', 'DE-BY'],
        minNcissLevel: 6,
        incidentIds: [''],
      }),
    ).toEqual([
      'id',
      'agencyId',
      'eventTypes[1]',
      'eventTypes[2]',
      'eventTypes[3]',
      'rsitClasses[0]',
      'sectors[1]',
      'jurisdictions[0]',
      'incidentIds[0]',
      'minNcissLevel',
    ]);
    expect(fields({ id: 's', agencyId: 'a', minNcissLevel: 2.5 })).toEqual(['minNcissLevel']);
    expect(fields({ id: 's', agencyId: 'a', minNcissLevel: -1 })).toEqual(['minNcissLevel']);
    expect(
      fields({ id: 's', agencyId: 'a', incidentIds: Array.from({ length: 501 }, (_, i) => `i${i}`) }),
    ).toEqual(['incidentIds']);
    expect(parseSubscription({ id: '', agencyId: 'a' }).ok).toBe(false);
  });

  it('matches event types exactly or by domain wildcard', () => {
    expect(eventTypeMatches('incident.opened', 'incident.opened')).toBe(true);
    expect(eventTypeMatches('incident.opened', 'incident.resolved')).toBe(false);
    expect(eventTypeMatches('incident.*', 'incident.resolved')).toBe(true);
    expect(eventTypeMatches('incident.*', 'impact.assessed')).toBe(false);
    // The dot is part of the prefix: "incident.*" is not "incidents.…".
    expect(eventTypeMatches('incident.*', 'incidents.opened')).toBe(false);
  });
});
