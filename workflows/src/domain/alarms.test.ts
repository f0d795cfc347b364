import { OBLIGATIONS, type ScheduledObligation } from '@beacon/domain';
import { describe, expect, it } from 'vitest';
import { alarmsDue, plannedAlarms } from './alarms.js';

const HOUR = 3_600_000;
const policy = { escalateEveryMs: 24 * HOUR, maxEscalations: 2 };
const due = 100 * HOUR;
const earlyWarning: ScheduledObligation = { ...OBLIGATIONS['nis2-early-warning'], dueAtMs: due };

describe('regulatory alarms', () => {
  it('plans reminders 12 h and 2 h ahead, the overdue alarm, and the escalations after it', () => {
    expect(plannedAlarms(earlyWarning, policy).map((a) => [a.kind, (a.atMs - due) / HOUR, a.level])).toEqual([
      ['reminder', -12, 0],
      ['reminder', -2, 0],
      ['overdue', 0, 0],
      ['escalation', 24, 1],
      ['escalation', 48, 2],
    ]);
  });

  it('raises each alarm once, at its time, and says when to wake next', () => {
    const raised = new Set<string>();
    const at = (ms: number) => {
      const plan = alarmsDue([earlyWarning], raised, ms, policy);
      for (const a of [...plan.fire, ...plan.skip]) raised.add(a.key);
      return { fire: plan.fire.map((a) => a.kind), next: plan.nextAtMs };
    };
    expect(at(due - 20 * HOUR)).toEqual({ fire: [], next: due - 12 * HOUR });
    expect(at(due - 12 * HOUR)).toEqual({ fire: ['reminder'], next: due - 2 * HOUR });
    expect(at(due - 12 * HOUR)).toEqual({ fire: [], next: due - 2 * HOUR });
    expect(at(due)).toEqual({ fire: ['overdue'], next: due + 24 * HOUR });
    expect(at(due + 60 * HOUR)).toEqual({ fire: ['escalation'], next: undefined });
  });

  it('collapses what a late report already missed into the newest alarm', () => {
    const late = alarmsDue([earlyWarning], new Set(), due - HOUR, policy);
    expect(late.fire.map((a) => a.kind)).toEqual(['reminder']);
    expect(late.fire[0]!.atMs).toBe(due - 2 * HOUR);
    expect(late.skip.map((a) => a.atMs)).toEqual([due - 12 * HOUR]);

    const missed = alarmsDue([earlyWarning], new Set(), due + 30 * HOUR, policy);
    expect(missed.fire.map((a) => [a.kind, a.level])).toEqual([
      ['overdue', 0],
      ['escalation', 1],
    ]);
    expect(missed.skip.map((a) => a.kind)).toEqual(['reminder', 'reminder']);
  });

  it('plans nothing for a deadline not known yet', () => {
    expect(alarmsDue([{ ...earlyWarning, dueAtMs: undefined }], new Set(), 0, policy)).toEqual({
      fire: [],
      skip: [],
      nextAtMs: undefined,
    });
  });
});
