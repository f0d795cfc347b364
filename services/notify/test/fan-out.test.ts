import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { eventsV1, intakeV1, notifyV1 } from '@beacon/proto';
import { encodeEnvelope } from '@beacon/platform';
import { test as base, waitFor } from '@beacon/testkit';
import { AckLinks } from '../src/adapters/http/ack-links.js';
import {
  ACK_SECRET,
  agency,
  call,
  engage,
  openIncident,
  startStack,
  subscription,
  TLP,
  type Stack,
} from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

/** Each agency's feed, as `<incident index>:<event type>` in order. */
async function feedsOf(
  t: Stack,
  nats: Parameters<typeof jetstream>[0],
  agencies: string[],
  incidents: string[],
) {
  const consumer = await jetstream(nats).consumers.get(t.feeds.stream);
  const pending = (await consumer.info()).num_pending;
  const byAgency: Record<string, string[]> = Object.fromEntries(agencies.map((a) => [a, []]));
  if (pending === 0) return byAgency;
  let seen = 0;
  for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
    const agencyId = m.subject.slice(t.feeds.root.length + 1).split('.')[0]!;
    const envelope = eventsV1.Envelope.decode(m.data);
    byAgency[agencyId]?.push(
      `${incidents.indexOf(envelope.incidentId)}:${m.headers?.get('Beacon-Event-Type')}`,
    );
    if (++seen === pending) break;
  }
  return byAgency;
}

