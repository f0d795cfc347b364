import { describe, expect } from 'vitest';
import { intakeV1 } from '@beacon/proto';
import { scrapeMetrics, test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

describe('gateway metrics at /metrics', () => {
  test('REST requests are counted and timed by route template and status, never by raw path', async ({
    stack,
  }) => {
    const port = stack.gateway.metricsPort;
    const before = await scrapeMetrics(port);
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const created = await http(stack, 'POST', '/v1/reports', { token, body: reportJson() });
    expect(created.status).toBe(201);
    const id = String((created.body['incident'] as { id: string }).id);
    expect((await http(stack, 'GET', `/v1/incidents/${id}`, { token })).status).toBe(200);
    expect((await http(stack, 'GET', '/v1/incidents/inc_doesnotexist', { token })).status).toBe(404);
    expect((await http(stack, 'GET', `/v1/incidents/${id}`)).status).toBe(401);
    expect((await http(stack, 'GET', '/v1/nowhere/at-all')).status).toBe(404);
    expect((await http(stack, 'DELETE', '/v1/reports')).status).toBe(405);
    expect((await http(stack, 'PROPFIND', '/v1/reports')).status).toBe(405);

    const after = await scrapeMetrics(port);
    const delta = (labels: Record<string, string>) =>
      after.value('http_server_requests_total', labels) - before.value('http_server_requests_total', labels);
    const incident = { method: 'GET', route: '/v1/incidents/{incident_id}' };
    expect(delta({ method: 'POST', route: '/v1/reports', status: '201' })).toBe(1);
    expect(delta({ ...incident, status: '200' })).toBe(1);
    expect(delta({ ...incident, status: '404' })).toBe(1);
    expect(delta({ ...incident, status: '401' })).toBe(1);
    expect(delta({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(delta({ method: 'DELETE', route: '/v1/reports', status: '405' })).toBe(1);
    // Any method outside the usual few is one label value, whatever it is.
    expect(delta({ method: 'other', route: '/v1/reports', status: '405' })).toBe(1);
    expect(
      after.value('http_server_request_duration_seconds_count', incident) -
        before.value('http_server_request_duration_seconds_count', incident),
    ).toBe(3);
    expect(after.text).not.toContain(id);
    expect(after.text).not.toContain('nowhere');
    expect(after.text).not.toContain('PROPFIND');
  });

  test('the gRPC door is counted per method and code', async ({ stack }) => {
    const port = stack.gateway.metricsPort;
    const labels = {
      grpc_service: 'beacon.intake.v1.IntakeService',
      grpc_method: 'ListIncidents',
      grpc_code: 'UNAUTHENTICATED',
    };
    const before = (await scrapeMetrics(port)).value('grpc_server_handled_total', labels);
    const error = await new Promise<unknown>((resolve) =>
      stack.grpc.listIncidents(intakeV1.ListIncidentsRequest.fromPartial({ pageSize: 1 }), (e) => resolve(e)),
    );
    expect(error).toBeTruthy();
    expect((await scrapeMetrics(port)).value('grpc_server_handled_total', labels)).toBe(before + 1);
  });
});
