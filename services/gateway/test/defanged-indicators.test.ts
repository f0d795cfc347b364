import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

interface ObservableJson {
  type: string;
  value: string;
  reported?: string;
}
interface IncidentJson {
  id: string;
  reportIds: string[];
  observables: ObservableJson[];
}
interface SubmitJson {
  report: { id: string; incidentId: string; observables: ObservableJson[] };
  incident: IncidentJson;
  attached?: boolean;
}

const DEFANGED = 'hxxps://evil[.]example[.]com/login';
const CANONICAL = 'https://evil.example.com/login';

async function submit(stack: TestStack, token: string, observables: ObservableJson[]) {
  const created = await http(stack, 'POST', '/v1/reports', {
    token,
    body: reportJson({ title: 'Credential phishing against a bank', observables }),
  });
  expect(created.status).toBe(201);
  return created.body as unknown as SubmitJson;
}

describe('defanged indicators through the REST door', () => {
  test('a defanged and a plain report of one URL land in one incident, which shows what was reported', async ({
    stack,
  }) => {
    const cert = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const bank = await stack.token({ roles: ['agency_analyst'], agencyId: 'csirt-bank' });

    const first = await submit(stack, cert, [{ type: 'url', value: DEFANGED }]);
    const reported = { type: 'url', value: CANONICAL, reported: DEFANGED };
    expect(first.report.observables).toEqual([reported]);
    expect(first.incident.observables).toEqual([reported]);

    // Same label (GREEN), the plain spelling: it joins the first report's incident.
    const second = await submit(stack, bank, [{ type: 'url', value: CANONICAL }]);
    expect(second.attached).toBe(true);
    expect(second.incident.id).toBe(first.incident.id);
    expect(second.report.observables).toEqual([{ type: 'url', value: CANONICAL }]);

    const read = await http(stack, 'GET', `/v1/incidents/${first.incident.id}`, { token: bank });
    expect(read.status).toBe(200);
    const incident = read.body['incident'] as IncidentJson;
    expect(incident.reportIds).toEqual([first.report.id, second.report.id]);
    expect(incident.observables).toEqual([reported]);

    // Only one incident exists for the campaign.
    const listed = await http(stack, 'GET', '/v1/incidents?pageSize=50', { token: cert });
    expect((listed.body['incidents'] as IncidentJson[]).map((i) => i.id)).toEqual([first.incident.id]);

    // The watchlist answers a defanged lookup with the canonical indicator and both sightings.
    const lookup = await http(stack, 'POST', '/v1/indicators:lookup', {
      token: cert,
      body: { observable: { type: 'url', value: 'hxxps[://]evil(.)example(.)com/login' } },
    });
    expect(lookup.status).toBe(200);
    expect(lookup.body['observable']).toEqual({ type: 'url', value: CANONICAL });
    expect((lookup.body['sightings'] as { reportId: string }[]).map((s) => s.reportId).sort()).toEqual(
      [first.report.id, second.report.id].sort(),
    );
  });

  test('a plain report first, then defanged spellings of its indicators: one incident throughout', async ({
    stack,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const opened = await submit(stack, token, [
      { type: 'domain', value: 'evil.example.com' },
      { type: 'ipv4', value: '192.0.2.1' },
      { type: 'email', value: 'billing@evil.example.com' },
    ]);
    const spellings: ObservableJson[] = [
      { type: 'domain', value: 'evil[.]example[.]com' },
      { type: 'domain', value: 'EVIL(dot)example(dot)com' },
      { type: 'domain', value: 'evil . example . com' },
      { type: 'ipv4', value: '192[.]0[.]2[.]1' },
      { type: 'ipv4', value: '192.0.2[.]1' },
      { type: 'email', value: 'billing[at]evil[dot]example[dot]com' },
      { type: 'email', value: 'Billing[@]evil[.]example[.]com' },
    ];
    for (const spelling of spellings) {
      const joined = await submit(stack, token, [spelling]);
      expect(joined.attached).toBe(true);
      expect(joined.incident.id).toBe(opened.incident.id);
      expect(joined.report.observables).toEqual([
        expect.objectContaining({ type: spelling.type, reported: spelling.value }),
      ]);
    }
    const read = await http(stack, 'GET', `/v1/incidents/${opened.incident.id}`, { token });
    const incident = read.body['incident'] as IncidentJson;
    expect(incident.reportIds).toHaveLength(1 + spellings.length);
    // The first report's plain forms stay: each indicator once, nothing reported differently.
    expect(incident.observables).toEqual([
      { type: 'domain', value: 'evil.example.com' },
      { type: 'ipv4', value: '192.0.2.1' },
      { type: 'email', value: 'billing@evil.example.com' },
    ]);
  });

  test('refuses what refanging does not make an indicator, naming it, and stores nothing', async ({
    stack,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const refused = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({
        observables: [
          { type: 'url', value: DEFANGED },
          { type: 'ipv4', value: '999[.]1[.]1[.]1' },
          { type: 'domain', value: 'evil[.][.]com' },
        ],
      }),
    });
    expect(refused.status).toBe(400);
    const violations = (refused.body['violations'] as { field: string; reason: string }[]).map((v) => [
      v.field,
      v.reason,
    ]);
    expect(violations).toEqual([
      ['observables[1]', 'INVALID_OBSERVABLE'],
      ['observables[2]', 'INVALID_OBSERVABLE'],
    ]);
    const listed = await http(stack, 'GET', '/v1/incidents', { token });
    expect(listed.body['incidents'] ?? []).toEqual([]);
  });
});
