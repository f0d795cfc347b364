import { describe, expect, it } from 'vitest';
import type { AgencyEngagementStatus, HandOver } from './definitions.js';
import { MergeHandOvers } from './merge-hand-over-state.js';

const engagement = (agencyId: string, state: AgencyEngagementStatus['state']): AgencyEngagementStatus => ({
  agencyId,
  state,
  reasons: ['CSIRT for DE-BY'],
  noticesSent: 1,
  startedAtMs: 1_000,
});

const registry = [
  { id: 'cert-bayern', clearance: 'RED' as const },
  { id: 'lka-bayern', clearance: 'AMBER' as const },
  { id: 'cert-fr', clearance: 'RED' as const },
  { id: 'vs-bayern', clearance: 'GREEN' as const },
];

describe('the merged side', () => {
  it('hands over once, to the first survivor it hears of, and then waits for nothing else', () => {
    const state = MergeHandOvers.initial();
    const merges = new MergeHandOvers(state);
    expect(merges.hasWork()).toBe(false);
    merges.mergedInto('inc-self', 'inc-self');
    merges.mergedInto('', 'inc-self');
    expect(merges.hasWork()).toBe(false);
    merges.mergedInto('inc-s', 'inc-self');
    merges.mergedInto('inc-other', 'inc-self');
    expect(merges.survivorId).toBe('inc-s');
    expect(merges.mustHandOver).toBe(true);
    merges.handedOver();
    expect(merges.hasWork()).toBe(false);
    // A hand-over to an incident that is itself merged away is not taken over by it.
    merges.received({ mergedId: 'inc-late', agencies: [], filed: {} });
    expect(merges.hasWork()).toBe(false);
    // The state survives continue-as-new as plain data.
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('hands over every engagement as it stands and every filed report', () => {
    const handOver = MergeHandOvers.handOverOf(
      'inc-m',
      {
        'lka-bayern': engagement('lka-bayern', 'notified'),
        'cert-fr': engagement('cert-fr', 'acknowledged'),
      },
      { 'nis2-early-warning': { atMs: 5, reference: 'BSI-1' } },
    );
    expect(handOver.agencies.map((a) => [a.agencyId, a.state])).toEqual([
      ['cert-fr', 'acknowledged'],
      ['lka-bayern', 'notified'],
    ]);
    expect(handOver.filed).toEqual({ 'nis2-early-warning': { atMs: 5, reference: 'BSI-1' } });
  });
});

describe('the survivor side', () => {
  it('takes each merged incident over once, however often it hears of it', () => {
    const merges = new MergeHandOvers(MergeHandOvers.initial());
    const handOver: HandOver = { mergedId: 'inc-m', agencies: [], filed: {} };
    merges.received(handOver);
    merges.received({ ...handOver });
    expect(merges.hasWork()).toBe(true);
    expect(merges.next()).toEqual(handOver);
    merges.tookOver('inc-m');
    expect(merges.hasWork()).toBe(false);
    merges.received(handOver);
    expect(merges.next()).toBeUndefined();
  });

  it('never doubles an engagement: ended ones are recorded as they are, waiting ones engaged once, its own kept', () => {
    const handOver = MergeHandOvers.handOverOf(
      'inc-m',
      {
        'cert-bayern': engagement('cert-bayern', 'acknowledged'),
        'lka-bayern': engagement('lka-bayern', 'notified'),
        'cert-fr': engagement('cert-fr', 'acknowledged'),
        'vs-bayern': engagement('vs-bayern', 'removed'),
      },
      {},
    );
    const plan = MergeHandOvers.plan(
      handOver,
      { agencies: { 'cert-bayern': engagement('cert-bayern', 'notified') }, filed: {} },
      { tlp: 'AMBER', engagedAgencyIds: ['cert-bayern', 'lka-bayern', 'cert-fr'] },
      registry,
    );
    // cert-bayern is the survivor's own engagement: untouched; vs-bayern was removed there.
    expect(plan.adopt.map((a) => [a.agencyId, a.state])).toEqual([['cert-fr', 'acknowledged']]);
    expect(plan.adopt[0]!.reasons).toContain('taken over from merged incident inc-m');
    expect(plan.engage.map((d) => d.agencyId)).toEqual(['lka-bayern']);
    expect(plan.notCleared).toEqual([]);
  });

  it('takes over no agency the survivor’s label is above, nor one the registry does not know', () => {
    const handOver = MergeHandOvers.handOverOf(
      'inc-m',
      {
        'lka-bayern': engagement('lka-bayern', 'acknowledged'),
        'cert-fr': engagement('cert-fr', 'notified'),
        'gone-agency': engagement('gone-agency', 'notified'),
      },
      {},
    );
    const plan = MergeHandOvers.plan(
      handOver,
      { agencies: {}, filed: {} },
      { tlp: 'RED', engagedAgencyIds: [] },
      registry,
    );
    expect([...plan.notCleared].sort()).toEqual(['gone-agency', 'lka-bayern']);
    // The legitimate one, cleared for RED, is still engaged.
    expect(plan.engage.map((d) => d.agencyId)).toEqual(['cert-fr']);
    expect(plan.adopt).toEqual([]);
  });

  it('keeps its own filed reports and takes over the ones filed only about the merged incident', () => {
    const plan = MergeHandOvers.plan(
      {
        mergedId: 'inc-m',
        agencies: [],
        filed: {
          'nis2-early-warning': { atMs: 5, reference: 'M-1' },
          'nis2-incident-notification': { atMs: 6, reference: 'M-2' },
        },
      },
      { agencies: {}, filed: { 'nis2-early-warning': { atMs: 4, reference: 'S-1' } } },
      { tlp: 'GREEN', engagedAgencyIds: [] },
      registry,
    );
    expect(plan.filed).toEqual([['nis2-incident-notification', { atMs: 6, reference: 'M-2' }]]);
  });
});
