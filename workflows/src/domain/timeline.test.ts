import { describe, expect, it } from 'vitest';
import {
  isVictimKind,
  kindToken,
  pageOf,
  TIMELINE_LIMIT,
  trimTimeline,
  VICTIM_TIMELINE_LIMIT,
  type TimelineNote,
  type TimelineQuery,
} from './timeline.js';

const entry = (kind: string, atMs: number): TimelineNote => ({ kind, atMs, detail: `${kind} at ${atMs}` });
const query = (q: Partial<TimelineQuery> = {}): TimelineQuery => ({
  incidentId: 'inc_1',
  kinds: [],
  pageSize: 10,
  ...q,
});

describe('the timeline a workflow keeps in its state', () => {
  it('keeps triage, engagement and regime entries however many victim entries follow', () => {
    const timeline: TimelineNote[] = [];
    const add = (e: TimelineNote) => {
      timeline.push(e);
      trimTimeline(timeline, e);
    };
    add(entry('triage', 0));
    add(entry('engagement', 1));
    add(entry('regime', 2));
    for (let i = 0; i < 300; i++) add(entry(i % 2 ? 'victim-check-in' : 'victim', 10 + i));
    expect(timeline.filter((e) => isVictimKind(e.kind))).toHaveLength(VICTIM_TIMELINE_LIMIT);
    expect(timeline.slice(0, 3).map((e) => e.kind)).toEqual(['triage', 'engagement', 'regime']);
    // The newest victim entries are the ones kept.
    expect(timeline.at(-1)!.atMs).toBe(309);
    expect(timeline[3]!.atMs).toBe(310 - VICTIM_TIMELINE_LIMIT);
    for (let i = 0; i < TIMELINE_LIMIT; i++) add(entry('notified', 1000 + i));
    expect(timeline.filter((e) => !isVictimKind(e.kind))).toHaveLength(TIMELINE_LIMIT);
    expect(timeline[0]!.kind).not.toBe('triage');
  });
});

describe('kinds', () => {
  it('tells victim follow-up from the rest', () => {
    expect(['victim', 'victim-escalated', 'victim-check-in'].every(isVictimKind)).toBe(true);
    expect(['victims', 'engagement', 'a-victim'].some(isVictimKind)).toBe(false);
  });
  it('makes every kind one subject token', () => {
    expect(kindToken('report-filed')).toBe('report-filed');
    expect(kindToken('A.b *>c')).toBe('a_b___c');
    expect(kindToken('')).toBe('_');
  });
});

describe('a page of a timeline held in memory', () => {
  const all = [
    entry('triage', 100),
    entry('victim', 200),
    entry('engagement', 300),
    entry('victim-escalated', 400),
    entry('regime', 500),
    entry('engagement', 600),
  ];

  it('numbers by position, leaves victim follow-up out unless asked, and summarises it', () => {
    const page = pageOf(all, query());
    expect(page.entries.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'triage'],
      [3, 'engagement'],
      [5, 'regime'],
      [6, 'engagement'],
    ]);
    expect(page.next).toBeUndefined();
    expect(page.victimSummary).toEqual({ victim: 1, 'victim-escalated': 1 });
    expect(pageOf(all, query({ kinds: ['victim-escalated'] })).entries.map((e) => e.seq)).toEqual([4]);
  });

  it('pages on from the last number, and filters by time (since inclusive, until exclusive)', () => {
    const first = pageOf(all, query({ pageSize: 2 }));
    expect(first.entries.map((e) => e.seq)).toEqual([1, 3]);
    expect(first.next).toEqual({ after: 3 });
    const second = pageOf(all, query({ pageSize: 2, after: 3 }));
    expect(second.entries.map((e) => e.seq)).toEqual([5, 6]);
    expect(second.next).toBeUndefined();
    expect(pageOf(all, query({ sinceMs: 300, untilMs: 600 })).entries.map((e) => e.seq)).toEqual([3, 5]);
  });
});
