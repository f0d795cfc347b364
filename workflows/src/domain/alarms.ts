/**
 * When a regulatory clock speaks: reminders before each deadline, an overdue alarm when it
 * passes unfiled, then escalations at a fixed interval. Pure: the RegulatoryClock workflow
 * asks what is due now and when to wake next.
 */
import type { ObligationId, ScheduledObligation } from '@beacon/domain';

export type AlarmKind = 'reminder' | 'overdue' | 'escalation';

export interface Alarm {
  readonly obligation: ObligationId;
  readonly kind: AlarmKind;
  readonly atMs: number;
  readonly dueAtMs: number;
  /** Escalations count from 1; reminders and the overdue alarm are 0. */
  readonly level: number;
  /** Stable across recomputation of the same deadline, so an alarm fires once. */
  readonly key: string;
}

export interface AlarmPolicy {
  /** After the overdue alarm, escalate again this often... */
  readonly escalateEveryMs: number;
  /** ...this many times. */
  readonly maxEscalations: number;
}

/** Every alarm of one obligation with a known deadline, in time order. */
export function plannedAlarms(obligation: ScheduledObligation, policy: AlarmPolicy): Alarm[] {
  const dueAtMs = obligation.dueAtMs;
  if (dueAtMs === undefined) return [];
  const alarm = (kind: AlarmKind, atMs: number, level: number): Alarm => ({
    obligation: obligation.id,
    kind,
    atMs,
    dueAtMs,
    level,
    key: `${obligation.id}@${dueAtMs}:${kind}:${atMs}`,
  });
  return [
    ...[...obligation.remindBeforeMs]
      .sort((a, b) => b - a)
      .map((before) => alarm('reminder', dueAtMs - before, 0)),
    alarm('overdue', dueAtMs, 0),
    ...Array.from({ length: policy.maxEscalations }, (_, i) =>
      alarm('escalation', dueAtMs + (i + 1) * policy.escalateEveryMs, i + 1),
    ),
  ];
}

export interface AlarmPlan {
  /** Alarms to raise now, oldest first. */
  readonly fire: readonly Alarm[];
  /** Alarms whose moment passed but that a later one supersedes: mark them done silently. */
  readonly skip: readonly Alarm[];
  /** When the next alarm falls due, if any. */
  readonly nextAtMs: number | undefined;
}

/**
 * What to raise at `nowMs` for the open (unfiled) obligations, given the keys already raised.
 * When several alarms of one obligation are past at once (a late report, or a worker that was
 * down), only the newest of each kind matters: one reminder while the deadline is ahead, or the
 * overdue alarm and the highest escalation reached once it has passed.
 */
export function alarmsDue(
  open: readonly ScheduledObligation[],
  raised: ReadonlySet<string>,
  nowMs: number,
  policy: AlarmPolicy,
): AlarmPlan {
  const fire: Alarm[] = [];
  const skip: Alarm[] = [];
  let nextAtMs: number | undefined;
  for (const obligation of open) {
    const alarms = plannedAlarms(obligation, policy).filter((a) => !raised.has(a.key));
    const past = alarms.filter((a) => a.atMs <= nowMs);
    for (const a of alarms) {
      if (a.atMs > nowMs) nextAtMs = nextAtMs === undefined ? a.atMs : Math.min(nextAtMs, a.atMs);
    }
    if (past.length === 0) continue;
    const overdue = past.find((a) => a.kind === 'overdue');
    const escalation = past.filter((a) => a.kind === 'escalation').at(-1);
    const reminder = past.filter((a) => a.kind === 'reminder').at(-1);
    const chosen = [overdue, escalation, overdue || escalation ? undefined : reminder].filter(
      (a): a is Alarm => a !== undefined,
    );
    fire.push(...chosen);
    skip.push(...past.filter((a) => !chosen.includes(a)));
  }
  fire.sort((a, b) => a.atMs - b.atMs);
  return { fire, skip, nextAtMs };
}
