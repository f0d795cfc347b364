import { credentials, Metadata } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { startVictimsStack, type VictimsStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names, { gateway: true });
  onCleanup(() => stack.stop());
  return stack;
});

/** A new case in the proto3 JSON mapping, as a REST client writes it. */
const body = {
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

describe('victims through the gateway', () => {
  test('REST: opens a case idempotently, reads it as the officer, refuses the coordinator and bad bodies as problem documents', async ({
    stack: t,
  }) => {
    const rest = async (method: string, path: string, token: string, json?: unknown, key?: string) => {
      const response = await fetch(`${t.http}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(json ? { 'content-type': 'application/json' } : {}),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(json ? { body: JSON.stringify(json) } : {}),
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        json: (await response.json()) as Record<string, unknown>,
      };
    };
    const officer = await t.token(['victim_officer'], 'vs-bayern');
    const opened = await rest('POST', '/v1/victim-cases', officer, body, 'web-form-000001');
    expect(opened.status).toBe(201);
    const { case: summary, reference } = opened.json as {
      case: { id: string; status: string };
      reference: string;
    };
    expect(summary.status).toBe('CASE_STATUS_OPEN');
    const again = await rest('POST', '/v1/victim-cases', officer, body, 'web-form-000001');
    expect((again.json['case'] as { id: string }).id).toBe(summary.id);

    const read = await rest('GET', `/v1/victim-cases/${summary.id}`, officer);
    expect(read.status).toBe(200);
    expect(read.json['case']).toMatchObject({
      id: summary.id,
      reference,
      jurisdiction: 'DE-BY',
      victim: { displayName: 'Jana Nováková', email: 'jana.novakova@example.org' },
    });

    // The gateway's gRPC door serves the same contract.
    const door = new victimsV1.VictimsServiceClient(
      `127.0.0.1:${t.gateway!.grpcPort}`,
      credentials.createInsecure(),
    );
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${officer}`);
    const viaDoor = await new Promise<victimsV1.GetFollowUpResponse>((resolve, reject) =>
      door.getFollowUp({ caseId: summary.id }, metadata, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
    door.close();
    expect(viaDoor.followUp).toMatchObject({ caseId: summary.id, contactAllowed: true });

    const coordinator = await t.token(['coordinator']);
    const denied = await rest('GET', `/v1/victim-cases/${summary.id}`, coordinator);
    expect(denied.status).toBe(403);
    expect(denied.type).toContain('application/problem+json');
    expect(denied.json).toMatchObject({ grpcStatus: 'PERMISSION_DENIED' });
    const stats = await rest('GET', '/v1/victim-stats?incidentId=inc_campaign1', coordinator);
    expect(stats.json).toMatchObject({ cases: 1, byNeed: [{ key: 'financial-loss', cases: 1 }] });
    const other = await rest(
      'GET',
      `/v1/victim-cases/${summary.id}`,
      await t.token(['victim_officer'], 'vs-hessen'),
    );
    expect(other.status).toBe(404);

    // The status by reference, posted (a reference never goes into a URL or an access log).
    const portal = await t.token(['service']);
    const lookup = await rest('POST', '/v1/victim-cases:lookupStatus', portal, {
      reference: reference.toLowerCase(),
    });
    expect(lookup).toMatchObject({ status: 200, json: { status: 'CASE_STATUS_OPEN' } });

    // Bad bodies: the door's schema, then the service's rules, each as a problem document.
    const wrongEnum = await rest('POST', '/v1/victim-cases', officer, {
      case: { ...body.case, victim: { ...body.case.victim, kind: 'VICTIM_KIND_ROBOT' } },
    });
    expect(wrongEnum.status).toBe(400);
    expect(wrongEnum.type).toContain('application/problem+json');
    const hostile = await rest('POST', '/v1/victim-cases', officer, {
      case: {
        ...body.case,
        incidentIds: ['inc_1; db.dropDatabase()'],
        victim: { ...body.case.victim, email: 'x@', displayName: 'a'.repeat(201) },
        needs: [
          { financialLoss: { amountMinor: '-5', currency: 'EURO', paymentMethod: 'PAYMENT_METHOD_CASH' } },
        ],
      },
    });
    expect(hostile.status).toBe(400);
    expect((hostile.json['violations'] as { field: string }[]).map((v) => v.field).sort()).toEqual([
      'case.incident_ids[0]',
      'case.needs[0].financial_loss.amount_minor',
      'case.victim.display_name',
      'case.victim.email',
    ]);
    const notJson = await fetch(`${t.http}/v1/victim-cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
      body: '{"case": ',
    });
    expect(notJson.status).toBe(400);
    const list = await rest('GET', '/v1/victim-cases', officer);
    expect((list.json['cases'] as unknown[]).length).toBe(1);
  });
});
