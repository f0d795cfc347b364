/**
 * How each cell of the matrix is probed and judged. A probe returns what it observed; a judge
 * compares it with the expected outcome and says, in words, what was wrong. Denials are judged
 * against the answer the same caller gets for a made-up id (or an indicator seen nowhere), so a
 * refusal that differs by so much as a word is caught as an oracle.
 */
import { randomBytes } from 'node:crypto';
import { status as grpcStatus, type ClientReadableStream } from '@grpc/grpc-js';
import type { notifyV1 } from '@beacon/proto';
import { mayRead, roleMay, type Caller, type Label, type Operation, type Outcome } from './expected.js';
import { bearer, freshDomain, rest, type World } from './world.js';

export interface Verdict {
  readonly pass: boolean;
  /** What was observed, when it was not what the cell expects. */
  readonly observed?: string;
}

const PASS: Verdict = { pass: true };
const fail = (observed: string): Verdict => ({ pass: false, observed });

/** An id of the same shape as `real` (prefix, length, lower-case hex) that names nothing. */
export function madeUpId(real: string): string {
  const prefix = real.slice(0, real.indexOf('_') + 1);
  const length = real.length - prefix.length;
  return `${prefix}${randomBytes(length).toString('hex').slice(0, length)}`;
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const shown = (answer: Answer) => `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;

/**
 * The answer with `id` written as `<id>` and instants as `<time>`, to compare answers about
 * different ids made at different moments.
 */
export const normalised = (answer: Answer, ...ids: string[]) =>
  ids
    .reduce((text, id) => text.replaceAll(id, '<id>'), `${answer.status} ${JSON.stringify(answer.body)}`)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');

/**
 * A denial that must be indistinguishable from a made-up id: same status and body. A role that
 * may do the operation on some object is refused an object as 404 NOT_FOUND; a role that may
 * never do it may get 403 for every id alike.
 */
export function judgeHidden(
  caller: Caller,
  operation: Operation,
  answer: Answer,
  id: string,
  madeUp: Answer,
  madeUpIdValue: string,
): Verdict {
  const expectedStatuses = roleMay(caller.role, operation) ? [404] : [403, 404];
  if (!expectedStatuses.includes(answer.status))
    return fail(`expected ${expectedStatuses.join('/')}, got ${shown(answer)}`);
  if (normalised(answer, id) !== normalised(madeUp, madeUpIdValue)) {
    return fail(`differs from a made-up id: ${shown(answer)} vs ${shown(madeUp)}`);
  }
  return PASS;
}

/** The same for a gRPC status: same code, same details. */
export function judgeHiddenGrpc(
  caller: Caller,
  operation: Operation,
  got: { code: number; details: string } | undefined,
  id: string,
  madeUp: { code: number; details: string } | undefined,
  madeUpIdValue: string,
): Verdict {
  if (!got) return fail('served');
  const codes = roleMay(caller.role, operation)
    ? [grpcStatus.NOT_FOUND]
    : [grpcStatus.PERMISSION_DENIED, grpcStatus.NOT_FOUND];
  if (!codes.includes(got.code)) return fail(`expected ${codes.join('/')}, got ${got.code} ${got.details}`);
  if (
    !madeUp ||
    madeUp.code !== got.code ||
    got.details.replaceAll(id, '<id>') !== madeUp.details.replaceAll(madeUpIdValue, '<id>')
  ) {
    return fail(
      `differs from a made-up id: ${got.code} "${got.details}" vs ${madeUp?.code} "${madeUp?.details}"`,
    );
  }
  return PASS;
}

/** Every incident the caller lists, following pages. */
export async function listedIds(world: World, token: string): Promise<{ ids: Set<string>; error?: string }> {
  const ids = new Set<string>();
  let pageToken = '';
  for (let page = 0; page < 50; page += 1) {
    const query = `?pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
    const answer = await rest(world.stack, 'GET', `/v1/incidents${query}`, token);
    if (answer.status !== 200) return { ids, error: shown(answer) };
    for (const incident of (answer.body['incidents'] as { id: string }[] | undefined) ?? [])
      ids.add(incident.id);
    pageToken = (answer.body['nextPageToken'] as string | undefined) ?? '';
    if (!pageToken) break;
  }
  return { ids };
}

export async function lookup(world: World, token: string, value: string): Promise<Answer> {
  return rest(world.stack, 'POST', '/v1/indicators:lookup', token, { observable: { type: 'domain', value } });
}

