import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import type { notifyV1 } from '@beacon/proto';
import { FeedStreamPace } from './feed-streams.js';

/** A call whose buffer holds `room` more responses before a write reports it full. */
function fakeCall(room: number) {
  const written: notifyV1.StreamFeedResponse[] = [];
  return {
    written,
    room,
    write(response: notifyV1.StreamFeedResponse) {
      written.push(response);
      this.room -= 1;
      return this.room > 0;
    },
  };
}

const event = (sequence: string): notifyV1.StreamFeedResponse => ({
  item: {
    $case: 'event',
    value: { sequence, envelope: new Uint8Array(), type: 'x', incidentId: '', tlp: 0 },
  },
});

function paced(room: number) {
  let now = 1_000_000;
  const call = fakeCall(room);
  const pace = new FeedStreamPace(call, { beatMs: 1_000, stallMs: 5_000, maxLifetimeMs: 60_000 }, () => now);
  return { call, pace, advance: (ms: number) => (now += ms) };
}

describe('a feed stream’s pace', () => {
  test('once ended it writes nothing, so the client still gets the status it ended with', () => {
    const { call, pace, advance } = paced(100);
    pace.write(event('1'));
    expect(pace.end()).toBe(true);
    expect(pace.end()).toBe(false);
    // A message whose access check was still running when the stream ended …
    pace.write(event('2'));
    // … and a heartbeat that falls due afterwards.
    advance(10_000);
    expect(pace.tick()).toBeUndefined();
    expect(call.written.map((w) => w.item?.$case)).toEqual(['event']);
  });

  test('a client that takes nothing for the stall time ends the stream with DEADLINE_EXCEEDED', () => {
    const { pace, advance } = paced(2);
    pace.write(event('1'));
    pace.write(event('2'));
    expect(pace.stalled).toBe(true);
    advance(4_999);
    expect(pace.tick()).toBeUndefined();
    advance(1);
    const ended = pace.tick();
    expect(ended?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(ended?.message).toMatch(/took nothing for 5 s/);
  });

  test('a client that reads again before the stall time keeps its stream', () => {
    const { call, pace, advance } = paced(2);
    pace.write(event('1'));
    pace.write(event('2'));
    advance(4_000);
    call.room = 10;
    pace.drained();
    expect(pace.stalled).toBe(false);
    advance(4_000);
    // Not ended: idle, so it beats instead.
    expect(pace.tick()).toBeUndefined();
    expect(call.written.at(-1)?.item?.$case).toBe('heartbeat');
  });

  test('an idle stream beats once per beat interval, but not into a full window', () => {
    const { call, pace, advance } = paced(2);
    advance(999);
    pace.tick();
    expect(call.written).toHaveLength(0);
    advance(1);
    pace.tick();
    expect(call.written.map((w) => w.item?.$case)).toEqual(['heartbeat']);
    advance(1_000);
    pace.tick();
    // That one filled the window: no more heartbeats until the client reads.
    expect(pace.stalled).toBe(true);
    advance(1_000);
    pace.tick();
    expect(call.written).toHaveLength(2);
  });

  test('a stream ends with UNAVAILABLE at its lifetime, naming it', () => {
    const { pace, advance } = paced(1_000);
    advance(59_999);
    expect(pace.tick()).toBeUndefined();
    advance(1);
    const ended = pace.tick();
    expect(ended?.code).toBe(status.UNAVAILABLE);
    expect(ended?.message).toMatch(/lifetime of 60 s; reconnect from the last sequence/);
  });
});
