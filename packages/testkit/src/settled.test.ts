import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchWhenSettled } from './settled.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server answering each request with the next status of `statuses` (the last one after). */
async function answering(...statuses: number[]): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  server = createServer((_req, res) => {
    const code = statuses[Math.min(count, statuses.length - 1)]!;
    count += 1;
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ code }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => count };
}

describe('a request to a stack that is still settling', () => {
  it('is sent again after 502, 503 and 504 until the stack answers', async () => {
    const stack = await answering(504, 503, 502, 201);
    const response = await fetchWhenSettled(stack.url, { method: 'POST' }, { firstDelayMs: 10 });
    expect(response.status).toBe(201);
    expect(stack.requests()).toBe(4);
  });

  it('is not sent again for an answer that is the stack’s own (a 500, a 400)', async () => {
    const stack = await answering(500, 201);
    expect((await fetchWhenSettled(stack.url, undefined, { firstDelayMs: 10 })).status).toBe(500);
    expect(stack.requests()).toBe(1);
  });

  it('hands back the last settling answer once its time is up', async () => {
    const stack = await answering(503);
    const response = await fetchWhenSettled(stack.url, undefined, { firstDelayMs: 10, withinMs: 200 });
    expect(response.status).toBe(503);
    expect(stack.requests()).toBeGreaterThanOrEqual(3);
  });

  it('is sent again while nothing listens yet', async () => {
    const stack = await answering(200);
    const { port } = server!.address() as AddressInfo;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const late = setTimeout(() => {
      server = createServer((_req, res) => res.writeHead(200).end('{}'));
      server.listen(port, '127.0.0.1');
    }, 150);
    try {
      expect((await fetchWhenSettled(stack.url, undefined, { firstDelayMs: 20 })).status).toBe(200);
    } finally {
      clearTimeout(late);
    }
  });
});
