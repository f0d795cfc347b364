import { describe, expect, it } from 'vitest';
import { engagementsMemo, readEngagementsMemo, type EngagementFacts } from './engagement-listing.js';
import { DEFAULT_POLICY } from './policy.js';

const MINUTE = 60_000;
const base: EngagementFacts = {
  agencyId: 'cert-water',
  state: 'notified',
  reasons: ['water in DE-BY'],
  contactRank: 0,
  role: 'duty-officer',
  notifiedAgencyId: 'cert-water',
  round: 1,
  noticesSent: 1,
  notifiedAtMs: 1_000_000,
  startedAtMs: 900_000,
};

describe('what a response tells an engaged agency', () => {
  it('gives the acknowledgement deadline the engagement waits on, following the level now', () => {
    const at = (level: number) =>
      engagementsMemo(
        { phase: 'active', ncissLevel: level, agencies: [base], obligations: [] },
        DEFAULT_POLICY,
      ).agencies[0]!.acknowledgeByMs;
    // Level 0 waits 8 hours at each contact, level 4 half an hour, level 5 a quarter.
    expect(at(0)).toBe(1_000_000 + 480 * MINUTE);
    expect(at(4)).toBe(1_000_000 + 30 * MINUTE);
    expect(at(5)).toBe(1_000_000 + 15 * MINUTE);
  });

  it('has no acknowledgement deadline once nobody is waiting', () => {
    for (const state of ['acknowledged', 'unacknowledged', 'removed', 'engaging'] as const) {
      const [row] = engagementsMemo(
        { phase: 'active', ncissLevel: 3, agencies: [{ ...base, state }], obligations: [] },
        DEFAULT_POLICY,
      ).agencies;
      expect(row).not.toHaveProperty('acknowledgeByMs');
    }
  });

  it('says whether the chain moved past the first contact', () => {
    const escalated = (facts: Partial<EngagementFacts>) =>
      engagementsMemo(
        { phase: 'active', ncissLevel: 1, agencies: [{ ...base, ...facts }], obligations: [] },
        DEFAULT_POLICY,
      ).agencies[0]!.escalated;
    expect(escalated({})).toBe(false);
    expect(escalated({ contactRank: 1, noticesSent: 2 })).toBe(true);
    expect(escalated({ notifiedAgencyId: 'national-spoc' })).toBe(true);
    expect(escalated({ round: 2 })).toBe(true);
  });

  it('lists the reports not yet filed, soonest first, and leaves filed ones out', () => {
    const memo = engagementsMemo(
      {
        phase: 'active',
        ncissLevel: 3,
        agencies: [base],
        obligations: [
          { id: 'nis2-final-report', regime: 'NIS2', title: 'NIS2 final report', state: 'open' },
          { id: 'nis2-notification', regime: 'NIS2', title: 'NIS2 notification', dueAtMs: 9, state: 'open' },
          {
            id: 'nis2-early-warning',
            regime: 'NIS2',
            title: 'NIS2 early warning',
            dueAtMs: 5,
            state: 'filed',
          },
          { id: 'circia-report', regime: 'CIRCIA', title: 'CIRCIA report', dueAtMs: 7, state: 'overdue' },
        ],
      },
      DEFAULT_POLICY,
    );
    expect(memo.deadlines.map((d) => [d.obligation, d.state])).toEqual([
      ['circia-report', 'overdue'],
      ['nis2-notification', 'open'],
      ['nis2-final-report', 'open'],
    ]);
  });

  it('reads back only a memo it wrote', () => {
    const memo = engagementsMemo(
      { phase: 'active', ncissLevel: 1, agencies: [base], obligations: [] },
      DEFAULT_POLICY,
    );
    expect(readEngagementsMemo(JSON.parse(JSON.stringify(memo)))).toEqual(memo);
    expect(readEngagementsMemo(undefined)).toBeUndefined();
    expect(readEngagementsMemo({ v: 2, agencies: [], deadlines: [] })).toBeUndefined();
    expect(readEngagementsMemo('engagements')).toBeUndefined();
  });
});
