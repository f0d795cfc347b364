import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { createDevIssuer } from '@beacon/platform';
import { diagnosticsV1, intakeV1 } from '@beacon/proto';
import { scrapeMetrics, test } from '@beacon/testkit';
import { callFrom } from './client.js';
import { http, startTestStack } from './harness.js';

/** A token with a valid shape and key id whose signature does not verify. */
function forged(token: string, i: number): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  bytes.writeUInt16BE(i & 0xffff, 10);
  bytes[0] = bytes[0]! ^ 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

const verifications = async (port: number, outcome: string) =>
  (await scrapeMetrics(port)).value('gateway_token_verifications_total', { outcome });
const refusals = async (port: number, reason: string) =>
  (await scrapeMetrics(port)).value('gateway_refusals_total', { reason });

describe('the front door under a flood of bad tokens', () => {
  test('one address flooding forged tokens is refused without verifying them, while another address is served', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names, {
      AUTH_FAILURES_PER_MINUTE: '10',
      AUTH_FAILURES_BURST: '10',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      ADDRESS_RATE_PER_SECOND: '100000',
      ADDRESS_RATE_BURST: '100000',
    });
    try {
      const port = stack.gateway.metricsPort;
      const good = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const before = await verifications(port, 'refused');

      // Bounded: 400 calls, 16 at a time, from 127.0.0.2; a legitimate caller on 127.0.0.1
      // calls alongside throughout.
      const flood = Array.from({ length: 400 }, (_, i) => forged(good, i));
      const statuses: number[] = [];
      const legitimate: number[] = [];
      let stop = false;
      const bystander = (async () => {
        while (!stop) {
          legitimate.push(
            (await callFrom('127.0.0.1', `${stack.http}/v1/incidents`, { token: good })).status,
          );
        }
      })();
      const started = performance.now();
      const workers = Array.from({ length: 16 }, async () => {
        for (let token = flood.pop(); token; token = flood.pop()) {
          statuses.push((await callFrom('127.0.0.2', `${stack.http}/v1/incidents`, { token })).status);
        }
      });
      await Promise.all(workers);
      stop = true;
      await bystander;
      const seconds = (performance.now() - started) / 1000;

      expect(statuses).toHaveLength(400);
      // Each 401 is a token that was verified; every other call was refused before that.
      const spent = (await verifications(port, 'refused')) - before;
      expect(statuses.filter((s) => s === 401)).toHaveLength(spent);
      expect(statuses.filter((s) => s === 429)).toHaveLength(400 - spent);
      // The burst, plus what refilled while the flood ran (10 a minute), plus the calls already
      // past the budget check when it ran out (16 in flight).
      expect(spent).toBeGreaterThanOrEqual(10);
      expect(spent).toBeLessThanOrEqual(10 + Math.ceil(seconds / 6) + 16);
      expect(await refusals(port, 'failed_verifications')).toBe(400 - spent);

      expect(legitimate.length).toBeGreaterThan(0);
      expect(legitimate.every((s) => s === 200)).toBe(true);

      // The flooding address is refused with 429 and Retry-After even with a good token …
      const refused = await callFrom('127.0.0.2', `${stack.http}/v1/incidents`, { token: good });
      expect(refused.status).toBe(429);
      expect(refused.headers['content-type']).toBe('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.parse(refused.text)).toMatchObject({ grpcStatus: 'RESOURCE_EXHAUSTED' });
      // … and the metrics carry reasons, never addresses.
      expect((await scrapeMetrics(port)).text).not.toContain('127.0.0.2');
    } finally {
      await stack.stop();
    }
  });

  test('malformed tokens, alg none, embedded keys and unknown key ids are refused before any verification', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names);
    try {
      const port = stack.gateway.metricsPort;
      const good = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const [, payload, signature] = good.split('.') as [string, string, string];
      const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
      const kid = stack.issuer.jwks.keys[0]!.kid!;
      const stranger = await createDevIssuer({});
      const bad = [
        'not-a-jwt',
        `${header({ alg: 'none', kid })}.${payload}.`,
        `${header({ alg: 'HS256', kid })}.${payload}.${signature}`,
        `${header({ alg: 'ES256', kid, jwk: stack.issuer.jwks.keys[0] })}.${payload}.${signature}`,
        `${header({ alg: 'ES256' })}.${payload}.${signature}`,
        await stranger.mint({ subject: 'x', roles: ['coordinator'], clearance: 'RED' }),
      ];
      const before = await scrapeMetrics(port);
      for (const token of bad) {
        const response = await http(stack, 'GET', '/v1/incidents', { token });
        expect(response.status).toBe(401);
      }
      const after = await scrapeMetrics(port);
      const delta = (name: string, labels: Record<string, string>) =>
        after.value(name, labels) - before.value(name, labels);
      expect(delta('gateway_token_verifications_total', { outcome: 'refused' })).toBe(0);
      expect(delta('gateway_refusals_total', { reason: 'malformed_token' })).toBe(5);
      expect(delta('gateway_refusals_total', { reason: 'unknown_key' })).toBe(1);
      // The issuer's own token is still served.
      expect((await http(stack, 'GET', '/v1/incidents', { token: good })).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});

describe('limits per address, per subject, and shared', () => {
  test('an address over its rate gets 429 before its token is looked at; another address is served', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names, {
      ADDRESS_RATE_PER_SECOND: '1',
      ADDRESS_RATE_BURST: '3',
    });
    try {
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const url = `${stack.http}/v1/incidents`;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await callFrom('127.0.0.2', url, { token })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await callFrom('127.0.0.2', url);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      expect((await callFrom('127.0.0.1', url, { token })).status).toBe(200);
      // Without a trusted proxy configured, X-Forwarded-For buys no fresh budget.
      const spoofed = await callFrom('127.0.0.2', url, {
        token,
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(spoofed.status).toBe(429);
      // What the gateway answers itself without a token: the costly parts take from the same
      // budget, liveness does not (a probe must always get through).
      expect((await callFrom('127.0.0.2', `${stack.http}/openapi.json`)).status).toBe(429);
      expect((await callFrom('127.0.0.2', `${stack.http}/readyz`)).status).toBe(429);
      expect((await callFrom('127.0.0.2', `${stack.http}/healthz`)).status).toBe(200);
      expect((await callFrom('127.0.0.1', `${stack.http}/openapi.json`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  test('behind a trusted proxy, each forwarded client has its own budget', async ({ infra, names }) => {
    const stack = await startTestStack(infra, names, {
      ADDRESS_RATE_PER_SECOND: '1',
      ADDRESS_RATE_BURST: '2',
      TRUSTED_PROXIES: '127.0.0.3/32',
    });
    try {
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const url = `${stack.http}/v1/incidents`;
      const via = (client: string) =>
        callFrom('127.0.0.3', url, { token, headers: { 'x-forwarded-for': `198.51.100.1, ${client}` } });
      expect([(await via('203.0.113.1')).status, (await via('203.0.113.1')).status]).toEqual([200, 200]);
      expect((await via('203.0.113.1')).status).toBe(429);
      // Another client behind the same proxy is served; the client chose only the left part.
      expect((await via('203.0.113.2')).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  test('a subject over its rate gets RESOURCE_EXHAUSTED over gRPC; another subject is served', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names, { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2' });
    try {
      const list = (token: string) =>
        new Promise<ServiceError | null>((resolve) => {
          const metadata = new Metadata();
          metadata.set('authorization', `Bearer ${token}`);
          stack.grpc.listIncidents(
            intakeV1.ListIncidentsRequest.fromPartial({ pageSize: 1 }),
            metadata,
            (e) => resolve(e),
          );
        });
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      expect(await list(token)).toBeNull();
      expect(await list(token)).toBeNull();
      const refused = await list(token);
      expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused?.metadata.get('retry-after')).toEqual(['1']);
      expect(await list(await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-de' }))).toBeNull();
    } finally {
      await stack.stop();
    }
  });
});

describe('what the public door does not serve', () => {
  test('Echo and GetServerInfo are not on the gateway’s gRPC port; the service behind serves them', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names);
    const info = (port: number) =>
      new Promise<{ error: ServiceError | null; component?: string }>((resolve) => {
        const client = new diagnosticsV1.DiagnosticsServiceClient(
          `127.0.0.1:${port}`,
          credentials.createInsecure(),
        );
        client.getServerInfo({}, (error, response) => {
          client.close();
          resolve({ error, component: response?.component });
        });
      });
    try {
      const atGateway = await info(stack.gateway.grpcPort);
      expect(atGateway.error?.code).toBe(status.UNIMPLEMENTED);
      expect(await info(stack.intake.port)).toMatchObject({ error: null, component: 'intake' });
    } finally {
      await stack.stop();
    }
  });

  test('a 1 MiB body of unknown keys gets a small problem naming the first violations', async ({
    infra,
    names,
  }) => {
    const stack = await startTestStack(infra, names);
    try {
      const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
      const body: Record<string, number> = {};
      for (let i = 0, size = 0; size < 1_000_000; i++) {
        const key = `k${i}_${'x'.repeat(40)}`;
        body[key] = i;
        size += key.length + String(i).length + 4;
      }
      const response = await fetch(`${stack.http}/v1/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, text.slice(0, 200)).toBe(400);
      expect(text.length).toBeLessThan(8_192);
      const problem = JSON.parse(text) as { violations: { reason: string }[]; detail: string };
      expect(problem.violations).toHaveLength(20);
      expect(problem.violations[0]).toMatchObject({ reason: 'UNKNOWN_FIELD' });
      expect(problem.detail).toMatch(/and \d+ more$/);
      // One long key: its name is cut in the answer.
      const long = await http(stack, 'POST', '/v1/reports', { token, body: { ['y'.repeat(500_000)]: 1 } });
      expect(long.status).toBe(400);
      expect(JSON.stringify(long.body).length).toBeLessThan(4_096);
    } finally {
      await stack.stop();
    }
  });
});
