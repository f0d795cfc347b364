import type { CheckIn, CheckInOutcome } from './model.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Check-ins after a case opens: the next day, after a week, after a month. */
export const ROUTINE_SCHEDULE_MS: readonly number[] = [1 * DAY_MS, 7 * DAY_MS, 30 * DAY_MS];
/** An urgent case is called back within hours, then more closely in its first week. */
export const URGENT_SCHEDULE_MS: readonly number[] = [
  4 * HOUR_MS,
  1 * DAY_MS,
  3 * DAY_MS,
  7 * DAY_MS,
  30 * DAY_MS,
];
/** A check-in nobody answered is tried again the next day, at most twice. */
export const RETRY_AFTER_MS = DAY_MS;
export const MAX_ATTEMPTS = 3;

function nextId(checkIns: readonly CheckIn[]): (offset: number) => string {
  const top = checkIns.reduce((max, c) => Math.max(max, Number(c.id.slice(3)) || 0), 0);
  return (offset) => `ci-${top + 1 + offset}`;
}

/** The check-ins of a case whose victim consents to contact, counted from `from`. */
export function schedule(from: Date, urgent: boolean, existing: readonly CheckIn[] = []): CheckIn[] {
  const id = nextId(existing);
  return (urgent ? URGENT_SCHEDULE_MS : ROUTINE_SCHEDULE_MS).map((offset, i) => ({
    id: id(i),
    dueAt: new Date(from.getTime() + offset),
    state: 'due' as const,
    attempt: 1,
  }));
}

/**
 * A case became urgent: unless a check-in is due within the urgent window already, one is
 * added for then. Nothing scheduled (no contact consent) stays nothing.
 */
export function onBecameUrgent(checkIns: readonly CheckIn[], now: Date): CheckIn[] {
  const due = checkIns.filter((c) => c.state === 'due');
  if (due.length === 0) return [...checkIns];
  const soon = new Date(now.getTime() + URGENT_SCHEDULE_MS[0]!);
  if (due.some((c) => c.dueAt <= soon)) return [...checkIns];
  return [...checkIns, { id: nextId(checkIns)(0), dueAt: soon, state: 'due', attempt: 1 }];
}

/** Contact is no longer allowed (consent withdrawn, case closed): nothing more is due. */
export function cancelDue(checkIns: readonly CheckIn[]): CheckIn[] {
  return checkIns.map((c) => (c.state === 'due' ? { ...c, state: 'cancelled' as const } : c));
}

export class CheckInError extends Error {
  override readonly name = 'CheckInError';
  constructor(
    readonly kind: 'not-found' | 'not-due' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

export interface CheckInResult {
  readonly checkIns: CheckIn[];
  /** The victim needs more help: an officer should look at the case. */
  readonly reviewRequested: boolean;
  /** The victim wants no more contact. */
  readonly contactDeclined: boolean;
  /** The same outcome was recorded before: nothing changed. */
  readonly repeated: boolean;
}

/**
 * Records what happened at a check-in. Recording the same outcome again is a no-op (the
 * workflow may retry); a different outcome for a done check-in is a conflict. No answer
 * schedules a retry the next day, up to `MAX_ATTEMPTS`; a decline cancels what is still due.
 */
export function recordOutcome(
  checkIns: readonly CheckIn[],
  id: string,
  outcome: CheckInOutcome,
  now: Date,
): CheckInResult {
  const target = checkIns.find((c) => c.id === id);
  if (!target) throw new CheckInError('not-found', `no check-in ${id}`);
  if (target.state === 'done') {
    if (target.outcome === outcome) {
      return { checkIns: [...checkIns], reviewRequested: false, contactDeclined: false, repeated: true };
    }
    throw new CheckInError('conflict', `check-in ${id} was recorded as ${target.outcome} already`);
  }
  if (target.state === 'cancelled') throw new CheckInError('not-due', `check-in ${id} was cancelled`);
  let next = checkIns.map((c) =>
    c.id === id ? { ...c, state: 'done' as const, outcome, recordedAt: now } : c,
  );
  if (outcome === 'no-answer' && target.attempt < MAX_ATTEMPTS) {
    next.push({
      id: nextId(next)(0),
      dueAt: new Date(now.getTime() + RETRY_AFTER_MS),
      state: 'due',
      attempt: target.attempt + 1,
    });
  }
  if (outcome === 'declined-contact') next = cancelDue(next);
  return {
    checkIns: next,
    reviewRequested: outcome === 'reached-needs-help',
    contactDeclined: outcome === 'declined-contact',
    repeated: false,
  };
}

/** The earliest check-in still due, if any. */
export function nextDue(checkIns: readonly CheckIn[]): Date | undefined {
  return checkIns
    .filter((c) => c.state === 'due')
    .map((c) => c.dueAt)
    .sort((a, b) => a.getTime() - b.getTime())[0];
}
