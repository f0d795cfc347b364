import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port handed out from below the kernel's ephemeral range. */
const FLOOR = 20_000;
/** Ports this process handed out, never handed out twice. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Taken from below the kernel's ephemeral
 * range where there is room (Linux: `ip_local_port_range`, usually from 32768): a port the
 * kernel picks for `listen(0)` comes from that range, which is also where it picks the local end
 * of every outgoing connection, so under load (a bench opens thousands) such a port was taken
 * by a connection before the process it was for could bind it (EADDRINUSE, seen in a bench). A
 * port below the range goes only to a process that asks for it by number.
 */
export async function freePort(): Promise<number> {
  const ceiling = ephemeralFloor();
  if (ceiling !== undefined && ceiling - FLOOR >= 1_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = FLOOR + Math.floor(Math.random() * (ceiling - FLOOR));
      if (handedOut.has(port)) continue;
      if ((await listenOn(port)) !== undefined) {
        handedOut.add(port);
        return port;
      }
    }
  }
  const port = await listenOn(0);
  if (port === undefined) throw new Error('no port assigned');
  return port;
}

/** The first port of the kernel's ephemeral range, where the system says. */
export function ephemeralFloor(): number | undefined {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** Binds `port` on 127.0.0.1 (0: one the kernel picks) and lets it go: the port, or undefined if taken. */
function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}
