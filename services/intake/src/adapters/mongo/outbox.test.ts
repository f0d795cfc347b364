import { Metadata } from '@grpc/grpc-js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { readOutboxEntry, startRpcServerSpan, startTracing, type Tracing } from '@beacon/platform';
import type { Report } from '../../domain/incident.js';
import { openFromReport } from '../../domain/rules.js';
import { encodeEvent } from '../proto-mapping.js';
import { outboxUpdate } from './outbox.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const REPORT: Report = {
  id: 'rep_1',
  incidentId: 'inc_1',
  reporterAgencyId: 'cert-de',
  title: 'Ransomware at a water utility',
  description: '',
  tlp: 'AMBER',
  classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
  sectors: [],
  jurisdictions: [],
  observables: [],
  affectedAssets: [],
  awareAt: NOW,
  submittedAt: NOW,
};
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

let ids = 0;
const encode = (event: Parameters<typeof encodeEvent>[0]) =>
  encodeEvent(event, { id: `e${++ids}`, time: NOW });
const { events } = openFromReport(REPORT, 'inc_1', NOW);

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe('outbox entries', () => {
  it('keep the context of the request that wrote them, for the relay to publish', () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: 'intake', exporter, processor: 'simple' });
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${CALLER_TRACE}-00f067aa0ba902b7-01`);
    const rpc = startRpcServerSpan('/beacon.intake.v1.IntakeService/OpenIncident', metadata)!;
    const { set, count } = rpc.run(() => outboxUpdate(events, encode, NOW, 100));
    rpc.end(0);

    const requestSpan = exporter.getFinishedSpans()[0]!.spanContext().spanId;
    expect(count).toBeGreaterThan(0);
    for (const entry of Object.values(set)) {
      expect(readOutboxEntry(entry).trace).toEqual({ traceparent: `00-${CALLER_TRACE}-${requestSpan}-01` });
    }
  });

  it('carry no context when the process does not trace', () => {
    tracing = startTracing({ serviceName: 'intake', env: {} });
    const { set } = outboxUpdate(events, encode, NOW, 100);
    for (const entry of Object.values(set)) expect(readOutboxEntry(entry)).not.toHaveProperty('trace');
  });

  it('hold what the relay publishes: id, order, subject, the encoded event and its time', () => {
    const encoded: ReturnType<typeof encode>[] = [];
    const { set } = outboxUpdate(events, (e) => encoded[encoded.push(encode(e)) - 1]!, NOW, 300);
    expect(Object.keys(set)).toEqual(encoded.map((e) => `outbox.${e.id}`));
    expect(Object.values(set).map(readOutboxEntry)).toEqual(
      encoded.map((e, i) => ({
        id: e.id,
        seq: 300 + i,
        subject: e.subject,
        data: Buffer.from(e.data),
        createdAt: NOW,
      })),
    );
  });
});
