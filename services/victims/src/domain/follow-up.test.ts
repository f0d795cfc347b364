import { describe, expect, it } from 'vitest';
import { cancelDue, CheckInError, nextDue, onBecameUrgent, recordOutcome, schedule } from './follow-up.js';

const now = new Date('2026-03-10T12:00:00Z');
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe('follow-up schedule', () => {
  it('checks in after a day, a week and a month; an urgent case within hours and more closely', () => {
    expect(schedule(now, false).map((c) => [c.id, c.dueAt, c.state, c.attempt])).toEqual([
      ['ci-1', hours(24), 'due', 1],
      ['ci-2', hours(24 * 7), 'due', 1],
      ['ci-3', hours(24 * 30), 'due', 1],
    ]);
    expect(schedule(now, true).map((c) => c.dueAt)).toEqual([
      hours(4),
      hours(24),
      hours(72),
      hours(24 * 7),
      hours(24 * 30),
    ]);
  });

  it('adds an early check-in when a case becomes urgent, unless one is due soon or none may be made', () => {
    const routine = schedule(now, false);
    const later = new Date(now.getTime() + 3_600_000);
    const urgent = onBecameUrgent(routine, later);
    expect(urgent.at(-1)).toEqual({
      id: 'ci-4',
      dueAt: new Date(later.getTime() + 4 * 3_600_000),
      state: 'due',
      attempt: 1,
    });
    expect(onBecameUrgent(urgent, later)).toHaveLength(4);
    expect(onBecameUrgent([], later)).toEqual([]);
    expect(onBecameUrgent(cancelDue(routine), later)).toHaveLength(3);
  });

  it('records outcomes: the same one twice is a no-op, another one a conflict', () => {
    const plan = schedule(now, false);
    const done = recordOutcome(plan, 'ci-1', 'reached-ok', hours(25));
    expect(done.checkIns[0]).toMatchObject({ state: 'done', outcome: 'reached-ok', recordedAt: hours(25) });
    expect(recordOutcome(done.checkIns, 'ci-1', 'reached-ok', hours(26)).repeated).toBe(true);
    expect(() => recordOutcome(done.checkIns, 'ci-1', 'no-answer', hours(26))).toThrow(CheckInError);
    expect(() => recordOutcome(done.checkIns, 'ci-9', 'no-answer', hours(26))).toThrow(/no check-in ci-9/);
    expect(() => recordOutcome(cancelDue(plan), 'ci-2', 'reached-ok', hours(26))).toThrow(/cancelled/);
  });

  it('retries an unanswered check-in the next day, twice at most', () => {
    let plan = schedule(now, false);
    plan = recordOutcome(plan, 'ci-1', 'no-answer', hours(24)).checkIns;
    expect(plan.at(-1)).toMatchObject({ id: 'ci-4', dueAt: hours(48), attempt: 2 });
    plan = recordOutcome(plan, 'ci-4', 'no-answer', hours(48)).checkIns;
    expect(plan.at(-1)).toMatchObject({ id: 'ci-5', dueAt: hours(72), attempt: 3 });
    plan = recordOutcome(plan, 'ci-5', 'no-answer', hours(72)).checkIns;
    expect(plan).toHaveLength(5);
    expect(nextDue(plan)).toEqual(hours(24 * 7));
  });

  it('flags a victim who needs help for review and stops everything when they decline contact', () => {
    const plan = schedule(now, false);
    expect(recordOutcome(plan, 'ci-1', 'reached-needs-help', hours(24)).reviewRequested).toBe(true);
    const declined = recordOutcome(plan, 'ci-1', 'declined-contact', hours(24));
    expect(declined.contactDeclined).toBe(true);
    expect(declined.checkIns.map((c) => c.state)).toEqual(['done', 'cancelled', 'cancelled']);
    expect(nextDue(declined.checkIns)).toBeUndefined();
  });
});
