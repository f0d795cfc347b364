import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxAnnouncements } from './outbox-announcements.js';

describe('outbox announcements', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('announces single changes at once and a bulk intake’s documents once it pauses, or after the longest hold', () => {
    const announced: string[] = [];
    const claim = { outboxClaimBy: 'relay', outboxClaimUntil: new Date(0) };
    const a = new OutboxAnnouncements(
      { mark: async () => {}, claimForWrite: () => claim, announce: (id) => announced.push(id) },
      { quietMs: 1_000, maxHoldMs: 5_000 },
    );
    a.now('single');
    a.afterBulk(['b1', 'b2']);
    expect(announced).toEqual(['single']);
    vi.advanceTimersByTime(900);
    a.afterBulk(['b3']);
    vi.advanceTimersByTime(900);
    expect(announced).toEqual(['single']);
    vi.advanceTimersByTime(100);
    expect(announced).toEqual(['single', 'b1', 'b2', 'b3']);

    // Batches that never pause are released at the longest hold.
    for (let i = 0; i < 6; i++) {
      a.afterBulk([`c${i}`]);
      vi.advanceTimersByTime(999);
    }
    expect(announced.filter((id) => id.startsWith('c'))).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    a.afterBulk(['d']);
    a.flush();
    expect(announced.at(-1)).toBe('d');
  });
});
