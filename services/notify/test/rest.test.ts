import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { startStack, type Stack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

describe('notify through the gateway’s REST door', () => {
  test('registers an agency in the proto3 JSON mapping, never returns its webhook secrets, and refuses bad input as problem documents', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    const rest = async (method: string, path: string, token: string, body?: unknown) => {
      const response = await fetch(`${t.http}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        json: (await response.json()) as Record<string, unknown>,
      };
    };
    const agency = {
      id: 'cert-by',
      name: 'Bavarian CERT',
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: ['DE-BY'],
      sectors: ['energy'],
      clearance: 'TLP_AMBER',
      contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@cert-by.example' }],
      channels: {
        webhook: {
          url: 'https://hooks.cert-by.example/beacon',
          secrets: [{ id: 'k1', secret: 's'.repeat(40) }],
        },
      },
    };
    const created = await rest('POST', '/v1/agencies', cc, { agency });
    expect(created.status).toBe(200);
    const read = await rest('GET', '/v1/agencies/cert-by', cc);
    expect(read.json['agency']).toMatchObject({ id: 'cert-by', clearance: 'TLP_AMBER', version: 1 });
    expect(JSON.stringify(read.json)).not.toContain('s'.repeat(40));

    const own = await rest('GET', '/v1/agencies/cert-by', await t.token(['agency_analyst'], 'cert-by'));
    expect(own.status).toBe(200);
    const other = await rest('GET', '/v1/agencies/cert-by', await t.token(['agency_analyst'], 'lka-by'));
    expect(other.status).toBe(404);

    const bad = await rest('POST', '/v1/agencies', cc, {
      agency: {
        ...agency,
        id: 'Bad Id',
        channels: {
          webhook: { url: 'http://169.254.169.254/latest', secrets: [{ id: 'k', secret: 'short' }] },
        },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    const fields = (bad.json['violations'] as { field: string }[]).map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining(['agency.id', 'agency.channels.webhook.secrets[0].secret']),
    );
    const count = await rest('GET', '/v1/agencies', cc);
    expect((count.json['agencies'] as unknown[]).length).toBe(1);
  });
});
