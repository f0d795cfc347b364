/**
 * The response's timeline keeps everything (issue 21, point 3): each entry reaches the timeline
 * store, numbered, and is read through the gateway a page at a time, by kind and time, with
 * victim follow-up summarised rather than listed unless asked for. 10,000 entries seeded through
 * the store's own append page with no gap, no duplicate and no token after the last page.
 */
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { test as base, testNames, waitFor } from '@beacon/testkit';
import { JetStreamTimelineStore } from '../src/adapters/timeline-store.js';
import type { NumberedTimelineEntry } from '../src/domain/timeline.js';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

const test = base.extend(
  'stack',
  { scope: 'file' },
  async ({ infra }, { onCleanup }): Promise<ResponseStack> => {
    const stack = await startResponseStack(infra, testNames());
    onCleanup(() => stack.stop());
    await registerAgency(stack, 'cert-water');
    return stack;
  },
);

interface Entry {
  at: string;
  kind: string;
  detail: string;
  sequence: number;
}
interface Page {
  entries?: Entry[];
  nextPageToken?: string;
  victimSummary?: { kind: string; count: number }[];
}

const coordinator = (s: ResponseStack) => s.token(['coordinator']);

async function registerAgency(s: ResponseStack, id: string) {
  const put = await rest(s, 'POST', '/v1/agencies', await coordinator(s), {
    agency: {
      id,
      name: id,
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: ['DE-BY'],
      sectors: ['water-and-wastewater'],
      clearance: 'TLP_RED',
      contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
    },
  });
  expect(put.status).toBe(200);
}

/** Opens an AMBER incident and waits until its response has notified `agencyId`. */
async function openIncident(s: ResponseStack, agencyId: string): Promise<string> {
  const cc = await coordinator(s);
  const opened = await rest(s, 'POST', '/v1/incidents', cc, {
    title: 'Intrusion at a water works',
    tlp: 'TLP_AMBER',
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE-BY'],
    severityInputs: NCISS_BASELINE,
    awareAt: new Date(Date.now() - 600_000).toISOString(),
  });
  expect(opened.status).toBe(201);
  const incidentId = (opened.body['incident'] as { id: string }).id;
  await waitFor(
    async () => {
      const kinds = (await allPages(s, incidentId, '', cc)).map((e) => e.kind);
      if (!kinds.includes('notified')) throw new Error(`not yet: ${kinds.join(', ')}`);
    },
    { what: `${agencyId} notified`, timeoutMs: 30_000, intervalMs: 250 },
  );
  return incidentId;
}

const timelinePath = (incidentId: string, query: string) =>
  `/v1/responses/${incidentId}/timeline${query ? `?${query}` : ''}`;

/** Every page of the timeline with `query`, checking each page's token on the way. */
async function allPages(s: ResponseStack, incidentId: string, query: string, token: string) {
  const entries: Entry[] = [];
  let pageToken = '';
  for (let pages = 0; ; pages++) {
    if (pages > 100) throw new Error('more than 100 pages');
    const q = [query, pageToken ? `page_token=${encodeURIComponent(pageToken)}` : '']
      .filter(Boolean)
      .join('&');
    const { status, body } = await rest(s, 'GET', timelinePath(incidentId, q), token);
    if (status !== 200) throw new Error(`${status} ${JSON.stringify(body)}`);
    const page = body as Page;
    entries.push(...(page.entries ?? []));
    if (!page.nextPageToken) return entries;
    pageToken = page.nextPageToken;
  }
}

const SEEDED_KINDS = ['engagement', 'regime', 'victim-check-in'];

const sequences = (entries: readonly { sequence: number }[]) => entries.map((e) => e.sequence);

