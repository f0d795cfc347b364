import { describe, expect, it } from 'vitest';
import { waitFor } from './wait.js';

describe('waitFor', () => {
  it('returns the first successful attempt', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        return 'ready';
      },
      { what: 'thing', timeoutMs: 5_000, intervalMs: 1 },
    );
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('times out with the last failure in the message', async () => {
    await expect(
      waitFor(async () => Promise.reject(new Error('connection refused')), {
        what: 'nats',
        timeoutMs: 20,
        intervalMs: 5,
      }),
    ).rejects.toThrow(/^nats: not ready within 20 ms \(last error: connection refused\)$/);
  });

  it('gives up at once when abortIf reports a reason', async () => {
    let calls = 0;
    await expect(
      waitFor(
        async () => {
          calls += 1;
          throw new Error('refused');
        },
        {
          what: 'mongo',
          timeoutMs: 60_000,
          intervalMs: 1,
          abortIf: () => (calls > 0 ? 'process exited' : undefined),
        },
      ),
    ).rejects.toThrow('mongo: process exited');
    expect(calls).toBe(1);
  });
});
