/**
 * One incident's path as one trace: the services, the relay, the starter, the Temporal worker
 * and notify run in this process against the run's real NATS, Mongo-wire store and Temporal
 * dev server, tracing into an in-memory exporter. The incident is opened through the gateway's
 * REST door with a caller's `traceparent`; every span of its path must carry that trace id and
 * hang off the span that caused it.
 */
import { jetstream } from '@nats-io/jetstream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { startTracing, type Tracing } from '@beacon/platform';
import { eventsV1 } from '@beacon/proto';
import { test, waitFor } from '@beacon/testkit';
import { rest, startResponseStack } from './support/stack.js';

/** The caller's trace: the test plays a traced client in front of the gateway. */
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

/** A span's parent span id (the 1.x SDK's field). */
const parentOf = (span: ReadableSpan) => span.parentSpanId;

describe('tracing one incident through every service', () => {
  test('the gateway, intake, Mongo, the relay, the starter, the workflow and its activities, and notify’s fan-out to a feed share one trace', async ({
    infra,
    names,
    nats,
    jsm: _jsm,
  }) => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: 'beacon-e2e', exporter, processor: 'simple' });
    const s = await startResponseStack(infra, names);
    try {
      const cc = await s.token(['coordinator']);
      const agency = 'cert-bayern';
      expect(
        (
          await rest(s, 'POST', '/v1/agencies', cc, {
            agency: {
              id: agency,
              name: 'CERT Bayern',
              kind: 'AGENCY_KIND_CSIRT',
              jurisdictions: ['DE-BY'],
              sectors: ['water-and-wastewater'],
              clearance: 'TLP_RED',
              contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@cert-bayern.example' }],
            },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await rest(s, 'POST', '/v1/subscriptions', cc, {
            subscription: { id: 'opened', agencyId: agency, eventTypes: ['incident.opened'] },
          })
        ).status,
      ).toBe(200);

      const response = await fetch(`${s.http}/v1/incidents`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${cc}`,
          'content-type': 'application/json',
          traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`,
        },
        body: JSON.stringify({
          title: 'Ransomware at a regional water works',
          tlp: 'TLP_GREEN',
          classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
          sectors: ['water-and-wastewater'],
          jurisdictions: ['DE-BY'],
          severityInputs: NCISS_BASELINE,
          awareAt: new Date(Date.now() - 3_600_000).toISOString(),
        }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      const incidentId = ((await response.json()) as { incident: { id: string } }).incident.id;

      const opened = `${s.events.root}.incident.opened`;
      // The agency's feed: beacon.feed.<agency>.<incident>.<label>.<domain>.<event>.
      const feedSubject = `${s.feeds.root}.${agency}.*.*.incident.opened`;
      const feedCopy = new RegExp(
        `^publish ${s.feeds.root}[.]${agency}[.]inc_[0-9a-f]+[.]green[.]incident[.]opened$`,
      );
      const starterGroup = names.stream('starter');
      const fanOutGroup = names.stream('fanout');
      const inTrace = () =>
        exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === CALLER_TRACE_ID);
      const one = (what: string, match: (span: ReadableSpan) => boolean) => {
        const found = inTrace().filter(match);
        if (found.length === 0) {
          throw new Error(
            `no span yet: ${what}; have ${inTrace()
              .map((x) => `${x.name} (${x.kind})`)
              .join(', ')}`,
          );
        }
        return found[0]!;
      };
      const named = (name: string, kind: SpanKind) => (x: ReadableSpan) => x.name === name && x.kind === kind;
      // Temporal's interceptors make their spans without a kind (INTERNAL).
      const temporal = (name: string) => (x: ReadableSpan) => x.name === name;
      const consumedBy = (group: string) => (x: ReadableSpan) =>
        x.kind === SpanKind.CONSUMER &&
        x.name === `process ${opened}` &&
        x.attributes['messaging.consumer.group.name'] === group;

      // The path's last spans end well after the REST call returned: wait for them.
      const spans = await waitFor(
        async () => ({
          rest: one('REST door', named('POST /v1/incidents', SpanKind.SERVER)),
          gatewayClient: one(
            'gateway → intake',
            named('beacon.intake.v1.IntakeService/OpenIncident', SpanKind.CLIENT),
          ),
          intake: one('intake', named('beacon.intake.v1.IntakeService/OpenIncident', SpanKind.SERVER)),
          relay: one('relay', named(`publish ${opened}`, SpanKind.PRODUCER)),
          starter: one('starter', consumedBy(starterGroup)),
          startWorkflow: one('workflow start', temporal('StartWorkflow:incidentResponse')),
          // Made inside the workflow sandbox (RunWorkflow itself ends only with the response).
          scheduleActivity: one('workflow schedules an activity', temporal('StartActivity:enterTriage')),
          runActivity: one('activity', temporal('RunActivity:enterTriage')),
          activityCall: one(
            'activity → intake',
            named('beacon.intake.v1.IntakeService/GetIncident', SpanKind.CLIENT),
          ),
          fanOut: one('notify fan-out', consumedBy(fanOutGroup)),
          feed: one('feed publish', (x) => feedCopy.test(x.name) && x.kind === SpanKind.PRODUCER),
        }),
        { what: 'the incident’s spans', timeoutMs: 30_000, intervalMs: 200 },
      );

      // Each hop is the child of the one that caused it.
      expect(parentOf(spans.rest)).toBe(CALLER_SPAN_ID);
      expect(parentOf(spans.gatewayClient)).toBe(spans.rest.spanContext().spanId);
      expect(parentOf(spans.intake)).toBe(spans.gatewayClient.spanContext().spanId);
      // The relay publishes (in its own loop, later) as the child of the request that wrote the
      // event: the context kept in the outbox entry.
      expect(parentOf(spans.relay)).toBe(spans.intake.spanContext().spanId);
      expect(parentOf(spans.starter)).toBe(spans.relay.spanContext().spanId);
      expect(parentOf(spans.fanOut)).toBe(spans.relay.spanContext().spanId);
      expect(parentOf(spans.startWorkflow)).toBe(spans.starter.spanContext().spanId);
      expect(parentOf(spans.feed)).toBe(spans.fanOut.spanContext().spanId);
      expect(spans.scheduleActivity.attributes['workflowId']).toBe(`incident-${incidentId}`);
      expect(parentOf(spans.runActivity)).toBe(spans.scheduleActivity.spanContext().spanId);
      // The activity's own gRPC call continues the activity's span.
      expect(parentOf(spans.activityCall)).toBe(spans.runActivity.spanContext().spanId);

      // Intake's store writes are spans of the request too (driver command events), and they
      // name the command and collection but carry no document.
      const mongo = inTrace().filter(
        (x) => x.attributes['db.system'] === 'mongodb' && parentOf(x) === spans.intake.spanContext().spanId,
      );
      expect(mongo.length).toBeGreaterThan(0);
      for (const span of mongo) expect(Object.keys(span.attributes).sort()).not.toContain('db.query.text');

      // The agency's feed copy carries the trace on, in its headers and in its envelope.
      const consumer = await jetstream(nats).consumers.get(s.feeds.stream, {
        filter_subjects: [feedSubject],
      });
      const message = await consumer.next({ expires: 5_000 });
      expect(message?.headers?.get('traceparent')).toContain(CALLER_TRACE_ID);
      expect(eventsV1.Envelope.decode(message!.data).traceparent).toContain(CALLER_TRACE_ID);
    } finally {
      await s.stop();
    }
  });
});