describe('the timeline keeps everything', () => {
  test('a response’s entries reach the store, numbered, and page through the gateway', async ({
    stack: s,
    nats,
  }) => {
    const incidentId = await openIncident(s, 'cert-water');
    const cc = await coordinator(s);

    // In the store, under the incident's own subjects.
    const jsm = await jetstream(nats).jetstreamManager();
    const triage = await jsm.direct.getMessage(s.timeline.stream, {
      last_by_subj: `${s.timeline.root}.${incidentId}.r.triage`,
    });
    expect(triage?.json<NumberedTimelineEntry>()).toMatchObject({ seq: 1, kind: 'triage' });

    const whole = await allPages(s, incidentId, 'page_size=1000', cc);
    expect(whole[0]).toMatchObject({ kind: 'triage', sequence: 1 });
    // Two at a time: the same entries, in the same order, the last page without a token.
    const byTwo = await allPages(s, incidentId, 'page_size=2', cc);
    expect(sequences(byTwo)).toEqual(sequences(whole));
    expect(sequences(whole)).toEqual([...sequences(whole)].sort((a, b) => a - b));
    expect(whole.map((e) => e.kind)).toEqual(expect.arrayContaining(['triage', 'engagement', 'notified']));
  });

  test('10,000 entries page without gaps or duplicates; victim follow-up is summarised, kinds and times filter', async ({
    stack: s,
    nats,
  }) => {
    const incidentId = await openIncident(s, 'cert-water');
    const cc = await coordinator(s);
    // Acknowledged, the response notes nothing more for hours: the numbers after its own are free.
    const ack = await rest(s, 'POST', `/v1/responses/${incidentId}/agencies/cert-water:acknowledge`, cc, {
      note: 'on it',
    });
    expect(ack.status).toBe(200);
    const own = await waitFor(
      async () => {
        const entries = await allPages(s, incidentId, 'page_size=1000', cc);
        if (!entries.some((e) => e.kind === 'acknowledged')) throw new Error('not yet acknowledged');
        return entries;
      },
      { what: 'the acknowledgement on the timeline', timeoutMs: 20_000, intervalMs: 250 },
    );

    // 10,000 more, through the store's own append, as the workflow's activity appends them.
    const store = new JetStreamTimelineStore(nats, jetstream(nats), s.timeline.stream, s.timeline.root);
    const first = own.at(-1)!.sequence + 1;
    const kindOf = (i: number) => (i % 10 === 0 ? 'engagement' : i % 10 === 1 ? 'regime' : 'victim-check-in');
    const seeded: NumberedTimelineEntry[] = [];
    for (let i = 0; i < 10_000; i++) {
      seeded.push({ seq: first + i, atMs: Date.now(), kind: kindOf(i), detail: `seeded ${i}` });
      if (seeded.length % 1_000 === 0) await store.append(incidentId, seeded.slice(-1_000));
    }
    // A retried batch stores nothing twice.
    await store.append(incidentId, seeded.slice(500, 1_500));

    const everything = [
      ...own.map((e) => ({ seq: e.sequence, kind: e.kind, atMs: Date.parse(e.at) })),
      ...seeded,
    ];
    const expected = (keep: (e: { kind: string; atMs: number }) => boolean) =>
      everything.filter(keep).map((e) => e.seq);

    // Every seeded kind asked for: all 10,000 and the response's own of those kinds, a thousand a page.
    const kinds = SEEDED_KINDS.map((k) => `kinds=${k}`).join('&');
    const listed = await allPages(s, incidentId, `${kinds}&page_size=1000`, cc);
    expect(sequences(listed)).toEqual(expected((e) => SEEDED_KINDS.includes(e.kind)));
    expect(new Set(sequences(listed)).size).toBe(listed.length);
    expect(listed.length).toBeGreaterThan(10_000);

    // Unasked, victim follow-up is counted, not listed: the response's own entries stay in view.
    const first100 = await rest(s, 'GET', timelinePath(incidentId, ''), cc);
    const page = first100.body as Page;
    expect(page.entries).toHaveLength(100);
    expect(page.entries!.slice(0, own.length).map((e) => e.kind)).toEqual(own.map((e) => e.kind));
    expect(page.victimSummary).toEqual([{ kind: 'victim-check-in', count: 8_000 }]);
    const unasked = await allPages(s, incidentId, 'page_size=1000', cc);
    expect(sequences(unasked)).toEqual(expected((e) => !e.kind.startsWith('victim')));

    // One kind; and a time window (since inclusive, until exclusive).
    const regimes = await allPages(s, incidentId, 'kinds=regime&page_size=333', cc);
    expect(sequences(regimes)).toEqual(expected((e) => e.kind === 'regime'));
    const since = seeded[2_000]!.atMs;
    const until = seeded[3_000]!.atMs + 1;
    const window = await allPages(
      s,
      incidentId,
      `${kinds}&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}&page_size=250`,
      cc,
    );
    expect(sequences(window)).toEqual(
      expected((e) => SEEDED_KINDS.includes(e.kind) && e.atMs >= since && e.atMs < until),
    );
    expect(window.length).toBeGreaterThanOrEqual(1_001);
  }, 180_000);

  test('a malformed page token or page size is refused naming the field', async ({ stack: s }) => {
    const incidentId = await openIncident(s, 'cert-water');
    const cc = await coordinator(s);
    const refused = async (query: string, field: string) => {
      const response = await fetch(`${s.http}${timelinePath(incidentId, query)}`, {
        headers: { authorization: `Bearer ${cc}` },
      });
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await response.json()) as { violations?: { field: string }[] };
      expect(
        body.violations?.map((v) => v.field),
        query,
      ).toContain(field);
    };
    await refused('page_token=not-a-token', 'page_token');
    await refused(`page_token=${Buffer.from('{"v":1,"a":-1,"q":"x"}').toString('base64url')}`, 'page_token');
    await refused('page_size=1001', 'page_size');
    await refused('page_size=-1', 'page_size');
    await refused('kinds=Not%20a%20kind', 'kinds[0]');
    await refused('since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until');
    // A token is bound to its query: another filter, or another incident, does not take it.
    const { body } = await rest(s, 'GET', timelinePath(incidentId, 'page_size=1'), cc);
    const token = (body as Page).nextPageToken!;
    expect(token).toBeTruthy();
    await refused(`page_size=1&kinds=regime&page_token=${token}`, 'page_token');
    const other = await openIncident(s, 'cert-water');
    const elsewhere = await rest(s, 'GET', timelinePath(other, `page_token=${token}`), cc);
    expect(elsewhere.status).toBe(400);
  });

  test('an incident the caller may not read is refused as before; its coordinator is served', async ({
    stack: s,
  }) => {
    const incidentId = await openIncident(s, 'cert-water');
    const outsider = await s.issuer.mint({
      subject: 'analyst-elsewhere',
      roles: ['agency_analyst'],
      clearance: 'RED',
      agencyId: 'police-elsewhere',
    });
    const hidden = await rest(s, 'GET', timelinePath(incidentId, 'page_size=5'), outsider);
    const madeUp = 'inc_01jzzzzzzzzzzzzzzzzzzzzzzz';
    const none = await rest(s, 'GET', timelinePath(madeUp, 'page_size=5'), outsider);
    expect(hidden.status).toBe(404);
    expect(hidden.body['detail']).toBe(`incident ${incidentId} not found`);
    expect({ ...hidden.body, detail: '' }).toEqual({ ...none.body, detail: '' });
    const served = await rest(s, 'GET', timelinePath(incidentId, 'page_size=5'), await coordinator(s));
    expect(served.status).toBe(200);
    expect((served.body as Page).entries?.[0]?.kind).toBe('triage');
  });
});
