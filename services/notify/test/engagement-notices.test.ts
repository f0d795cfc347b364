import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { eventsV1, notifyV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { agency, call, engage, openIncident, startStack, type Stack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

/** The engagement notices in an agency's feed, in order. */
async function noticesIn(t: Stack, nats: Parameters<typeof jetstream>[0], agencyId: string) {
  const jsm = await jetstream(nats).jetstreamManager();
  // Any incident, labelled GREEN: the notice names the incident and its level only.
  const subject = `${t.feeds.root}.${agencyId}.*.green.notify.engagement-requested`;
  const info = await jsm.streams.info(t.feeds.stream, { subjects_filter: subject });
  const count = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  const notices: { envelope: eventsV1.Envelope; notice: notifyV1.EngagementNotice }[] = [];
  if (count === 0) return notices;
  const consumer = await jetstream(nats).consumers.get(t.feeds.stream, { filter_subjects: [subject] });
  for await (const m of await consumer.fetch({ max_messages: count, expires: 5_000 })) {
    const envelope = eventsV1.Envelope.decode(m.data);
    notices.push({ envelope, notice: notifyV1.EngagementNotice.decode(envelope.data) });
    if (notices.length === count) break;
  }
  return notices;
}

/**
 * Sends the notice once notify has learnt, from intake's event, that the agency is engaged:
 * until then notify answers UNAVAILABLE, which the response's activity retries.
 */
async function sendWhenEngaged(t: Stack, request: object, token: string) {
  return waitFor(
    () => call<notifyV1.NotifyEngagementResponse>(t.notifyClient, 'notifyEngagement', request, token),
    {
      what: 'notify to learn of the engagement',
      timeoutMs: 15_000,
    },
  );
}

/** A first-round notice to cert-by's first contact about the incident, under `idempotencyKey`. */
const noticeTo = (incidentId: string, idempotencyKey: string, overrides: object = {}) => ({
  incidentId,
  agencyId: 'cert-by',
  contactRank: 0,
  idempotencyKey,
  regardingAgencyId: '',
  round: 1,
  ncissLevel: 3,
  ...overrides,
});

const code = async (promise: Promise<unknown>) =>
  (
    await promise.then(
      () => undefined,
      (e: ServiceError) => e,
    )
  )?.code;

describe('engagement notices', () => {
  test('reach the agency’s feed once per idempotency key, naming the contact to acknowledge', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    const worker = await t.token(['service']);
    await call(
      t.notifyClient,
      'putAgency',
      {
        agency: agency('cert-by', 'RED', {
          contacts: [
            { role: 'duty-officer', name: 'Duty officer', email: 'duty@cert-by.example', phone: '' },
            { role: 'deputy', name: 'Deputy', email: '', phone: '+4989123456' },
          ],
        }),
        expectedVersion: 0,
      },
      cc,
    );
    const incident = await openIncident(t, cc, 'AMBER');
    await engage(t, cc, incident.id, 'cert-by');
    const acknowledgeBy = new Date(Date.now() + 3_600_000);
    const request = noticeTo(incident.id, `incident-${incident.id}-agency-cert-by/run-1/7`, {
      acknowledgeBy,
    });
    const first = await sendWhenEngaged(t, request, worker);
    expect(first.first).toBe(true);
    expect(first.notice).toMatchObject({
      incidentId: incident.id,
      agencyId: 'cert-by',
      regardingAgencyId: 'cert-by',
      contactRank: 0,
      contact: { role: 'duty-officer', name: 'Duty officer', email: 'duty@cert-by.example' },
      round: 1,
      ncissLevel: 3,
      acknowledgeBy,
    });
    // A retry of the same activity (same key) returns the first notice and sends nothing.
    const again = await call<notifyV1.NotifyEngagementResponse>(
      t.notifyClient,
      'notifyEngagement',
      request,
      worker,
    );
    expect(again).toEqual({ first: false, notice: first.notice });
    // Escalating to the deputy is another activity, another key: a second notice.
    const deputy = await call<notifyV1.NotifyEngagementResponse>(
      t.notifyClient,
      'notifyEngagement',
      { ...request, contactRank: 1, idempotencyKey: `incident-${incident.id}-agency-cert-by/run-1/9` },
      worker,
    );
    expect(deputy.notice?.contact).toMatchObject({ role: 'deputy', phone: '+4989123456' });

    const feed = await noticesIn(t, nats, 'cert-by');
    expect(feed.map((n) => [n.notice.id, n.notice.contact?.role])).toEqual([
      [first.notice!.id, 'duty-officer'],
      [deputy.notice!.id, 'deputy'],
    ]);
    expect(feed[0]!.envelope).toMatchObject({
      id: first.notice!.id,
      type: 'beacon.notify.engagement-requested.v1',
      incidentId: incident.id,
      tlp: 2, // TLP:GREEN: the notice names nothing but the incident's id and level
    });
  });

  test('are for the response workflows and coordinators only, to contacts that exist', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-by', 'RED'), expectedVersion: 0 }, cc);
    const incident = await openIncident(t, cc, 'GREEN');
    await engage(t, cc, incident.id, 'cert-by');
    const request = noticeTo(incident.id, 'k-1', { ncissLevel: 1 });
    const send = async (overrides: object, token: string) =>
      code(call(t.notifyClient, 'notifyEngagement', { ...request, ...overrides }, token));
    const agencyToken = await t.token(['agency_admin'], 'cert-by');
    await sendWhenEngaged(t, { ...request, idempotencyKey: 'k-0' }, cc);
    expect(await send({}, agencyToken)).toBe(status.PERMISSION_DENIED);
    expect(await send({ contactRank: 1 }, cc)).toBe(status.FAILED_PRECONDITION);
    expect(await send({ agencyId: 'nobody' }, cc)).toBe(status.NOT_FOUND);
    expect(await send({ regardingAgencyId: 'nobody' }, cc)).toBe(status.NOT_FOUND);
    expect(await send({ idempotencyKey: '' }, cc)).toBe(status.INVALID_ARGUMENT);
    expect(await send({ idempotencyKey: 'has space' }, cc)).toBe(status.INVALID_ARGUMENT);
    expect(await send({ ncissLevel: 6 }, cc)).toBe(status.INVALID_ARGUMENT);
    expect(await send({ incidentId: 'x' }, cc)).toBe(status.INVALID_ARGUMENT);
    expect(await send({}, cc)).toBeUndefined();
  });

  test('wait until notify knows the agency is engaged, so the agency told can acknowledge', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    const worker = await t.token(['service']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-by', 'RED'), expectedVersion: 0 }, cc);
    const incident = await openIncident(t, cc, 'AMBER');
    const request = noticeTo(incident.id, `incident-${incident.id}-agency-cert-by/run-1/5`);
    // Not engaged (as when intake's event has not reached notify yet): refused for now, and
    // nothing reaches the feed, so the agency is never asked for what it could not give.
    expect(await code(call(t.notifyClient, 'notifyEngagement', request, worker))).toBe(status.UNAVAILABLE);
    expect(await noticesIn(t, nats, 'cert-by')).toEqual([]);
    const agencyToken = await t.token(['agency_analyst'], 'cert-by');
    const acknowledge = () =>
      call<notifyV1.AcknowledgeResponse>(
        t.notifyClient,
        'acknowledge',
        { agencyId: 'cert-by', incidentId: incident.id, note: 'on it' },
        agencyToken,
      );
    expect(await code(acknowledge())).toBe(status.NOT_FOUND);

    await engage(t, cc, incident.id, 'cert-by');
    // The same call, retried as the response's activity retries it, goes through once notify
    // knows; the notice in the feed can then be acknowledged at once.
    const sent = await sendWhenEngaged(t, request, worker);
    expect(sent.first).toBe(true);
    expect((await noticesIn(t, nats, 'cert-by')).map((n) => n.notice.id)).toEqual([sent.notice!.id]);
    expect(await acknowledge()).toMatchObject({ first: true });
  });
});
