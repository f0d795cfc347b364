import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE, type Tlp } from '@beacon/domain';
import { encodeEnvelope, tlpFromProto } from '@beacon/platform';
import type { notifyV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { feedSubject } from '../src/adapters/nats/feeds.js';
import { agency, call, engage, openIncident, startStack, subscription, type Stack } from './harness.js';

/**
 * Access follows engagement and clearance over time: after an agency is removed from an
 * incident, or its clearance drops, nothing of that incident above GREEN reaches it again,
 * however it asks — while what it may still read keeps coming.
 */
const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

interface Item {
  readonly incidentId: string;
  readonly type: string;
  readonly tlp: Tlp;
  readonly sequence: string;
}

/** The agency's whole feed through StreamFeed from sequence 1, until it goes quiet. */
async function replay(t: Stack, agencyId: string, token?: string): Promise<Item[]> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token ?? (await t.token(['agency_analyst'], agencyId))}`);
  const stream = t.notifyClient.streamFeed({ agencyId, fromSequence: '1', heartbeatSeconds: 1 }, md);
  const items: Item[] = [];
  try {
    for await (const got of stream as AsyncIterable<notifyV1.StreamFeedResponse>) {
      if (got.item?.$case === 'heartbeat') break;
      if (got.item?.$case !== 'event') continue;
      const { incidentId, type, tlp, sequence } = got.item.value;
      items.push({ incidentId, type, tlp: tlpFromProto(tlp)!, sequence });
    }
  } finally {
    stream.cancel();
  }
  return items;
}

/** The subjects (and their counts) the feeds stream holds for an agency under these labels. */
async function retained(
  t: Stack,
  nats: NatsConnection,
  agencyId: string,
  incident: string,
  labels: string[],
) {
  const jsm = await jetstream(nats).jetstreamManager();
  const held: Record<string, number> = {};
  for (const label of labels) {
    const info = await jsm.streams.info(t.feeds.stream, {
      subjects_filter: `${t.feeds.root}.${agencyId}.${incident}.${label}.>`,
    });
    Object.assign(held, info.state.subjects ?? {});
  }
  return held;
}

const above = (tlp: Tlp) => !['CLEAR', 'GREEN'].includes(tlp);
const withdrawn = (items: Item[], incidentId: string) =>
  items.some((i) => i.incidentId === incidentId && i.type === 'notify.access-withdrawn');

/** Writes a copy straight into an agency's feed, as a fan-out racing the withdrawal might. */
async function lateCopy(t: Stack, nats: NatsConnection, agencyId: string, incidentId: string) {
  const event = encodeEnvelope({
    id: `late-${incidentId}`,
    time: new Date(),
    source: 'intake',
    domain: 'incident',
    event: 'severity-changed',
    subject: `incident/${incidentId}`,
    tlp: 'AMBER',
    incidentId,
    schema: 'beacon.intake.v1.SeverityChanged',
    data: new TextEncoder().encode('amber content'),
  });
  await jetstream(nats).publish(
    feedSubject(t.feeds.root, { agencyId, incidentId, tlp: 'AMBER', type: 'incident.severity-changed' }),
    event.data,
  );
}

/** Two RED-cleared agencies subscribed to everything; GREEN, AMBER and RED incidents. */
async function scene(t: Stack) {
  const cc = await t.token(['coordinator']);
  const versions: Record<string, number> = {};
  for (const id of ['cert-a', 'cert-b']) {
    const put = await call<notifyV1.PutAgencyResponse>(
      t.notifyClient,
      'putAgency',
      { agency: agency(id, 'RED'), expectedVersion: 0 },
      cc,
    );
    versions[id] = put.agency!.version;
    await call(t.notifyClient, 'putSubscription', { subscription: subscription(id, 'all') }, cc);
  }
  const green = await openIncident(t, cc, 'GREEN');
  const amber = await openIncident(t, cc, 'AMBER');
  const red = await openIncident(t, cc, 'RED');
  await engage(t, cc, amber.id, 'cert-a');
  await engage(t, cc, amber.id, 'cert-b');
  await engage(t, cc, red.id, 'cert-a');
  // Before anything is taken away, cert-a reads all three.
  const before = await waitFor(
    async () => {
      const items = await replay(t, 'cert-a');
      for (const incident of [green, amber, red])
        expect(items.some((i) => i.incidentId === incident.id)).toBe(true);
      expect(
        items.filter((i) => i.incidentId === amber.id && i.type === 'incident.agency-assigned'),
      ).toHaveLength(2);
      return items;
    },
    { what: 'cert-a’s feed', timeoutMs: 20_000, intervalMs: 200 },
  );
  expect(before.some((i) => i.incidentId === amber.id && i.tlp === 'AMBER')).toBe(true);
  return { cc, versions, green, amber, red };
}

describe('access that follows engagement', () => {
  test('an agency removed from an incident replays its feed from sequence 1 without that incident’s content above GREEN, and keeps the rest', async ({
    stack: t,
    nats,
  }) => {
    const { cc, green, amber, red } = await scene(t);
    await call(
      t.intakeClient,
      'unassignAgency',
      { incidentId: amber.id, agencyId: 'cert-a', expectedVersion: 0 },
      cc,
    );
    await waitFor(async () => expect(withdrawn(await replay(t, 'cert-a'), amber.id)).toBe(true), {
      what: 'the withdrawal notice',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(await retained(t, nats, 'cert-a', amber.id, ['amber', 'amber-strict', 'red'])).toEqual({});
    // A copy arriving after the purge (a fan-out that raced it) is still left out when read.
    await lateCopy(t, nats, 'cert-a', amber.id);
    await lateCopy(t, nats, 'cert-b', amber.id);

    const items = await replay(t, 'cert-a');
    expect(items.filter((i) => i.incidentId === amber.id && above(i.tlp))).toEqual([]);
    const notice = items.find((i) => i.incidentId === amber.id && i.type === 'notify.access-withdrawn');
    expect(notice?.tlp).toBe('GREEN');
    // What it may still read: the community's incident, and the RED one it is still engaged on.
    expect(items.some((i) => i.incidentId === green.id && i.type === 'incident.opened')).toBe(true);
    expect(items.some((i) => i.incidentId === red.id && i.tlp === 'RED')).toBe(true);

    // cert-b, still engaged, reads every AMBER event, the late copy included.
    const b = await replay(t, 'cert-b');
    expect(b.filter((i) => i.incidentId === amber.id && i.tlp === 'AMBER').map((i) => i.type)).toEqual([
      'incident.agency-assigned',
      'incident.agency-unassigned',
      'incident.severity-changed',
    ]);
    expect(withdrawn(b, amber.id)).toBe(false);
  });

  test('an agency whose clearance drops replays its feed without anything above its new clearance', async ({
    stack: t,
    nats,
  }) => {
    const { cc, versions, green, amber, red } = await scene(t);
    await call(
      t.notifyClient,
      'putAgency',
      { agency: agency('cert-a', 'GREEN'), expectedVersion: versions['cert-a'] },
      cc,
    );

    const items = await replay(t, 'cert-a');
    expect(items.filter((i) => above(i.tlp))).toEqual([]);
    expect(withdrawn(items, amber.id)).toBe(true);
    expect(withdrawn(items, red.id)).toBe(true);
    expect(items.some((i) => i.incidentId === green.id && i.type === 'incident.opened')).toBe(true);
    // The copies are gone from the stream, not only filtered on the way out.
    expect(await retained(t, nats, 'cert-a', '*', ['amber', 'amber-strict', 'red'])).toEqual({});

    const b = await replay(t, 'cert-b');
    expect(b.some((i) => i.incidentId === amber.id && i.tlp === 'AMBER')).toBe(true);
  });
});

describe('what never reaches an agency', () => {
  test('a possible relation between incidents, announced for coordinators, is in no agency’s feed', async ({
    stack: t,
    nats,
  }) => {
    const { cc, amber } = await scene(t);
    const relation = encodeEnvelope({
      id: 'evt-relation',
      time: new Date(),
      source: 'intake',
      domain: 'incident',
      event: 'relation-found',
      subject: `incident/${amber.id}`,
      tlp: 'CLEAR',
      incidentId: amber.id,
      schema: 'beacon.intake.v1.RelationFound',
      data: new Uint8Array(),
    });
    await jetstream(nats).publish(`${t.events.root}.incident.relation-found`, relation.data, {
      msgID: 'evt-relation',
    });
    // A later event of the same incident: the fan-out handles one incident's events in order.
    await call(
      t.intakeClient,
      'updateSeverity',
      {
        incidentId: amber.id,
        severityInputs: { ...NCISS_BASELINE, actor: 'nation-state' },
        expectedVersion: 0,
      },
      cc,
    );
    for (const agencyId of ['cert-a', 'cert-b']) {
      const items = await waitFor(
        async () => {
          const got = await replay(t, agencyId);
          expect(got.some((i) => i.incidentId === amber.id && i.type === 'incident.severity-changed')).toBe(
            true,
          );
          return got;
        },
        { what: `${agencyId}’s later event`, timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(items.filter((i) => i.type === 'incident.relation-found')).toEqual([]);
    }
  });

  test('a coordinator looking at an agency’s feed sees nothing above the coordinator’s own clearance', async ({
    stack: t,
  }) => {
    const { amber, red } = await scene(t);
    const mint = (clearance: Tlp) =>
      t.issuer.mint({ subject: `cc-${clearance}`, roles: ['coordinator'], clearance });
    const low = await replay(t, 'cert-a', await mint('GREEN'));
    expect(low.filter((i) => above(i.tlp))).toEqual([]);
    expect(low.length).toBeGreaterThan(0);
    const high = await replay(t, 'cert-a', await mint('RED'));
    expect(high.some((i) => i.incidentId === amber.id && i.tlp === 'AMBER')).toBe(true);
    expect(high.some((i) => i.incidentId === red.id && i.tlp === 'RED')).toBe(true);
  });
});

describe('no oracles', () => {
  test('acknowledging a hidden incident, a made-up one, or one the agency was removed from gets one answer', async ({
    stack: t,
  }) => {
    const { cc, amber, red } = await scene(t);
    const hidden = await openIncident(t, cc, 'RED', { title: 'Someone else’s' });
    await engage(t, cc, hidden.id, 'cert-b');
    const analyst = await t.token(['agency_analyst'], 'cert-a');
    const ack = (incidentId: string) =>
      call(t.notifyClient, 'acknowledge', { agencyId: 'cert-a', incidentId, note: '' }, analyst).then(
        () => 'acknowledged',
        (e: ServiceError) => `${e.code} ${e.details.replace(incidentId, '<id>')}`,
      );
    // The legitimate caller is served.
    expect(await ack(red.id)).toBe('acknowledged');
    await call(
      t.intakeClient,
      'unassignAgency',
      { incidentId: amber.id, agencyId: 'cert-a', expectedVersion: 0 },
      cc,
    );
    const refusal = await ack(`inc_${'0'.repeat(24)}`);
    expect(refusal).toMatch(new RegExp(`^${status.NOT_FOUND} `));
    expect(await ack(hidden.id)).toBe(refusal);
    await waitFor(async () => expect(await ack(amber.id)).toBe(refusal), {
      what: 'the removal known to notify',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  });
});

describe('feed credentials', () => {
  test('last hours: a request for more than the deployment’s maximum (24 h by default) is refused', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-a', 'RED'), expectedVersion: 0 }, cc);
    const admin = await t.token(['agency_admin'], 'cert-a');
    const issue = (ttlHours: number) =>
      call(t.notifyClient, 'issueFeedCredentials', { agencyId: 'cert-a', ttlHours }, admin).then(
        () => 'issued',
        (e: ServiceError) => `${e.code} ${e.details}`,
      );
    expect(await issue(25)).toMatch(new RegExp(`^${status.INVALID_ARGUMENT} `));
    expect(await issue(7 * 24)).toMatch(new RegExp(`^${status.INVALID_ARGUMENT} `));
    // Within bounds the request passes validation; this stack holds no signing key to mint with.
    expect(await issue(24)).toBe(
      `${status.FAILED_PRECONDITION} this deployment issues no NATS credentials: use StreamFeed`,
    );
    expect(await issue(0)).toBe(await issue(24));
  });
});
