import { request } from 'node:http';

export interface RawResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/**
 * One REST call from a chosen loopback address: Linux routes all of 127.0.0.0/8 to `lo`, so a
 * socket bound to 127.0.0.2 is, to the gateway, another client than one on 127.0.0.1.
 */
export function callFrom(
  localAddress: string,
  url: string,
  options: { token?: string; method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        localAddress,
        // A fresh connection per call: nothing shared between the two clients.
        agent: false,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
