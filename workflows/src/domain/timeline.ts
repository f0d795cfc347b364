/**
 * The response's timeline as it is kept: every entry numbered from 1 in the order it happened,
 * stored outside the workflow (`adapters/timeline-store.ts`), read a page at a time. Victim
 * follow-up is the one kind of entry that comes by the hundred (one per case and check-in), so
 * it is kept apart: counted, and listed only when asked for by kind.
 */

/** One entry as the workflow notes it. */
export interface TimelineNote {
  readonly atMs: number;
  readonly kind: string;
  readonly detail: string;
  readonly agencyId?: string;
  readonly obligation?: string;
}

/** An entry with its number on the incident's timeline (1, 2, 3, ... across runs). */
export interface NumberedTimelineEntry extends TimelineNote {
  readonly seq: number;
}

/** A kind as clients name it: lower-case words joined by hyphens. */
export const TIMELINE_KIND = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Victim follow-up: `victim` (a case followed up, or not checked) and `victim-<event>`. */
export function isVictimKind(kind: string): boolean {
  return kind === 'victim' || kind.startsWith('victim-');
}

/** The timeline's kind of a victim case's change (`victim-check-in`, `victim-escalated`, ...). */
export function victimKind(event: string): string {
  return `victim-${event}`;
}

/**
 * The kind as it appears in a subject: one token. Every kind the workflows note already is one;
 * anything else is folded rather than refused, so a note is never lost to its spelling.
 */
export function kindToken(kind: string): string {
  return TIMELINE_KIND.test(kind)
    ? kind
    : kind
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '_')
        .slice(0, 63) || '_';
}

/** Entries the workflow's state keeps: the newest, victim follow-up apart from the rest. */
export const TIMELINE_LIMIT = 500;
export const VICTIM_TIMELINE_LIMIT = 100;

/**
 * Keeps the in-state timeline bounded after `added` was appended: the newest TIMELINE_LIMIT
 * entries and, separately, the newest VICTIM_TIMELINE_LIMIT of victim follow-up, so a victim
 * campaign never pushes triage, engagement and regime entries out.
 */
export function trimTimeline(timeline: TimelineNote[], added: TimelineNote): void {
  const victim = isVictimKind(added.kind);
  const limit = victim ? VICTIM_TIMELINE_LIMIT : TIMELINE_LIMIT;
  let same = 0;
  for (const e of timeline) if (isVictimKind(e.kind) === victim) same++;
  if (same <= limit) return;
  timeline.splice(
    timeline.findIndex((e) => isVictimKind(e.kind) === victim),
    1,
  );
}

/** What a page of the timeline is asked for. */
export interface TimelineQuery {
  readonly incidentId: string;
  /** Empty: every kind but victim follow-up. */
  readonly kinds: readonly string[];
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly pageSize: number;
  /** Where the previous page ended: entries after this number only. */
  readonly after?: number;
  /** The store's own position to resume reading from (the token carries it). */
  readonly resumeAt?: number;
}

/** Whether the entry belongs on a page asked for with `query`'s filters (not its position). */
export function matchesTimelineQuery(entry: TimelineNote, query: TimelineQuery): boolean {
  if (query.kinds.length > 0 ? !query.kinds.includes(entry.kind) : isVictimKind(entry.kind)) return false;
  if (query.sinceMs !== undefined && entry.atMs < query.sinceMs) return false;
  if (query.untilMs !== undefined && entry.atMs >= query.untilMs) return false;
  return true;
}

/** One page: entries oldest first; `resumeAt` and `after` where the next page starts, if any. */
export interface TimelinePage {
  readonly entries: readonly NumberedTimelineEntry[];
  readonly next?: { readonly after: number; readonly resumeAt?: number };
  /** Victim follow-up entries per kind. */
  readonly victimSummary: Readonly<Record<string, number>>;
}

/**
 * A page of a timeline held in memory (a response from before the store, read from the
 * workflow): numbered by position, filtered and paged like the store's.
 */
export function pageOf(entries: readonly TimelineNote[], query: TimelineQuery): TimelinePage {
  const victimSummary: Record<string, number> = {};
  for (const e of entries) if (isVictimKind(e.kind)) victimSummary[e.kind] = (victimSummary[e.kind] ?? 0) + 1;
  const after = query.after ?? 0;
  const matching: NumberedTimelineEntry[] = [];
  for (const [i, e] of entries.entries()) {
    const seq = i + 1;
    if (seq <= after || !matchesTimelineQuery(e, query)) continue;
    matching.push({ ...e, seq });
    if (matching.length > query.pageSize) break;
  }
  const page = matching.slice(0, query.pageSize);
  return {
    entries: page,
    ...(matching.length > query.pageSize ? { next: { after: page.at(-1)!.seq } } : {}),
    victimSummary,
  };
}
