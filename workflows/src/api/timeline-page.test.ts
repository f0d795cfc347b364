import { GrpcError } from '@beacon/platform';
import { responseV1 } from '@beacon/proto';
import { describe, expect, it } from 'vitest';
import { timelineQueryFrom, timelineResponse } from './timeline-page.js';

const request = (fields: Partial<responseV1.GetTimelineRequest> = {}) =>
  responseV1.GetTimelineRequest.fromPartial({ incidentId: 'inc_1', ...fields });

/** The fields an INVALID_ARGUMENT names. */
function refused(fields: Partial<responseV1.GetTimelineRequest>): string[] {
  try {
    timelineQueryFrom(request(fields));
  } catch (error) {
    expect(error).toBeInstanceOf(GrpcError);
    return (error as GrpcError).violations.map((v) => v.field);
  }
  throw new Error('not refused');
}

/** The token of a page that has more after entry `after`. */
const tokenFor = (fields: Partial<responseV1.GetTimelineRequest>, after: number, resumeAt?: number) =>
  timelineResponse(timelineQueryFrom(request(fields)), {
    entries: [],
    next: { after, ...(resumeAt === undefined ? {} : { resumeAt }) },
    victimSummary: {},
  }).nextPageToken;

describe('a timeline request', () => {
  it('defaults to 100 entries, every kind but victim follow-up, from the start', () => {
    expect(timelineQueryFrom(request())).toEqual({ incidentId: 'inc_1', kinds: [], pageSize: 100 });
  });

  it('names each field that is wrong', () => {
    expect(refused({ pageSize: 1001 })).toEqual(['page_size']);
    expect(refused({ pageSize: -1 })).toEqual(['page_size']);
    expect(refused({ kinds: ['engagement', 'Not a kind'] })).toEqual(['kinds[1]']);
    expect(refused({ since: new Date(2000), until: new Date(1000) })).toEqual(['until']);
    expect(refused({ pageToken: 'garbage!' })).toEqual(['page_token']);
    expect(refused({ pageToken: Buffer.from('{"v":1,"a":-1,"q":"x"}').toString('base64url') })).toEqual([
      'page_token',
    ]);
  });

  it('resumes from its token, which only the same incident and filters take', () => {
    const filters = { kinds: ['regime', 'engagement'], since: new Date(1000) };
    const token = tokenFor(filters, 42, 1234);
    // The same filters in another order are the same query.
    expect(
      timelineQueryFrom(
        request({ kinds: ['engagement', 'regime'], since: new Date(1000), pageToken: token }),
      ),
    ).toMatchObject({ after: 42, resumeAt: 1234 });
    expect(refused({ ...filters, kinds: ['regime'], pageToken: token })).toEqual(['page_token']);
    expect(refused({ kinds: filters.kinds, pageToken: token })).toEqual(['page_token']);
    expect(() =>
      timelineQueryFrom(
        responseV1.GetTimelineRequest.fromPartial({ incidentId: 'inc_2', ...filters, pageToken: token }),
      ),
    ).toThrow(/page_token/);
  });

  it('answers the last page without a token, and victim kinds in order', () => {
    const answer = timelineResponse(timelineQueryFrom(request()), {
      entries: [{ seq: 7, atMs: 0, kind: 'triage', detail: 'x' }],
      victimSummary: { 'victim-escalated': 2, victim: 5 },
    });
    expect(answer.nextPageToken).toBe('');
    expect(answer.entries.map((e) => e.sequence)).toEqual([7]);
    expect(answer.victimSummary).toEqual([
      { kind: 'victim', count: 5 },
      { kind: 'victim-escalated', count: 2 },
    ]);
  });
});
