import { connect } from 'node:http2';
import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { encodeEnvelope } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import { freePort, test, waitFor } from '@beacon/testkit';
import { feedSubject } from '../src/adapters/nats/feeds.js';
import { agency, call, startStack, type Stack } from './harness.js';

interface Opened {
  readonly stream: ClientReadableStream<notifyV1.StreamFeedResponse>;
  /** The first heartbeat, or the status the stream ended with before one. */
  readonly first: Promise<'heartbeat' | ServiceError>;
  /** The status the stream ends with. */
  readonly ended: Promise<ServiceError | 'ok'>;
}

/** A feed stream through the gateway's gRPC door, heartbeating every second. */
async function open(t: Stack, agencyId: string): Promise<Opened> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${await t.token(['agency_analyst'], agencyId)}`);
  const stream = t.gatewayNotify.streamFeed({ agencyId, fromSequence: '0', heartbeatSeconds: 1 }, md);
  const first = new Promise<'heartbeat' | ServiceError>((resolve) => {
    stream.on('data', (item: notifyV1.StreamFeedResponse) => {
      if (item.item?.$case === 'heartbeat') resolve('heartbeat');
    });
    stream.on('error', resolve);
  });
  const ended = new Promise<ServiceError | 'ok'>((resolve) => {
    stream.on('error', resolve);
    stream.on('end', () => resolve('ok'));
  });
  return { stream, first, ended };
}

async function withAgencies(t: Stack, ...ids: string[]): Promise<void> {
  const cc = await t.token(['coordinator']);
  for (const id of ids)
    await call(t.notifyClient, 'putAgency', { agency: agency(id, 'AMBER'), expectedVersion: 0 }, cc);
}

describe('feed streams', () => {
  test('an agency holds at most its cap of streams; the next is refused naming the cap, other agencies are served', async ({
    infra,
    names,
  }) => {
    const t = await startStack(infra, names, {
      FEED_STREAMS_PER_AGENCY: '4',
      NOTIFY_HTTP_PORT: String(await freePort()),
    });
    const opened: Opened[] = [];
    try {
      await withAgencies(t, 'cert-by', 'cert-he');
      for (let i = 0; i < 4; i++) {
        opened.push(await open(t, 'cert-by'));
        expect(await opened.at(-1)!.first).toBe('heartbeat');
      }
      const fifth = await open(t, 'cert-by');
      opened.push(fifth);
      const refused = (await fifth.first) as ServiceError;
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused.details).toContain('FEED_STREAMS_PER_AGENCY=4');
      // Another agency has places of its own.
      const other = await open(t, 'cert-he');
      opened.push(other);
      expect(await other.first).toBe('heartbeat');
      // A stream closed gives its place back.
      opened[0]!.stream.cancel();
      await waitFor(
        async () => {
          const again = await open(t, 'cert-by');
          opened.push(again);
          const outcome = await again.first;
          if (outcome !== 'heartbeat') throw new Error(outcome.details);
        },
        { what: 'a place freed by the closed stream', timeoutMs: 5_000, intervalMs: 100 },
      );
    } finally {
      for (const o of opened) o.stream.cancel();
      await t.stop();
    }
  });

  test('a stream ends with UNAVAILABLE at its lifetime, and its place is free again', async ({
    infra,
    names,
  }) => {
    const t = await startStack(infra, names, {
      FEED_STREAMS_PER_AGENCY: '1',
      FEED_STREAM_MAX_SECONDS: '3',
      NOTIFY_HTTP_PORT: String(await freePort()),
    });
    const opened: Opened[] = [];
    try {
      await withAgencies(t, 'cert-by');
      const first = await open(t, 'cert-by');
      opened.push(first);
      expect(await first.first).toBe('heartbeat');
      const started = Date.now();
      const ended = (await first.ended) as ServiceError;
      // (The gateway passes UNAVAILABLE on with its own plain message, as for any transport failure.)
      expect(ended.code).toBe(status.UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(6_000);
      const next = await open(t, 'cert-by');
      opened.push(next);
      expect(await next.first).toBe('heartbeat');
    } finally {
      for (const o of opened) o.stream.cancel();
      await t.stop();
    }
  });

  test('a stream whose client takes nothing ends with DEADLINE_EXCEEDED, and its place is free again', async ({
    infra,
    names,
    nats,
  }) => {
    const t = await startStack(infra, names, {
      FEED_STREAMS_PER_AGENCY: '1',
      FEED_STREAM_STALL_SECONDS: '1',
      NOTIFY_HTTP_PORT: String(await freePort()),
    });
    const opened: Opened[] = [];
    try {
      await withAgencies(t, 'cert-by');
      // More in the feed than the client's flow-control window and the server's buffer hold.
      const js = jetstream(nats);
      for (let i = 0; i < 200; i++) {
        const event = encodeEnvelope({
          id: `bulk-${i}`,
          time: new Date(),
          source: 'intake',
          domain: 'incident',
          event: 'opened',
          subject: 'incident/inc_bulk',
          tlp: 'GREEN',
          incidentId: 'inc_bulk',
          schema: 'beacon.intake.v1.IncidentOpened',
          data: new Uint8Array(4_096),
        });
        await js.publish(
          feedSubject(t.feeds.root, {
            agencyId: 'cert-by',
            incidentId: 'inc_bulk',
            tlp: 'GREEN',
            type: 'incident.opened',
          }),
          event.data,
        );
      }
      // Straight at notify, over raw HTTP/2: a client that reads nothing, so its flow-control
      // window fills (a grpc-js client keeps reading into memory even when paused).
      const session = connect(`http://127.0.0.1:${t.notify.port}`);
      const request = notifyV1.StreamFeedRequest.encode({
        agencyId: 'cert-by',
        fromSequence: '1',
        heartbeatSeconds: 1,
      }).finish();
      const frame = Buffer.alloc(5 + request.length);
      frame.writeUInt32BE(request.length, 1);
      frame.set(request, 5);
      const stalled = session.request({
        ':method': 'POST',
        ':path': '/beacon.notify.v1.NotifyService/StreamFeed',
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${await t.token(['agency_analyst'], 'cert-by')}`,
      });
      stalled.end(frame);
      stalled.pause();
      const statusOf = new Promise<Record<string, unknown>>((resolve) => {
        // A status before any message would come alone, in the response headers.
        stalled.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(headers));
        stalled.on('trailers', resolve);
      });
      // Its place comes free once notify gives up on it …
      await waitFor(
        async () => {
          const next = await open(t, 'cert-by');
          opened.push(next);
          const outcome = await next.first;
          if (outcome !== 'heartbeat') throw new Error(outcome.details);
        },
        { what: 'the stalled stream’s place', timeoutMs: 15_000, intervalMs: 250 },
      );
      // … and the stalled client, once it reads again, learns why its stream ended.
      stalled.on('data', () => undefined);
      stalled.resume();
      const ended = await statusOf;
      session.close();
      expect(Number(ended['grpc-status'])).toBe(status.DEADLINE_EXCEEDED);
      expect(decodeURIComponent(String(ended['grpc-message']))).toMatch(/took nothing/);
    } finally {
      for (const o of opened) o.stream.cancel();
      await t.stop();
    }
  });
});