/** A search judged: allowed → a sighting on the incident; hidden → the answer for an unseen indicator. */
export async function judgeSearch(
  world: World,
  caller: Caller & { token: string },
  outcome: Outcome,
  incidentId: string,
  indicator: string,
): Promise<Verdict> {
  const [answer, unseen] = await Promise.all([
    lookup(world, caller.token, indicator),
    lookup(world, caller.token, freshDomain('unseen')),
  ]);
  const sighted = ((answer.body['sightings'] as { incidentId: string }[] | undefined) ?? []).some(
    (s) => s.incidentId === incidentId,
  );
  if (outcome === 'allowed')
    return answer.status === 200 && sighted ? PASS : fail(`no sighting: ${shown(answer)}`);
  if (sighted) return fail(`the hidden incident is sighted: ${shown(answer)}`);
  const unseenValue = (unseen.body['observable'] as { value?: string } | undefined)?.value ?? '';
  const same =
    answer.status === unseen.status &&
    JSON.stringify({ ...answer.body, observable: undefined }) ===
      JSON.stringify({ ...unseen.body, observable: undefined });
  return same
    ? PASS
    : fail(`differs from an unseen indicator (${unseenValue}): ${shown(answer)} vs ${shown(unseen)}`);
}

/** One feed event as the judge needs it. */
export interface FeedItem {
  readonly incidentId: string;
  readonly tlp: Label | 'UNSPECIFIED';
  readonly type: string;
}

const TLP_FROM_PROTO: Record<number, Label | 'UNSPECIFIED'> = {
  0: 'UNSPECIFIED',
  1: 'CLEAR',
  2: 'GREEN',
  3: 'AMBER',
  4: 'AMBER+STRICT',
  5: 'RED',
};

/**
 * A StreamFeed call through the gateway's gRPC door. It collects events; `quiet()` settles at
 * the next heartbeat, which notify sends only after a second with nothing to send.
 */
export class FeedReader {
  readonly items: FeedItem[] = [];
  error: { code: number; details: string } | undefined;
  ended = false;
  #call: ClientReadableStream<notifyV1.StreamFeedResponse>;
  #beats: (() => void)[] = [];

  constructor(world: World, token: string, agencyId: string, fromSequence: number) {
    this.#call = world.notifyGrpc.streamFeed(
      { agencyId, fromSequence: String(fromSequence), heartbeatSeconds: 1 },
      bearer(token),
    );
    this.#call.on('data', (response: notifyV1.StreamFeedResponse) => {
      if (response.item?.$case === 'event') {
        const event = response.item.value;
        this.items.push({
          incidentId: event.incidentId,
          tlp: TLP_FROM_PROTO[event.tlp] ?? 'UNSPECIFIED',
          type: event.type,
        });
      } else {
        for (const beat of this.#beats.splice(0)) beat();
      }
    });
    this.#call.on('error', (error: { code: number; details: string }) => {
      if (error.code !== Number(grpcStatus.CANCELLED))
        this.error = { code: error.code, details: error.details };
      this.#finish();
    });
    this.#call.on('end', () => this.#finish());
  }

  #finish() {
    this.ended = true;
    for (const beat of this.#beats.splice(0)) beat();
  }

  /** Settles at the next heartbeat (the feed had nothing more to send for a second) or the end. */
  quiet(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => this.#beats.push(resolve));
  }

  close(): void {
    this.#call.cancel();
  }
}

/**
 * A feed judged for one incident: nothing of it the caller may not read now (every event is
 * checked against the reading rule at the event's own label), and, when allowed, something of it.
 */
export function judgeFeed(caller: Caller, outcome: Outcome, reader: FeedReader, incidentId: string): Verdict {
  if (!roleMay(caller.role, 'feed-replay')) {
    if (reader.items.length > 0) return fail(`a role without a feed got ${reader.items.length} events`);
    if (!reader.error) return fail('a role without a feed was served');
    return [grpcStatus.PERMISSION_DENIED, grpcStatus.NOT_FOUND].includes(reader.error.code)
      ? PASS
      : fail(`refused with ${reader.error.code} ${reader.error.details}`);
  }
  if (reader.error) return fail(`the feed failed: ${reader.error.code} ${reader.error.details}`);
  const mine = reader.items.filter((item) => item.incidentId === incidentId);
  const unreadable = mine.filter((item) => item.tlp === 'UNSPECIFIED' || !mayRead(caller, item.tlp));
  if (unreadable.length > 0) {
    return fail(
      `${unreadable.length} event(s) it may not read: ${unreadable.map((i) => `${i.type}@${i.tlp}`).join(', ')}`,
    );
  }
  if (outcome === 'allowed' && mine.length === 0) return fail('nothing of the incident');
  return PASS;
}