describe('the fan-out to agency feeds', () => {
  test('each agency gets exactly the events its clearance, engagement and filters allow, once, even when every event is handled again', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    const agencies = [
      agency('cert-by', 'RED', { jurisdictions: ['DE-BY'] }),
      agency('cert-fr', 'AMBER', { jurisdictions: ['FR'] }),
      agency('lka-by', 'AMBER', { kind: notifyV1.AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT }),
      agency('reg-green', 'GREEN', { kind: notifyV1.AgencyKind.AGENCY_KIND_REGULATOR }),
      agency('grid-op', 'RED', { kind: notifyV1.AgencyKind.AGENCY_KIND_OPERATOR }),
      agency('no-subs', 'RED'),
    ];
    for (const a of agencies) await call(t.notifyClient, 'putAgency', { agency: a, expectedVersion: 0 }, cc);
    const subs = [
      subscription('cert-by', 'all'),
      subscription('cert-fr', 'all'),
      subscription('lka-by', 'fraud', { rsitClasses: ['fraud'] }),
      subscription('reg-green', 'de', { jurisdictions: ['DE'] }),
      subscription('grid-op', 'severe', { minNcissLevel: 3 }),
      subscription('grid-op', 'opened', {
        eventTypes: ['incident.opened'],
        sectors: ['water-and-wastewater'],
      }),
    ];
    for (const s of subs) await call(t.notifyClient, 'putSubscription', { subscription: s }, cc);

    const green = await openIncident(t, cc, 'GREEN');
    const amber = await openIncident(t, cc, 'AMBER');
    await engage(t, cc, amber.id, 'cert-by');
    const red = await openIncident(t, cc, 'RED', {
      classification: { rsitClass: 'fraud', rsitType: 'phishing' },
    });
    await engage(t, cc, red.id, 'grid-op');
    await call(
      t.intakeClient,
      'updateSeverity',
      {
        incidentId: red.id,
        severityInputs: {
          ...NCISS_BASELINE,
          functionalImpact: 'significant-critical',
          potentialImpact: 'very-high',
          informationImpact: 'destruction-critical',
          recoverability: 'not-recoverable',
          crossSectorDependency: 'high',
          location: 'critical-system-management',
          observedActivity: 'effect',
          actor: 'nation-state',
        },
        expectedVersion: 0,
      },
      cc,
    );
    const water = await openIncident(t, cc, 'CLEAR', { sectors: ['water-and-wastewater'] });
    const ids = [green.id, amber.id, red.id, water.id];

    const expected = {
      // RED clearance, all events: GREEN and CLEAR ones; AMBER only once engaged (the
      // assignment on), RED never (not engaged).
      'cert-by': ['0:incident.opened', '1:incident.agency-assigned', '3:incident.opened'],
      // AMBER never (not engaged), whatever its remit.
      'cert-fr': ['0:incident.opened', '3:incident.opened'],
      // its filter asks for fraud; the fraud incident is RED and it is not engaged
      'lka-by': [],
      // GREEN clearance, jurisdiction DE takes DE-BY
      'reg-green': ['0:incident.opened', '3:incident.opened'],
      // RED, engaged: its incident once severe (NCISS ≥ 3); and water incidents being opened
      'grid-op': ['2:incident.severity-changed', '3:incident.opened'],
      'no-subs': [],
    };
    const agencyIds = Object.keys(expected);
    await waitFor(
      async () => {
        const now = await feedsOf(t, nats, agencyIds, ids);
        expect(now).toEqual(expected);
      },
      { what: 'the feeds', timeoutMs: 20_000, intervalMs: 200 },
    );

    // Handle every event again (a fresh consumer replays the stream): no feed gains a copy.
    await t.replayNotify();
    const jsm = await jetstream(nats).jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(t.events.stream, t.fanOutConsumer);
        if (info.num_pending > 0 || info.num_ack_pending > 0) throw new Error('the replay is not done');
      },
      { what: 'the replay', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(await feedsOf(t, nats, agencyIds, ids)).toEqual(expected);
  });

  test('an agency disengaged from an AMBER incident receives none of its later events, and its copies are withdrawn', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    for (const id of ['cert-by', 'cert-fr']) {
      await call(t.notifyClient, 'putAgency', { agency: agency(id, 'RED'), expectedVersion: 0 }, cc);
      await call(t.notifyClient, 'putSubscription', { subscription: subscription(id, 'all') }, cc);
    }
    const incident = await openIncident(t, cc, 'AMBER');
    await engage(t, cc, incident.id, 'cert-by');
    await engage(t, cc, incident.id, 'cert-fr');
    await call(
      t.intakeClient,
      'unassignAgency',
      { incidentId: incident.id, agencyId: 'cert-by', expectedVersion: 0 },
      cc,
    );
    await call(
      t.intakeClient,
      'updateSeverity',
      {
        incidentId: incident.id,
        severityInputs: { ...NCISS_BASELINE, actor: 'nation-state' },
        expectedVersion: 0,
      },
      cc,
    );
    // cert-fr, still engaged, receives the last event; by then cert-by's copy would be there too.
    // What cert-by's feed held of the incident is purged, and its feed says so instead.
    await waitFor(
      async () => {
        expect(await feedsOf(t, nats, ['cert-by', 'cert-fr'], [incident.id])).toEqual({
          'cert-by': ['0:notify.access-withdrawn'],
          'cert-fr': [
            '0:incident.agency-assigned',
            '0:incident.agency-unassigned',
            '0:incident.severity-changed',
          ],
        });
      },
      { what: 'the feeds', timeoutMs: 20_000, intervalMs: 200 },
    );
  });

  test('agencies acknowledge engagements once, only their own, and the acknowledgement is published', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-by', 'RED'), expectedVersion: 0 }, cc);
    await call(t.notifyClient, 'putAgency', { agency: agency('lka-by', 'RED'), expectedVersion: 0 }, cc);
    const incident = await openIncident(t, cc, 'AMBER', { title: 'Grid compromise' });
    await engage(t, cc, incident.id, 'cert-by');
    const certBy = await t.token(['agency_analyst'], 'cert-by');
    const lka = await t.token(['agency_analyst'], 'lka-by');
    const ack = (token: string, agencyId: string) =>
      call<notifyV1.AcknowledgeResponse>(
        t.notifyClient,
        'acknowledge',
        { agencyId, incidentId: incident.id, note: 'on it' },
        token,
      );

    const first = await waitFor(() => ack(certBy, 'cert-by'), {
      what: 'engagement known to notify',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(first.first).toBe(true);
    const again = await ack(certBy, 'cert-by');
    expect(again).toEqual({ first: false, acknowledgedAt: first.acknowledgedAt });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: ServiceError) => e.code,
      );
    // Not engaged reads as absent: the same answer as for an incident that does not exist.
    await expect(code(ack(lka, 'lka-by')), 'not engaged').resolves.toBe(status.NOT_FOUND);
    await expect(code(ack(lka, 'cert-by')), 'for another agency').resolves.toBe(status.NOT_FOUND);
    await expect(
      code(ack(cc, 'cert-by')),
      'the coordinator does not acknowledge for an agency',
    ).resolves.toBe(status.PERMISSION_DENIED);
    // By NATS request, as an agency's feed client does (its credentials allow only its own id).
    const byRequest = async (agencyId: string) =>
      (await nats.request(`${t.ackRoot}.${agencyId}.${incident.id}`, 'on it', { timeout: 5_000 })).json();
    expect(await byRequest('cert-by')).toEqual({
      ok: true,
      first: false,
      acknowledgedAt: first.acknowledgedAt!.toISOString(),
    });
    expect(await byRequest('lka-by')).toMatchObject({ ok: false, error: 'not-found' });

    const acknowledged = await waitFor(
      async () => {
        const consumer = await jetstream(nats).consumers.get(t.events.stream);
        let pending = (await consumer.info()).num_pending;
        const found: eventsV1.Envelope[] = [];
        for await (const m of await consumer.fetch({ max_messages: pending, expires: 2_000 })) {
          const e = eventsV1.Envelope.decode(m.data);
          if (e.type === 'beacon.notify.acknowledged.v1') found.push(e);
          if (--pending <= 0) break;
        }
        if (found.length === 0) throw new Error('not yet published');
        return found;
      },
      { what: 'notify.acknowledged', timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(acknowledged).toHaveLength(1);
    expect(notifyV1.EngagementAcknowledged.decode(acknowledged[0]!.data)).toMatchObject({
      agencyId: 'cert-by',
      incidentId: incident.id,
      via: 'grpc',
    });
    expect(acknowledged[0]!.tlp).toBe(TLP.AMBER);
  });

  test('a signed link acknowledges with one click: opening it only asks, and only the signed agency and incident count', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    for (const id of ['cert-by', 'lka-by']) {
      await call(t.notifyClient, 'putAgency', { agency: agency(id, 'RED'), expectedVersion: 0 }, cc);
    }
    const incident = await openIncident(t, cc, 'AMBER', { title: 'Grid compromise' });
    await engage(t, cc, incident.id, 'cert-by');
    const links = new AckLinks({
      baseUrl: `http://127.0.0.1:${t.notify.ackPort}`,
      secret: ACK_SECRET,
      ttlSeconds: 3600,
      now: () => new Date(),
    });
    const link = links.url('cert-by', incident.id, 'email-link');
    const open = await fetch(link);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('<form method="post"');
    const tampered = link.replace('agency=cert-by', 'agency=lka-by');
    expect((await fetch(tampered, { method: 'POST' })).status).toBe(403);
    const stale = new AckLinks({
      baseUrl: `http://127.0.0.1:${t.notify.ackPort}`,
      secret: ACK_SECRET,
      ttlSeconds: -1,
      now: () => new Date(),
    });
    expect((await fetch(stale.url('cert-by', incident.id, 'email-link'), { method: 'POST' })).status).toBe(
      410,
    );
    // opening the link recorded nothing: the first POST is the first acknowledgement
    const first = await waitFor(
      async () => {
        const response = await fetch(link, { method: 'POST' });
        if (response.status !== 200) throw new Error(`answered ${response.status}`);
        return response.text();
      },
      { what: 'the engagement known to notify', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(first).toContain('Recorded at');
    expect(await (await fetch(link, { method: 'POST' })).text()).toContain('Already recorded');
    const notEngaged = links.url('lka-by', incident.id, 'webhook-link');
    expect((await fetch(notEngaged, { method: 'POST' })).status).toBe(404);
  });

  test("each incident's events reach every feed in the order they were published, while many incidents are handled at once", async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    const agencyIds = ['cert-a', 'cert-b', 'cert-c'];
    for (const id of agencyIds) {
      await call(t.notifyClient, 'putAgency', { agency: agency(id, 'RED'), expectedVersion: 0 }, cc);
      await call(t.notifyClient, 'putSubscription', { subscription: subscription(id, 'all') }, cc);
    }
    // A burst as intake makes under load: each incident's events back to back, many incidents.
    const incidents = Array.from({ length: 24 }, (_, i) => `inc_order${String(i).padStart(2, '0')}`);
    const EVENTS = 5;
    const js = jetstream(nats);
    const published: Promise<unknown>[] = [];
    for (const id of incidents) {
      for (let version = 1; version <= EVENTS; version++) {
        const incident = intakeV1.Incident.fromPartial({
          id,
          title: 'Phishing wave',
          tlp: TLP.CLEAR,
          classification: { rsitClass: 'fraud', rsitType: 'phishing' },
          sectors: ['energy'],
          jurisdictions: ['DE-BY'],
          reportIds: Array.from({ length: version }, (_, r) => `rep_${id}_${r}`),
          version,
        });
        const event = encodeEnvelope({
          id: `${id}.e${version}`,
          time: new Date(),
          source: 'intake',
          domain: 'incident',
          event: 'report-attached',
          subject: id,
          tlp: 'CLEAR',
          incidentId: id,
          schema: 'beacon.intake.v1.ReportAttached',
          data: intakeV1.ReportAttached.encode({
            incidentId: id,
            reportId: `rep_${id}_${version}`,
            incident,
          }).finish(),
        });
        published.push(js.publish(`${t.events.root}.${event.subject}`, event.data, { msgID: event.id }));
      }
    }
    await Promise.all(published);

    const inOrder = Object.fromEntries(
      agencyIds.map((a) => [
        a,
        incidents.map((id) => Array.from({ length: EVENTS }, (_, v) => `${id}.e${v + 1}`)),
      ]),
    );
    await waitFor(
      async () => {
        const consumer = await js.consumers.get(t.feeds.stream);
        const pending = (await consumer.info()).num_pending;
        if (pending < agencyIds.length * incidents.length * EVENTS) throw new Error(`${pending} feed copies`);
        const feeds: Record<string, string[]> = Object.fromEntries(agencyIds.map((a) => [a, []]));
        let seen = 0;
        for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
          feeds[m.subject.slice(t.feeds.root.length + 1).split('.')[0]!]?.push(
            eventsV1.Envelope.decode(m.data).id,
          );
          if (++seen === pending) break;
        }
        // Per agency and incident, the event ids in feed order.
        const got = Object.fromEntries(
          agencyIds.map((a) => [a, incidents.map((id) => feeds[a]!.filter((e) => e.startsWith(`${id}.`)))]),
        );
        expect(got).toEqual(inOrder);
      },
      { what: 'every feed copy', timeoutMs: 20_000, intervalMs: 200 },
    );
  });
});

