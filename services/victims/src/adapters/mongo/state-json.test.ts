import { describe, expect, it } from 'vitest';
import { stateJson } from './state-json.js';

describe('a case state as JSON', () => {
  it('is the very text JSON.stringify makes, times and all', () => {
    const now = new Date('2026-11-29T07:28:55.474Z');
    const state = {
      id: 'vc_0458302804bb12dc0924e51869aed276',
      assignedOrgIds: ['vs-bench'],
      assessment: {
        needs: [
          { kind: 'financial-loss', recallDeadline: new Date('2027-03-25T07:28:53.429Z'), amount: 12.5 },
          { kind: 'account-takeover', priority: 'high', lossBand: undefined },
        ],
        urgent: false,
        assessedAt: now,
      },
      consents: { contact: { granted: true, recordedAt: new Date(now), recordedBy: 'bench' } },
      checkIns: [{ id: 'ci-1', dueAt: new Date(now.getTime() + 86_400_000), outcome: null }],
      closedAt: undefined,
      erasedAt: new Date(Number.NaN),
      sparse: [1, undefined, 'x'],
      updatedAt: now,
      version: 1,
    };
    // Twice: the second time the instants come from what the first remembered.
    expect(stateJson(state)).toBe(JSON.stringify(state));
    expect(stateJson(state)).toBe(JSON.stringify(state));
  });

  it('stays right past the number of instants it remembers', () => {
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 3_000; i += 7) {
      const state = { openedAt: new Date(base + i * 1_000), dueAt: new Date(base + i) };
      expect(stateJson(state)).toBe(JSON.stringify(state));
    }
  });
});
