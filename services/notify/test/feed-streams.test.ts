import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import type { notifyV1 } from '@beacon/proto';
import { freePort, test, waitFor } from '@beacon/testkit';
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
      FEED_STREAM_MAX_SECONDS: '2',
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
      expect(Date.now() - started).toBeLessThan(5_000);
      const next = await open(t, 'cert-by');
      opened.push(next);
      expect(await next.first).toBe('heartbeat');
    } finally {
      for (const o of opened) o.stream.cancel();
      await t.stop();
    }
  });
});
