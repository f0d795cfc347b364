import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

describe('REST bodies are UTF-8 or refused', () => {
  test('a body with an ill-formed byte is refused with 400 naming its offset, not silently replaced; the same body well-formed is served', async ({
    stack,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-a' });
    const post = (body: Buffer) =>
      fetch(`${stack.http}/v1/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    const good = Buffer.from(
      JSON.stringify(reportJson({ title: 'Phishing wave at Sparkasse München' })),
      'utf8',
    );
    // "München" with its ü (C3 BC) cut to a lone lead byte: Latin-1 mistaken for UTF-8.
    const offset = good.indexOf(Buffer.from('ü', 'utf8'));
    const bad = Buffer.concat([good.subarray(0, offset), Buffer.from([0xfc]), good.subarray(offset + 2)]);

    const refused = await post(bad);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({
      status: 400,
      grpcStatus: 'INVALID_ARGUMENT',
      violations: [
        {
          field: '(body)',
          reason: 'INVALID_UTF8',
          description: `is not valid UTF-8: the sequence at byte offset ${offset} is ill-formed`,
        },
      ],
    });

    const served = await post(good);
    expect(served.status).toBe(201);
    expect(await served.json()).toMatchObject({ report: { title: 'Phishing wave at Sparkasse München' } });
  });
});
