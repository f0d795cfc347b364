/**
 * The response's timeline: every entry goes to the timeline store (`recordTimeline`), numbered
 * 1, 2, 3, ... across runs; the workflow's state keeps only the newest, for the status and for
 * workers that still query it.
 *
 * Entries are flushed by one coroutine, one activity call per batch of whatever was noted
 * meanwhile: a burst of notes (300 victim cases) costs one activity, not 300, so the history
 * does not grow with the timeline. Continue-as-new hands the entries not yet known to be stored
 * to the next run, numbered, rather than wait for the store (a wait in which every signal that
 * arrived would turn the run's completion down); the end of the response waits for the flush.
 *
 * Histories recorded before the store replay unchanged: the patch is asked at the first flush
 * (never at the start of a run) and, while it says no, nothing is flushed. When a response that
 * an older worker started takes the patch, the entries its state still holds go first.
 */
import { condition, log, patched } from '@temporalio/workflow';
import { trimTimeline, type NumberedTimelineEntry } from '../domain/timeline.js';
import type { TimelineEntry } from './definitions.js';
import type { classic } from './proxies.js';

export const TIMELINE_STORE_PATCH = 'timeline-store';

/** Entries per activity call, well under Temporal's payload limit. */
const FLUSH_BATCH = 500;

/** The part of the response's state the timeline lives in (carried across continue-as-new). */
export interface TimelineState {
  timeline: TimelineEntry[];
  /** Entries numbered (and handed to the store) so far; absent before the store. */
  timelineSeq?: number;
  /**
   * Numbered entries the previous run had not seen stored, stored first by this one (the store
   * drops any it already holds): continue-as-new never waits for the store.
   */
  timelineUnstored?: NumberedTimelineEntry[];
}

export interface TimelineKeeper {
  readonly note: (entry: Omit<TimelineEntry, 'atMs'>) => void;
  /** Nothing noted is waiting for the store. */
  readonly idle: () => boolean;
  /** What continue-as-new carries to the next run: the entries not known to be stored. */
  readonly handOver: () => Pick<TimelineState, 'timelineUnstored'>;
}

export function keepTimeline(
  incidentId: string,
  state: TimelineState,
  options: {
    /** The store's activity as this response calls it: local in a lean response. */
    readonly store: () => Pick<typeof classic.timelineStore, 'recordTimeline'>;
    /** A lean response: stores without asking the patch (`lean-triage` implies it). */
    readonly implied: boolean;
    /**
     * A local activity is out (`countedQuick`): a flush waits until none is, itself included, so
     * one flush at a time and never beside another local activity. Absent in responses from
     * before `inline-engagements`, which flush as soon as something is noted.
     */
    readonly busy?: () => boolean;
  },
): TimelineKeeper {
  /** Noted in this run, not numbered yet. */
  const pending: TimelineEntry[] = [];
  /** Numbered, not known to be stored: handed over by the previous run, or in the call under way. */
  const unstored: NumberedTimelineEntry[] = [...(state.timelineUnstored ?? [])];
  delete state.timelineUnstored;
  let flushing = 0;

  /** Numbers what was noted, once the patch says the store is kept; otherwise drops it. */
  const number = (): NumberedTimelineEntry[] => {
    if (pending.length === 0) return [];
    if (!options.implied && !patched(TIMELINE_STORE_PATCH)) {
      // Replaying a history from before the store: the state's timeline is all there is.
      pending.length = 0;
      return [];
    }
    let batch: TimelineEntry[];
    if (state.timelineSeq === undefined) {
      // The first flush of this response: what an older worker noted (still in the state) first.
      const fresh = new Set(pending);
      batch = [...state.timeline.filter((e) => !fresh.has(e)), ...pending];
    } else {
      batch = [...pending];
    }
    pending.length = 0;
    const first = (state.timelineSeq ?? 0) + 1;
    state.timelineSeq = first + batch.length - 1;
    return batch.map((e, i) => ({ ...e, seq: first + i }));
  };

  const flushOnce = async () => {
    unstored.push(...number());
    const batch = unstored.slice(0, FLUSH_BATCH);
    if (batch.length === 0) return;
    flushing++;
    try {
      await options.store().recordTimeline(incidentId, batch);
      unstored.splice(0, batch.length);
    } catch (error) {
      // Retried without limit, so only a cancelled call ends here; the state keeps the newest.
      log.warn('timeline entries not stored', {
        from: batch[0]!.seq,
        count: batch.length,
        error: String(error),
      });
      unstored.splice(0, batch.length);
    } finally {
      flushing--;
    }
  };

  void (async () => {
    for (;;) {
      const busy = options.busy;
      await condition(
        busy
          ? () => (pending.length > 0 || unstored.length > 0) && !busy()
          : () => pending.length > 0 || (unstored.length > 0 && flushing === 0),
      );
      await flushOnce();
    }
  })();

  return {
    note: (entry) => {
      const full: TimelineEntry = { atMs: Date.now(), ...entry };
      state.timeline.push(full);
      trimTimeline(state.timeline, full);
      pending.push(full);
    },
    idle: () => pending.length === 0 && unstored.length === 0 && flushing === 0,
    handOver: () => {
      const carried = [...unstored, ...number()];
      return carried.length > 0 ? { timelineUnstored: carried } : {};
    },
  };
}