describe('the gRPC feed stream', () => {
  test('resumes from a sequence, sends heartbeats while idle, and serves only the caller’s own feed', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-by', 'RED'), expectedVersion: 0 }, cc);
    await call(t.notifyClient, 'putSubscription', { subscription: subscription('cert-by', 'all') }, cc);
    for (let i = 0; i < 3; i++) await openIncident(t, cc, 'GREEN', { title: `Outage ${i}` });
    const read = async (
      token: string,
      request: Partial<notifyV1.StreamFeedRequest>,
      events: number,
      client = t.notifyClient,
    ) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      const stream = client.streamFeed(
        { agencyId: 'cert-by', fromSequence: '0', heartbeatSeconds: 1, ...request },
        md,
      );
      const got: notifyV1.StreamFeedResponse[] = [];
      try {
        for await (const item of stream as AsyncIterable<notifyV1.StreamFeedResponse>) {
          got.push(item);
          const seen = got.filter((g) => g.item?.$case === 'event').length;
          if (seen === events && got.at(-1)?.item?.$case === 'heartbeat') break;
        }
      } finally {
        stream.cancel();
      }
      return got;
    };
    const analyst = await t.token(['agency_analyst'], 'cert-by');
    const all = await waitFor(() => read(analyst, { fromSequence: '1' }, 3), {
      what: 'three events',
      timeoutMs: 20_000,
    });
    const events = all.flatMap((g) => (g.item?.$case === 'event' ? [g.item.value] : []));
    expect(events.map((e) => e.type)).toEqual(['incident.opened', 'incident.opened', 'incident.opened']);
    expect(all.at(-1)?.item?.$case).toBe('heartbeat');
    const resumed = await read(analyst, { fromSequence: events[1]!.sequence }, 2);
    expect(resumed.flatMap((g) => (g.item?.$case === 'event' ? [g.item.value.sequence] : []))).toEqual([
      events[1]!.sequence,
      events[2]!.sequence,
    ]);
    const other = await t.token(['agency_analyst'], 'lka-by');
    await expect(
      read(other, {}, 1).then(
        () => 'ok',
        (e: ServiceError) => e.code,
      ),
    ).resolves.toBe(status.NOT_FOUND);
  });
});
