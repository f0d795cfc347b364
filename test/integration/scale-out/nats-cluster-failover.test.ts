import { jetstream, jetstreamManager, type JetStreamClient, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect } from 'vitest';
import { connectNats } from '@beacon/platform';
import { eventsV1, type intakeV1 } from '@beacon/proto';
import {
  assertReplicasCurrent,
  startNatsCluster,
  test as base,
  waitFor,
  type NatsCluster,
} from '@beacon/testkit';
import { call, registerWatcher, report, startScaleOutStack, type ScaleOutStack } from './support/stack.js';

/** Intake and notify against a three-node NATS cluster of the test's own, streams at R3. */
const test = base.extend(
  'cluster',
  async (
    { infra, names, mongoClient },
    { onCleanup },
  ): Promise<{ nats: NatsCluster; stack: ScaleOutStack; nc: NatsConnection }> => {
    const nats = await startNatsCluster();
    // Registered before anything else starts, so a half-started stack never outlives the test.
    const started: { stack?: ScaleOutStack; nc?: NatsConnection } = {};
    onCleanup(async () => {
      const { stack, nc } = started;
      try {
        await stack?.stop();
        await nc?.close();
        if (stack) for (const db of Object.values(stack.databases)) await mongoClient.db(db).dropDatabase();
      } finally {
        await nats.stop();
      }
    });
    const stack = await startScaleOutStack({
      mongoUrl: infra.mongoUrl,
      natsServers: nats.urls,
      replicas: 3,
      names,
    });
    started.stack = stack;
    await stack.addIntake();
    await stack.addNotify();
    const nc = await connectNats({ servers: [...nats.urls], name: 'failover-test' });
    started.nc = nc;
    return { nats, stack, nc };
  },
);

/** Every message of a stream in order, with its `Nats-Msg-Id`-bearing event id. */
async function readAll(
  js: JetStreamClient,
  stream: string,
  idOf: (data: Uint8Array, headers?: string) => string,
) {
  const count = (await (await js.jetstreamManager()).streams.info(stream)).state.messages;
  const ids: string[] = [];
  if (count === 0) return ids;
  const reader = await js.consumers.get(stream);
  for await (const m of await reader.fetch({ max_messages: count, expires: 10_000 })) {
    ids.push(idOf(m.data, m.headers?.get('Beacon-Event-Id')));
    if (ids.length === count) break;
  }
  if (ids.length !== count) throw new Error(`read ${ids.length} of ${count} messages of ${stream}`);
  return ids;
}

/** The stream as one node holds it locally (its own store), from its monitoring endpoint. */
async function localState(
  monitorUrl: string,
  stream: string,
): Promise<{ messages: number; last_seq: number }> {
  const response = await fetch(`${monitorUrl}/jsz?accounts=true&streams=true`, {
    signal: AbortSignal.timeout(2_000),
  });
  const jsz = (await response.json()) as {
    account_details?: { stream_detail?: { name: string; state: { messages: number; last_seq: number } }[] }[];
  };
  const found = (jsz.account_details ?? [])
    .flatMap((a) => a.stream_detail ?? [])
    .find((s) => s.name === stream);
  if (!found) throw new Error(`${stream} not on this node yet`);
  return found.state;
}

