import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import type { notifyV1 } from '@beacon/proto';
import { fieldViolations } from '@beacon/platform';
import { test as base, waitFor } from '@beacon/testkit';
import { startReceiver } from './delivery-kit.js';
import { agency, call, openIncident, startStack, subscription, type Stack } from './harness.js';

// Only this one loopback address is allowed, so that every other loopback spelling below is
// refused although it is a loopback address too.
const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names, { WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32' });
  onCleanup(() => stack.stop());
  return stack;
});

const SECRET = { id: 'k1', secret: 's'.repeat(40) };
const withWebhook = (id: string, url: string) =>
  agency(id, 'GREEN', { channels: { webhook: { url, secrets: [SECRET] }, email: undefined } });

async function refusal(promise: Promise<unknown>): Promise<{ code: number; fields: string[] }> {
  try {
    await promise;
  } catch (error) {
    const e = error as ServiceError;
    return { code: e.code, fields: fieldViolations(e.metadata).map((v) => v.field) };
  }
  throw new Error('the registration was accepted');
}

describe('webhook URLs are judged when they are registered', () => {
  test('an IP literal that is not public is refused naming the field, in every spelling; the allowed block and a public host name are accepted', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    const put = (a: notifyV1.Agency) =>
      call(t.notifyClient, 'putAgency', { agency: a, expectedVersion: 0 }, cc);
    const forbidden = {
      loopback: 'http://127.0.0.2/hook',
      'loopback, decimal': 'http://2130706434/hook',
      'loopback, hex': 'http://0x7f.0.0.2/hook',
      'loopback, octal': 'http://0177.0.0.2/hook',
      'loopback, IPv6': 'http://[::1]/hook',
      'loopback, IPv4-mapped IPv6': 'http://[::ffff:127.0.0.2]/hook',
      private: 'https://10.1.2.3/hook',
      'private 192.168': 'https://192.168.1.10/hook',
      'carrier-grade NAT': 'https://100.64.0.1/hook',
      'link-local': 'http://169.254.10.10/hook',
      'cloud metadata': 'http://169.254.169.254/latest/meta-data/',
      'cloud metadata, IPv6': 'http://[fd00:ec2::254]/latest/meta-data/',
      'cloud metadata, IPv4-mapped IPv6': 'http://[::ffff:169.254.169.254]/',
      'unique-local': 'https://[fd12:3456::1]/hook',
      'link-local IPv6': 'https://[fe80::1]/hook',
      unspecified: 'http://0.0.0.0/hook',
    };
    let n = 0;
    for (const [kind, url] of Object.entries(forbidden)) {
      const answer = await refusal(put(withWebhook(`refused-${n++}`, url)));
      expect(answer, kind).toEqual({
        code: status.INVALID_ARGUMENT,
        fields: ['agency.channels.webhook.url'],
      });
    }
    // Nothing of the refused registrations was stored.
    const { agencies } = await call<notifyV1.ListAgenciesResponse>(
      t.notifyClient,
      'listAgencies',
      { pageSize: 200, pageToken: '' },
      cc,
    );
    expect(agencies.filter((a) => a.id.startsWith('refused-'))).toEqual([]);

    // The allowed block, and a public host name (judged at delivery, once resolved).
    const allowed = await put(withWebhook('allowed-loopback', 'http://127.0.0.1:9/hook'));
    expect(allowed).toMatchObject({ agency: { channels: { webhook: { url: 'http://127.0.0.1:9/hook' } } } });
    const publicName = await put(withWebhook('public-name', 'https://hooks.example.org/beacon'));
    expect(publicName).toMatchObject({
      agency: { channels: { webhook: { url: 'https://hooks.example.org/beacon' } } },
    });
  });
});

describe('a receiver’s answer is never shown back', () => {
  test('ListDeliveries carries the status and timing of an attempt, not the body the receiver sent', async ({
    stack: t,
  }) => {
    const receiver = await startReceiver(() => 500);
    try {
      const cc = await t.token(['coordinator']);
      const analyst = await t.token(['agency_analyst'], 'cert-hook');
      await call(
        t.notifyClient,
        'putAgency',
        { agency: withWebhook('cert-hook', `${receiver.origin}/hook`), expectedVersion: 0 },
        cc,
      );
      await call(t.notifyClient, 'putSubscription', { subscription: subscription('cert-hook', 'all') }, cc);
      const incident = await openIncident(t, cc, 'GREEN');

      const deliveries = await waitFor(
        async () => {
          const { deliveries } = await call<notifyV1.ListDeliveriesResponse>(
            t.notifyClient,
            'listDeliveries',
            { agencyId: 'cert-hook', incidentId: incident.id },
            analyst,
          );
          const webhook = deliveries.filter((d) => d.channel === 'webhook');
          if (webhook.length === 0) throw new Error('no webhook attempt recorded yet');
          return webhook;
        },
        { what: 'a recorded webhook attempt', timeoutMs: 20_000, intervalMs: 50 },
      );
      expect(receiver.requests.length).toBeGreaterThan(0);
      const [first] = deliveries;
      expect(first).toMatchObject({
        outcome: 'failed',
        attempt: 1,
        detail: `HTTP 500 from ${receiver.origin}`,
      });
      expect(first!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(first!.at!.getTime()).toBeGreaterThan(Date.now() - 60_000);
      // The receiver answered "failing on purpose": none of it comes back.
      expect(JSON.stringify(deliveries)).not.toContain('failing on purpose');
    } finally {
      await receiver.close();
    }
  });
});
