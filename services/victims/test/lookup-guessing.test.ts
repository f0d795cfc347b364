import { request } from 'node:http';
import { describe, expect } from 'vitest';
import { scrapeMetrics, test as base } from '@beacon/testkit';
import { startVictimsStack, type VictimsStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names, { gateway: true });
  onCleanup(() => stack.stop());
  return stack;
});

/**
 * One REST call from a chosen loopback address (Linux routes all of 127.0.0.0/8 to `lo`), so
 * that the gateway sees two clients.
 */
function post(
  from: string,
  url: string,
  token: string,
  json: unknown,
  extra: Record<string, string> = {},
): Promise<{ status: number; retryAfter: string | undefined; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(json));
  });
}

const newCase = {
  case: {
    incidentIds: ['inc_campaign1'],
    jurisdiction: 'de-by',
    language: 'de',
    victim: {
      kind: 'VICTIM_KIND_PERSON',
      displayName: 'Jana Nováková',
      email: 'jana.novakova@example.org',
      preferredChannel: 'CONTACT_CHANNEL_EMAIL',
    },
    needs: [
      {
        financialLoss: {
          amountMinor: '185000',
          currency: 'EUR',
          paymentMethod: 'PAYMENT_METHOD_CARD',
          paidAt: '2026-03-01T10:00:00Z',
        },
      },
    ],
    consents: [{ purpose: 'CONSENT_PURPOSE_CONTACT', granted: true, wordingVersion: 'v2026-01' }],
  },
};

describe('guessing victims’ case references', () => {
  test('failed look-ups are limited per caller and per address, audited under a hash; others are served', async ({
    stack: t,
    mongoClient,
  }) => {
    const officer = await t.token(['victim_officer'], 'vs-bayern');
    const opened = await post('127.0.0.1', `${t.http}/v1/victim-cases`, officer, newCase);
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const reference = opened.body['reference'] as string;
    const lookup = `${t.http}/v1/victim-cases:lookupStatus`;

    // A guesser on 127.0.0.2 spends its 10 failed look-ups (well-formed guesses and typos alike) …
    const guesser = await t.token(['victim_officer'], 'vs-hessen', 'guesser');
    const guesses = Array.from({ length: 12 }, (_, i) => `VC-0000-0000-0000-${String(1000 + i)}`);
    const statuses: number[] = [];
    for (const guess of guesses)
      statuses.push((await post('127.0.0.2', lookup, guesser, { reference: guess })).status);
    expect(statuses.slice(0, 10).every((s) => s === 404 || s === 400)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // … after which even its right reference is refused, with a time to come back.
    const refused = await post('127.0.0.2', lookup, guesser, { reference });
    expect(refused).toMatchObject({ status: 429, body: { grpcStatus: 'RESOURCE_EXHAUSTED' } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // Another person on the same address is refused too (the address's budget is spent) …
    const neighbour = await t.token(['victim_officer'], 'vs-hessen', 'neighbour');
    expect((await post('127.0.0.2', lookup, neighbour, { reference })).status).toBe(429);
    // (Naming another address in the gateway's own metadata buys nothing: the door sets it.)
    const spoofed = await post(
      '127.0.0.2',
      lookup,
      neighbour,
      { reference },
      { 'x-beacon-client-address': '203.0.113.7' },
    );
    expect(spoofed.status).toBe(429);
    // … while the guesser from elsewhere is still refused (its own budget is spent), and
    // another person elsewhere is served.
    expect((await post('127.0.0.1', lookup, guesser, { reference })).status).toBe(429);
    const served = await post('127.0.0.1', lookup, officer, { reference });
    expect(served).toMatchObject({ status: 200, body: { status: 'CASE_STATUS_OPEN' } });

    // Counted by outcome, never by caller or address.
    const scrape = await scrapeMetrics(t.victims.metricsPort);
    const outcomes = (outcome: string) => scrape.value('beacon_victims_status_lookups_total', { outcome });
    expect([outcomes('found'), outcomes('failed'), outcomes('refused')]).toEqual([1, 10, 6]);
    expect(scrape.text).not.toContain('guesser');

    // Each failure is on the audit record, by whom, with a keyed hash of the guess, never the guess.
    const audit = await mongoClient
      .db(t.db)
      .collection<{ action: string; actor: string; detail: string }>('audit')
      .find({ action: 'lookup-failed' })
      .toArray();
    expect(audit).toHaveLength(10);
    expect(audit.every((r) => r.actor === 'guesser' && /^reference hash \S+$/.test(r.detail))).toBe(true);
    const text = JSON.stringify(audit);
    for (const guess of guesses) expect(text).not.toContain(guess.slice(3));
    expect(new Set(audit.map((r) => r.detail)).size).toBe(10);
  });
});