describe('a three-node NATS cluster losing a node', () => {
  test(
    'kill -9 of the events stream leader mid-burst: no acknowledged event lost or doubled, services carry on, the node catches up',
    { timeout: 120_000 },
    async ({ cluster: { nats, stack, nc }, names }) => {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const cc = await stack.token(['coordinator']);
      const [intake] = stack.intakes;
      const [notify] = stack.notifies;
      await registerWatcher(notify!.client, cc, 'cert-de');
      const analyst = await stack.token(['agency_analyst'], 'cert-de');
      for (const stream of [stack.events.stream, stack.feeds.stream]) {
        expect((await jsm.streams.info(stream)).config.num_replicas).toBe(3);
      }

      const total = 90;
      const acknowledged: { reportId: string; incidentId: string }[] = [];
      const failed: string[] = [];
      let killed: { node: string; at: number; stored: number } | undefined;
      let fault: Promise<void> | undefined;
      let next = 0;
      const submitter = async () => {
        for (;;) {
          const i = next++;
          if (i >= total) return;
          try {
            const res = await call<intakeV1.SubmitReportResponse>(
              intake!.client,
              'submitReport',
              report(i, names.id),
              analyst,
            );
            acknowledged.push({ reportId: res.report!.id, incidentId: res.incident!.id });
          } catch (error) {
            failed.push(`report ${i}: ${error instanceof Error ? error.message : String(error)}`);
          }
          if (!fault && acknowledged.length >= 25) {
            // The leader of the events stream goes down hard while reports keep coming.
            fault = (async () => {
              const info = await jsm.streams.info(stack.events.stream);
              await nats.node(info.cluster!.leader!).process.kill();
              killed = { node: info.cluster!.leader!, at: acknowledged.length, stored: info.state.messages };
            })();
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, submitter));
      await fault;

      // Every submission was acknowledged, those after the kill included.
      expect(failed).toEqual([]);
      expect(acknowledged).toHaveLength(total);
      // The kill came mid-burst: most reports, and most of their events, came after it.
      expect(killed!.at).toBeLessThan(total - 20);
      expect(killed!.stored).toBeLessThan(total);
      // The stream elected a new leader among the two left.
      const after = await waitFor(
        async () => {
          const info = await jsm.streams.info(stack.events.stream);
          if (!info.cluster?.leader || info.cluster.leader === killed!.node)
            throw new Error('no new leader yet');
          return info;
        },
        { what: 'a new leader of the events stream', timeoutMs: 30_000 },
      );
      expect(after.cluster!.leader).not.toBe(killed!.node);

      // Every acknowledged report's two events reach the stream, each exactly once.
      const expectedEvents = 2 * total;
      await waitFor(
        async () => {
          const { messages } = (await jsm.streams.info(stack.events.stream)).state;
          if (messages < expectedEvents) throw new Error(`${messages} of ${expectedEvents} events`);
        },
        { what: 'every event in the events stream', timeoutMs: 45_000, intervalMs: 200 },
      );
      // Reading makes a consumer, which waits for the cluster's metadata leader: it may have been
      // on the killed node too, and under load its election can outlast one request's timeout.
      const envelopes: eventsV1.Envelope[] = [];
      await waitFor(
        () => {
          envelopes.length = 0;
          return readAll(js, stack.events.stream, (data) => {
            const envelope = eventsV1.Envelope.decode(data);
            envelopes.push(envelope);
            return envelope.id;
          });
        },
        { what: 'the events stream read back', timeoutMs: 45_000, intervalMs: 500 },
      );
      expect(envelopes).toHaveLength(expectedEvents);
      expect(new Set(envelopes.map((e) => e.id)).size).toBe(expectedEvents);
      const subjectsOf = (type: string) =>
        envelopes
          .filter((e) => e.type === type)
          .map((e) => e.subject)
          .sort();
      expect(subjectsOf('beacon.incident.reported.v1')).toEqual(acknowledged.map((a) => a.reportId).sort());
      expect(subjectsOf('beacon.incident.opened.v1')).toEqual(acknowledged.map((a) => a.incidentId).sort());

      // Notify's fan-out carried on: the agency's feed holds every event exactly once.
      await waitFor(
        async () => {
          const { messages } = (await jsm.streams.info(stack.feeds.stream)).state;
          if (messages < expectedEvents) throw new Error(`${messages} of ${expectedEvents} feed copies`);
        },
        { what: 'the fan-out to catch up', timeoutMs: 45_000, intervalMs: 200 },
      );
      const feed = await waitFor(
        () => readAll(js, stack.feeds.stream, (_data, eventId) => eventId ?? '(none)'),
        { what: 'the feed read back', timeoutMs: 45_000, intervalMs: 500 },
      );
      expect(feed.sort()).toEqual(envelopes.map((e) => e.id).sort());

      // The killed node comes back, rejoins and catches up: its replica is current with no
      // lag, and its own store holds every message.
      const node = nats.node(killed!.node);
      await node.restart();
      for (const stream of [stack.events.stream, stack.feeds.stream]) {
        const info: StreamInfo = await waitFor(
          async () => {
            const current = await jsm.streams.info(stream);
            assertReplicasCurrent(current);
            const local = await localState(node.monitorUrl, stream);
            if (local.last_seq !== current.state.last_seq) {
              throw new Error(`${node.name} holds up to ${local.last_seq} of ${current.state.last_seq}`);
            }
            return current;
          },
          { what: `${node.name} to catch up on ${stream}`, timeoutMs: 45_000, intervalMs: 200 },
        );
        const names_ = [info.cluster!.leader, ...(info.cluster!.replicas ?? []).map((r) => r.name)];
        expect(names_.sort()).toEqual(['n1', 'n2', 'n3']);
        expect((await localState(node.monitorUrl, stream)).messages).toBe(info.state.messages);
      }
    },
  );
});
