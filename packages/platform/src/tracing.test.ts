import { Writable } from 'node:stream';
import { Metadata } from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import { createLogger } from './logger.js';
import {
  currentTraceContext,
  grpcClientInterceptors,
  outboxTrace,
  startRpcServerSpan,
  startTracing,
  withConsumerSpan,
  withProducerSpan,
  type Tracing,
} from './tracing.js';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', destination: stream }) };
}

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe('startTracing', () => {
  it('is off when no exporter or endpoint is configured, and then adds nothing', () => {
    tracing = startTracing({ serviceName: 'intake', env: {} });
    expect(tracing.enabled).toBe(false);
    expect(grpcClientInterceptors()).toEqual([]);
    const span = trace.getTracer('test').startSpan('ignored');
    expect(span.isRecording()).toBe(false);
    expect(startRpcServerSpan('/a.B/C', new Metadata())).toBeUndefined();
    expect(currentTraceContext()).toEqual({});
  });

  it('stays off when OTEL_SDK_DISABLED is true, whatever else is set', () => {
    tracing = startTracing({
      serviceName: 'intake',
      env: { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    });
    expect(tracing.enabled).toBe(false);
  });

  it('is on with an OTLP endpoint, and off again with OTEL_TRACES_EXPORTER=none', async () => {
    tracing = startTracing({
      serviceName: 'intake',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    });
    expect(tracing.enabled).toBe(true);
    expect(grpcClientInterceptors()).toHaveLength(1);
    await tracing.shutdown();
    tracing = startTracing({
      serviceName: 'intake',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' },
    });
    expect(tracing.enabled).toBe(false);
  });

  it.each([
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => startTracing({ serviceName: 'intake', env: { [variable]: value } })).toThrow(ConfigError);
    expect(() => startTracing({ serviceName: 'intake', env: { [variable]: value } })).toThrow(variable);
  });
});

describe('with tracing on', () => {
  it('continues the caller’s trace in a gRPC server span, whose context an outbox entry keeps', () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: 'intake', exporter, processor: 'simple' });
    const metadata = new Metadata();
    metadata.set('traceparent', CALLER);
    const span = startRpcServerSpan('/beacon.intake.v1.IntakeService/OpenIncident', metadata)!;
    const kept = span.run(() => outboxTrace());
    span.end(0);

    const [server] = exporter.getFinishedSpans();
    expect(server?.name).toBe('beacon.intake.v1.IntakeService/OpenIncident');
    expect(server?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(server?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(kept.trace?.traceparent).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${server?.spanContext().spanId}-01`,
    );
    // Outside any span there is nothing to keep.
    expect(outboxTrace()).toEqual({});
  });

  it('puts trace_id and span_id on log lines written while a span is active, and only then', () => {
    tracing = startTracing({
      serviceName: 'intake',
      exporter: new InMemorySpanExporter(),
      processor: 'simple',
    });
    const { lines, logger } = logLines();
    logger.info('before');
    trace.getTracer('test').startActiveSpan('work', (span) => {
      logger.info({ token: 'secret-1' }, 'inside');
      span.end();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', token: '[redacted]' });
    expect(lines[1]?.['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[1]?.['span_id']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('publishes an outbox event as the child of the stored request context, and its consumer as the child of that', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: 'intake', exporter, processor: 'simple' });
    const headers = await withProducerSpan(
      'beacon.evt.incident.opened',
      { traceparent: CALLER },
      async (h) => h,
    );
    const consumedIn = await withConsumerSpan(
      'starter',
      { subject: 'beacon.evt.incident.opened', headers },
      async () => outboxTrace().trace?.traceparent,
    );
    const [producer, consumer] = exporter.getFinishedSpans();
    expect(producer?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(headers?.get('traceparent')).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${producer?.spanContext().spanId}-01`,
    );
    expect(consumer?.parentSpanId).toBe(producer?.spanContext().spanId);
    expect(consumer?.attributes['messaging.consumer.group.name']).toBe('starter');
    expect(consumedIn).toContain(consumer?.spanContext().spanId);
  });
});

describe('with tracing off', () => {
  it('passes a stored context on as headers unchanged, and adds no headers without one', async () => {
    tracing = startTracing({ serviceName: 'intake', env: {} });
    const passed = await withProducerSpan('s', { traceparent: CALLER }, async (h) => h?.get('traceparent'));
    expect(passed).toBe(CALLER);
    expect(await withProducerSpan('s', undefined, async (h) => h)).toBeUndefined();
  });
});
