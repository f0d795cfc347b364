import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventNotification } from '../../app/channel-delivery.js';
import type { WebhookChannel } from '../../domain/agency.js';
import { verifySignature } from '../../domain/webhook-signature.js';
import { hmacSha256Hex } from './hmac.js';
import { HttpWebhookSender } from './webhook-sender.js';
import type { Resolve } from './webhook-target.js';

const seen: { headers: IncomingHttpHeaders; body: string; remote: string | undefined }[] = [];
let status = 200;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    seen.push({ headers: req.headers, body, remote: req.socket.remoteAddress });
    res
      .writeHead(status, status === 302 ? { location: 'http://169.254.169.254/' } : {})
      .end('internal secret: s3cr3t-from-inside');
  });
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const clock = { now: () => new Date() };
const secrets = [{ id: 'k1', secret: 'k'.repeat(40) }];
const notification: EventNotification = {
  kind: 'event',
  agencyId: 'cert-a',
  key: 'e1.cert-a',
  feedSequence: 7,
  event: {
    id: 'e1',
    type: 'beacon.incident.opened.v1',
    source: 'beacon/intake',
    subject: 'incident/i1',
    time: new Date('2026-01-02T03:04:05Z'),
    tlp: 'GREEN',
    incidentId: 'i1',
    datacontenttype: 'application/protobuf',
    dataschema: 'beacon.intake.v1.IncidentOpened',
    data: new Uint8Array([1, 2, 3]),
  },
};

/** Resolves the receiver's name to the loopback once, then to somewhere else: DNS rebinding. */
function rebinding(): { resolve: Resolve; queries: number } {
  const state = { queries: 0, resolve: (async () => []) as Resolve };
  state.resolve = async () => (state.queries++ === 0 ? ['127.0.0.1'] : ['10.9.9.9']);
  return state;
}

describe('HttpWebhookSender', () => {
  test('connects to the address it checked, keeping the name in Host, and signs the body', async () => {
    status = 200;
    const dns = rebinding();
    const sender = new HttpWebhookSender({
      allowCidrs: ['127.0.0.1/32'],
      timeoutMs: 2_000,
      clock,
      resolve: dns.resolve,
    });
    const channel: WebhookChannel = { url: `http://receiver.test:${port}/hook`, secrets };
    const result = await sender.send(channel, notification, 1);
    expect(result).toEqual({ outcome: 'delivered', detail: `HTTP 200 from http://receiver.test:${port}` });
    expect(dns.queries).toBe(1); // one lookup per attempt: the connection did not ask again
    const request = seen.at(-1)!;
    expect(request.remote).toBe('127.0.0.1');
    expect(request.headers.host).toBe(`receiver.test:${port}`);
    expect(request.headers['idempotency-key']).toBe('e1.cert-a');
    expect(
      verifySignature({
        header: String(request.headers['beacon-signature']),
        body: request.body,
        secrets,
        now: new Date(),
        hmac: hmacSha256Hex,
      }),
    ).toMatchObject({ ok: true, secretId: 'k1' });

    // The next attempt resolves again and is refused: the name now points inside.
    expect(await sender.send(channel, notification, 2)).toEqual({
      outcome: 'refused',
      detail: 'SSRF guard (forbidden-address): 10.9.9.9 is private',
    });
  });

  test('a redirect is a failure and is not followed; a 5xx is the endpoint failing', async () => {
    const sender = new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 2_000, clock });
    const channel: WebhookChannel = { url: `http://127.0.0.1:${port}/hook`, secrets };
    status = 302;
    const before = seen.length;
    expect(await sender.send(channel, notification, 1)).toMatchObject({
      outcome: 'failed',
      endpointFault: false,
      detail: expect.stringMatching(/^HTTP 302 .*redirects are not followed/) as unknown,
    });
    expect(seen.length).toBe(before + 1);
    status = 503;
    const failed = await sender.send(channel, notification, 1);
    // The status and where from only: the receiver's body is never read back.
    expect(failed).toEqual({
      outcome: 'failed',
      endpointFault: true,
      detail: `HTTP 503 from http://127.0.0.1:${port}`,
    });
  });

  test('no active secret: nothing is sent', async () => {
    const sender = new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 2_000, clock });
    const before = seen.length;
    const expired = [{ id: 'old', secret: 'o'.repeat(40), notAfter: new Date(Date.now() - 1) }];
    expect(
      await sender.send({ url: `http://127.0.0.1:${port}/hook`, secrets: expired }, notification, 1),
    ).toMatchObject({ outcome: 'refused' });
    expect(seen.length).toBe(before);
  });

  test('a receiver that does not answer in time is a timed-out failure', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const sender = new HttpWebhookSender({ allowCidrs: ['127.0.0.1/32'], timeoutMs: 100, clock });
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      expect(await sender.send({ url, secrets }, notification, 1)).toEqual({
        outcome: 'failed',
        detail: `timed out after 100 ms (${new URL(url).origin})`,
        endpointFault: true,
      });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
