import { describe, expect, it } from 'vitest';
import type { AgencyEngagementStatus } from './definitions.js';
import { escalationReported } from './escalation.js';

const engagement = (over: Partial<AgencyEngagementStatus>): AgencyEngagementStatus => ({
  agencyId: 'cert-a',
  state: 'notified',
  reasons: [],
  noticesSent: 1,
  startedAtMs: 0,
  ...over,
});

describe('an escalation has been reported', () => {
  it('once the engagement sent the notice after the one it waited at', () => {
    const before = engagement({ noticesSent: 1 });
    expect(escalationReported(before, engagement({ noticesSent: 1 }))).toBe(false);
    expect(escalationReported(before, engagement({ noticesSent: 2 }))).toBe(true);
  });

  it('past the first contact for an engagement that had not reported its first notice yet', () => {
    const before = engagement({ state: 'engaging', noticesSent: 0 });
    expect(escalationReported(before, engagement({ noticesSent: 1 }))).toBe(false);
    expect(escalationReported(before, engagement({ noticesSent: 2 }))).toBe(true);
  });

  it('once the engagement ended, whichever way', () => {
    const before = engagement({ noticesSent: 3 });
    for (const state of ['acknowledged', 'unacknowledged', 'removed'] as const)
      expect(escalationReported(before, engagement({ state, noticesSent: 3 }))).toBe(true);
  });
});
