import { createHash } from 'node:crypto';
import { invalidArgument, type FieldViolation } from '@beacon/platform';
import type { responseV1 } from '@beacon/proto';
import { TIMELINE_KIND, type TimelinePage, type TimelineQuery } from '../domain/timeline.js';

export const DEFAULT_TIMELINE_PAGE = 100;
export const MAX_TIMELINE_PAGE = 1_000;
const MAX_KINDS = 50;

/**
 * The page token: where the previous page ended (the last entry's number, and the store's
 * position after it), bound to the query it was made for, so a token is never read with other
 * filters or for another incident.
 */
interface PageToken {
  readonly v: 1;
  /** The last entry's number. */
  readonly a: number;
  /** The store's position to read on from. */
  readonly r?: number;
  /** The query's fingerprint. */
  readonly q: string;
}

const violation = (field: string, description: string): FieldViolation => ({
  field,
  description,
  reason: 'INVALID',
});

function fingerprint(query: Omit<TimelineQuery, 'pageSize' | 'after' | 'resumeAt'>): string {
  const text = JSON.stringify([
    query.incidentId,
    [...query.kinds].sort(),
    query.sinceMs ?? null,
    query.untilMs ?? null,
  ]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

const isPosition = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The request as a store query; INVALID_ARGUMENT naming each field that is wrong. */
export function timelineQueryFrom(req: responseV1.GetTimelineRequest): TimelineQuery {
  const violations: FieldViolation[] = [];
  if (!Number.isInteger(req.pageSize) || req.pageSize < 0 || req.pageSize > MAX_TIMELINE_PAGE)
    violations.push(
      violation('page_size', `must be 0 to ${MAX_TIMELINE_PAGE} (0 means ${DEFAULT_TIMELINE_PAGE})`),
    );
  if (req.kinds.length > MAX_KINDS) violations.push(violation('kinds', `at most ${MAX_KINDS} kinds`));
  req.kinds.forEach((kind, i) => {
    if (!TIMELINE_KIND.test(kind))
      violations.push(violation(`kinds[${i}]`, 'is not a timeline kind (e.g. engagement, victim-escalated)'));
  });
  const sinceMs = req.since?.getTime();
  const untilMs = req.until?.getTime();
  if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs)
    violations.push(violation('until', 'must be after since'));
  const base = {
    incidentId: req.incidentId,
    kinds: [...new Set(req.kinds)],
    ...(sinceMs === undefined ? {} : { sinceMs }),
    ...(untilMs === undefined ? {} : { untilMs }),
  };
  let token: PageToken | undefined;
  if (req.pageToken) {
    token = decodeToken(req.pageToken);
    if (!token) violations.push(violation('page_token', 'is not a page token of this API'));
    else if (token.q !== fingerprint(base))
      violations.push(violation('page_token', 'was made for another incident or other filters'));
  }
  if (violations.length > 0) throw invalidArgument(violations);
  return {
    ...base,
    pageSize: req.pageSize || DEFAULT_TIMELINE_PAGE,
    ...(token ? { after: token.a } : {}),
    ...(token?.r === undefined ? {} : { resumeAt: token.r }),
  };
}

function decodeToken(text: string): PageToken | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PageToken>;
    if (token.v !== 1 || !isPosition(token.a) || typeof token.q !== 'string') return undefined;
    if (token.r !== undefined && (!isPosition(token.r) || token.r < 1)) return undefined;
    return token as PageToken;
  } catch {
    return undefined;
  }
}

/** The answer for a page of `query`. */
export function timelineResponse(query: TimelineQuery, page: TimelinePage): responseV1.GetTimelineResponse {
  const next = page.next;
  const token: PageToken | undefined = next
    ? {
        v: 1,
        a: next.after,
        ...(next.resumeAt === undefined ? {} : { r: next.resumeAt }),
        q: fingerprint(query),
      }
    : undefined;
  return {
    entries: page.entries.map((e) => ({
      at: new Date(e.atMs),
      kind: e.kind,
      detail: e.detail,
      agencyId: e.agencyId ?? '',
      obligation: e.obligation ?? '',
      sequence: e.seq,
    })),
    nextPageToken: token ? Buffer.from(JSON.stringify(token)).toString('base64url') : '',
    victimSummary: Object.entries(page.victimSummary)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, count]) => ({ kind, count })),
  };
}
