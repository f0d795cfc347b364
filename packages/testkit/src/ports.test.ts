import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralFloor, freePort } from './ports.js';

/** Listens on the port until closed; rejects if it is taken. */
function bind(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve(() => new Promise<void>((done) => server.close(() => done()))),
    );
  });
}

describe('freePort', () => {
  it('hands out distinct ports a process can bind, below the range outgoing connections use', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    const floor = ephemeralFloor();
    // Where the system says (Linux), none from the range its outgoing connections come from.
    if (floor !== undefined) for (const port of ports) expect(port).toBeLessThan(floor);
    const closers = await Promise.all(ports.map(bind));
    await Promise.all(closers.map((close) => close()));
  });

  it('never hands out a port that is bound', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, async () => bind(await freePort())));
    // Many more handed out while those are held: each binds, so none is one of them.
    const more = await Promise.all(Array.from({ length: 30 }, () => freePort()));
    const closers = await Promise.all(more.map(bind));
    await Promise.all([...closers, ...held].map((close) => close()));
  });
});
