import { status, type ServiceError } from '@grpc/grpc-js';
import { Binary } from 'mongodb';
import { describe, expect } from 'vitest';
import { pendingMarksDb } from '@beacon/platform';
import { scrapeMetrics, test as base, waitFor } from '@beacon/testkit';
import { openRequest, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

const OPEN = { grpc_service: 'beacon.intake.v1.IntakeService', grpc_method: 'OpenIncident' } as const;

describe('intake metrics at /metrics', () => {
  test('each RPC is counted by method and status code and timed', async ({ intake: t }) => {
    const before = await scrapeMetrics(t.intake.metricsPort);
    const token = await t.token({ roles: ['coordinator'] });
    await rpc(t, 'openIncident', openRequest(), token);
    await rpc(t, 'openIncident', openRequest(), token);
    const unauthenticated = await rpc(t, 'openIncident', openRequest(), undefined).catch((e: unknown) => e);
    expect((unauthenticated as ServiceError).code).toBe(status.UNAUTHENTICATED);
    const invalid = await rpc(t, 'openIncident', openRequest({ title: '' }), token).catch((e: unknown) => e);
    expect((invalid as ServiceError).code).toBe(status.INVALID_ARGUMENT);

    const after = await scrapeMetrics(t.intake.metricsPort);
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('grpc_server_started_total', { ...OPEN, grpc_type: 'unary' })).toBe(4);
    expect(delta('grpc_server_handled_total', { ...OPEN, grpc_code: 'OK' })).toBe(2);
    expect(delta('grpc_server_handled_total', { ...OPEN, grpc_code: 'UNAUTHENTICATED' })).toBe(1);
    expect(delta('grpc_server_handled_total', { ...OPEN, grpc_code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(delta('grpc_server_handling_seconds_count', OPEN)).toBe(4);
    expect(delta('grpc_server_handling_seconds_sum', OPEN)).toBeGreaterThan(0);
    // Node's own process metrics come with every scrape.
    expect(after.declares('process_cpu_user_seconds_total')).toBe(true);
    expect(after.declares('nodejs_eventloop_lag_seconds')).toBe(true);
    // Label values are methods and codes, never an incident id.
    expect(after.text).not.toMatch(/inc_[0-9a-f]{8}/);
  });

  test('an unpublished event shows as outbox backlog with its age, and clears once relayed', async ({
    intake: t,
    mongoClient,
  }) => {
    const source = { source: 'incidents' };
    await waitFor(
      async () => {
        const scrape = await scrapeMetrics(t.intake.metricsPort);
        if (scrape.series('beacon_outbox_pending_events', source).length !== 1)
          throw new Error('no series yet');
        if (scrape.value('beacon_outbox_pending_events', source) !== 0) throw new Error('backlog not empty');
      },
      { what: 'an empty outbox', timeoutMs: 10_000, intervalMs: 100 },
    );
    // An event written beside its document but not announced to the relay, as a crash between
    // the write and the announcement leaves it (with the mark its writer wrote first), and held
    // by another relay that has stalled: the sweeps see it and cannot publish it.
    const createdAt = new Date(Date.now() - 90_000);
    const db = mongoClient.db(t.dbName);
    const marksDb = pendingMarksDb(mongoClient, t.dbName);
    await marksDb
      .collection<{ _id: string; at: Date }>('incidents_pending_outbox')
      .insertOne({ _id: 'metrics-probe', at: createdAt });
    const incidents = db.collection<{
      _id: string;
      outbox: Record<string, unknown>;
      outboxClaimBy?: string;
      outboxClaimUntil?: Date;
    }>('incidents');
    await incidents.insertOne({
      _id: 'metrics-probe',
      outbox: {
        'probe-1': {
          id: 'probe-1',
          seq: 1,
          subject: 'incident.metrics-probe',
          data: new Binary(Buffer.from('probe')),
          createdAt,
        },
      },
      outboxClaimBy: 'a-stalled-relay',
      outboxClaimUntil: new Date(Date.now() + 60_000),
    });
    // The gauges show what the relay's sweeps saw, with no read of their own: sweep now rather
    // than wait for the period.
    expect(await t.intake.relay.sweep()).toBe(0);
    await waitFor(
      async () => {
        const scrape = await scrapeMetrics(t.intake.metricsPort);
        expect(scrape.value('beacon_outbox_pending_events', source)).toBe(1);
        expect(scrape.value('beacon_outbox_oldest_pending_age_seconds', source)).toBeGreaterThanOrEqual(90);
      },
      { what: 'the backlog at /metrics', timeoutMs: 10_000, intervalMs: 100 },
    );
    await incidents.updateOne(
      { _id: 'metrics-probe' },
      { $unset: { outboxClaimBy: '', outboxClaimUntil: '' } },
    );
    expect(await t.intake.relay.sweep()).toBe(1);
    await waitFor(
      async () => {
        const scrape = await scrapeMetrics(t.intake.metricsPort);
        expect(scrape.value('beacon_outbox_pending_events', source)).toBe(0);
        expect(scrape.value('beacon_outbox_oldest_pending_age_seconds', source)).toBe(0);
      },
      { what: 'the backlog cleared at /metrics', timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});
