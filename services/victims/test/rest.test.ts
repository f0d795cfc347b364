import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { run } from '@beacon/cli';
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
    // One victim: every count of people is suppressed, never shown as 1
    expect(stats.json).toMatchObject({
      casesSuppressed: true,
      suppressionThreshold: 5,
      byNeed: [{ key: 'financial-loss', suppressed: true }],
    });
    expect(stats.json).not.toHaveProperty('cases');
    const other = await rest(
      'GET',
      `/v1/victim-cases/${summary.id}`,
      await t.token(['victim_officer'], 'vs-hessen'),
    );
    expect(other.status).toBe(404);

    // The status by reference, posted (a reference never goes into a URL or an access log), by a
    // person: a service identity (a victim portal's) is refused at the public door and calls
    // victims on the internal network instead.
    const lookup = await rest('POST', '/v1/victim-cases:lookupStatus', officer, {
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

  test('CLI: imports a JSON Lines file of victims idempotently, saves their references, then shows counts and a status', async ({
    stack: t,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'beacon-victims-cli-'));
    try {
      const beacon = async (token: string, argv: string[]) => {
        let stdout = '';
        let stderr = '';
        const code = await run(argv, {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
          env: { BEACON_URL: t.http, BEACON_TOKEN: token },
          isTTY: false,
          cwd: dir,
        });
        return { code, stdout, stderr };
      };
      const line = (i: number, extra: Record<string, unknown> = {}) =>
        JSON.stringify({ ...body.case, reportIds: [`rep_cli${i}`], ...extra });
      await writeFile(
        join(dir, 'victims.jsonl'),
        [line(1), line(2), '', line(3, { jurisdiction: 'Atlantis' }), '{not json', line(4)].join('\n') + '\n',
      );
      const officer = await t.token(['victim_officer'], 'vs-bayern');
      const first = await beacon(officer, [
        'victims',
        'import',
        '--file',
        'victims.jsonl',
        '--references',
        'refs.csv',
      ]);
      expect(first.code).toBe(1);
      expect(first.stdout).toContain('5 lines: 3 cases opened, 0 opened before, 2 refused');
      expect(first.stdout).toContain('victims.jsonl:4: case.jurisdiction: is not an ISO 3166 code');
      expect(first.stdout).toContain('victims.jsonl:5: (line): is not JSON');
      const refs = (await readFile(join(dir, 'refs.csv'), 'utf8')).trim().split('\n');
      expect(refs[0]).toBe('line,case_id,reference');
      expect(refs.slice(1).map((r) => r.split(',')[0])).toEqual(['1', '2', '6']);
      expect((await stat(join(dir, 'refs.csv'))).mode & 0o777).toBe(0o600);
      // The same file again opens nothing new.
      const again = await beacon(officer, ['victims', 'import', '--file', 'victims.jsonl']);
      expect(again.stdout).toContain('5 lines: 0 cases opened, 3 opened before, 2 refused');

      const coordinator = await t.token(['coordinator']);
      const stats = await beacon(coordinator, ['victims', 'stats', '--incident', 'inc_campaign1']);
      expect(stats).toMatchObject({ code: 0 });
      // three victims: under the threshold, printed as such, never as 3 (nor as 0)
      expect(stats.stdout).toContain('<5 cases, 0 urgent, 0 erased');
      expect(stats.stdout).toContain('needs: financial-loss <5');
      expect(stats.stdout).not.toMatch(/\b3\b/);
      const reference = refs[1]!.split(',')[2]!;
      const status = await beacon(officer, ['victims', 'status', reference.toLowerCase()]);
      expect(status).toMatchObject({ code: 0, stdout: 'open\n' });
      const typo = await beacon(officer, ['victims', 'status', 'VC-0000-0000-0000-0001']);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain('check symbol');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
