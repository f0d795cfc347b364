import { InterceptingCall, type Interceptor, type Metadata } from '@grpc/grpc-js';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import type { MongoClient } from 'mongodb';
import { z } from 'zod';
import { env, parseConfig } from './config.js';

/**
 * The standard OpenTelemetry variables Beacon reads to decide whether, and where, it traces.
 * The exporter and batch processor read their own tuning variables (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_BSP_*`) as the SDK documents.
 */
export const TRACING_ENV = {
  OTEL_SDK_DISABLED: env.flag(false),
  /** `otlp`, `console`, `none`, or a comma-separated list; unset: `otlp` when an endpoint is set. */
  OTEL_TRACES_EXPORTER: z
    .string()
    .regex(/^\s*(otlp|console|none)\s*(,\s*(otlp|console|none)\s*)*$/, 'must list otlp, console or none')
    .optional(),
  /** Base URL of an OTLP/HTTP collector; traces go to `<base>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url(['http', 'https']).optional(),
  /** The full traces URL, taking precedence over the base endpoint. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.url(['http', 'https']).optional(),
  /** Only `http/protobuf` is built in. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.literal('http/protobuf').optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.literal('http/protobuf').optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  /** The ratio for the `traceidratio` samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
};

export interface TracingOptions {
  /** The component, e.g. `intake`; the service name unless `OTEL_SERVICE_NAME` says otherwise. */
  readonly serviceName: string;
  /** The process environment (only the `OTEL_*` variables above are read). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Tests and benchmarks: export here (e.g. an in-memory exporter) whatever the environment
   * says, unless `OTEL_SDK_DISABLED` is true.
   */
  readonly exporter?: SpanExporter;
  /** `simple` exports each span as it ends (tests read them at once); `batch` by default. */
  readonly processor?: 'batch' | 'simple';
}

/** The process's tracing, as started by {@link startTracing}. */
export interface Tracing {
  readonly enabled: boolean;
  /** Where ended spans go; the Temporal worker hands its workflows' spans here too. */
  readonly spanProcessor: SpanProcessor | undefined;
  readonly resource: Resource | undefined;
  /** Exports what is pending and stops tracing; the process goes back to the no-op API. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = {
  enabled: false,
  spanProcessor: undefined,
  resource: undefined,
  shutdown: async () => {},
};

let active: Tracing = OFF;
let tracer: Tracer = trace.getTracer('beacon');

/** Whether this process traces; hooks skip all their work when it does not. */
export const tracingEnabled = (): boolean => active.enabled;

/** The process's tracing handle (the off handle when tracing was not started). */
export const currentTracing = (): Tracing => active;

/**
 * Starts OpenTelemetry tracing for the process when the environment asks for it: an exporter
 * (`OTEL_TRACES_EXPORTER`) or an OTLP endpoint is set and `OTEL_SDK_DISABLED` is not true.
 * Otherwise nothing is registered and every hook stays on the API's no-op path. Call once,
 * first thing in `main.ts`, before clients and servers are made.
 */
export function startTracing(options: TracingOptions): Tracing {
  const config = parseConfig(TRACING_ENV, options.env ?? {});
  if (config.OTEL_SDK_DISABLED) return OFF;
  const exporters = options.exporter ? [options.exporter] : configuredExporters(config);
  if (exporters.length === 0) return OFF;
  if (active.enabled) throw new Error('tracing is already started in this process');

  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? options.serviceName });
  const processors = exporters.map((exporter) =>
    options.processor === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
  );
  const spanProcessor: SpanProcessor =
    processors.length === 1 ? processors[0]! : new FanOutProcessor(processors);
  const provider = new BasicTracerProvider({
    resource,
    sampler: sampler(config.OTEL_TRACES_SAMPLER, config.OTEL_TRACES_SAMPLER_ARG ?? 1),
    spanProcessors: [spanProcessor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  // W3C trace context only: Beacon carries no baggage, and each propagator costs every hop.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = trace.getTracer('beacon');

  const handle: Tracing = {
    enabled: true,
    spanProcessor,
    resource,
    shutdown: async () => {
      if (active !== handle) return;
      active = OFF;
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
        tracer = trace.getTracer('beacon');
      }
    },
  };
  active = handle;
  return handle;
}

function configuredExporters(config: Readonly<z.infer<z.ZodObject<typeof TRACING_ENV>>>): SpanExporter[] {
  const endpoint =
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
      : undefined);
  const names = config.OTEL_TRACES_EXPORTER
    ? new Set(config.OTEL_TRACES_EXPORTER.split(',').map((n) => n.trim()))
    : new Set(endpoint ? ['otlp'] : []);
  if (names.has('none')) return [];
  const exporters: SpanExporter[] = [];
  if (names.has('otlp')) exporters.push(new OTLPTraceExporter(endpoint ? { url: endpoint } : {}));
  if (names.has('console')) exporters.push(new ConsoleSpanExporter());
  return exporters;
}

function sampler(name: z.infer<typeof TRACING_ENV.OTEL_TRACES_SAMPLER>, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** Several exporters at once (`OTEL_TRACES_EXPORTER=otlp,console`). */
class FanOutProcessor implements SpanProcessor {
  constructor(private readonly processors: readonly SpanProcessor[]) {}
  onStart(...args: Parameters<SpanProcessor['onStart']>): void {
    for (const p of this.processors) p.onStart(...args);
  }
  onEnd(...args: Parameters<SpanProcessor['onEnd']>): void {
    for (const p of this.processors) p.onEnd(...args);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
}

// ---------------------------------------------------------------------------------------------
// Carriers

/** W3C trace context as stored beside an outbox event and sent as message headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const NO_CONTEXT: Readonly<TraceCarrier> = Object.freeze({});

/**
 * The active span's W3C context, to keep with something written now and acted on later (an
 * outbox event); empty when tracing is off or no span is active.
 */
export function currentTraceContext(): Readonly<TraceCarrier> {
  if (!active.enabled) return NO_CONTEXT;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : NO_CONTEXT;
}

/**
 * The `trace` field of an outbox entry written now (spread it in): the active request's context,
 * so the relay publishes the event as part of that request's trace; nothing when there is none.
 */
export function outboxTrace(): { trace?: Readonly<TraceCarrier> } {
  const trace = currentTraceContext();
  return trace.traceparent ? { trace } : {};
}

const metadataGetter: TextMapGetter<Metadata> = {
  get: (carrier, key) => {
    const value = carrier.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier) => Object.keys(carrier.getMap()),
};
const metadataSetter: TextMapSetter<Metadata> = { set: (carrier, key, value) => carrier.set(key, value) };

const headersGetter: TextMapGetter<MsgHdrs> = {
  get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
  keys: (carrier) => [...carrier.keys()],
};
const headersSetter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };

// ---------------------------------------------------------------------------------------------
// Spans

async function inSpan<T>(span: Span, parent: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : undefined,
    });
    throw error;
  } finally {
    span.end();
  }
}

/** A SERVER span for one gRPC call: run the handler in it, end it with the status answered. */
export interface RpcServerSpan {
  run<T>(fn: () => T): T;
  end(code: number): void;
}

/**
 * Starts the SERVER span of one gRPC call, the child of the caller's context in the call's
 * metadata; undefined when tracing is off.
 */
export function startRpcServerSpan(path: string, metadata: Metadata): RpcServerSpan | undefined {
  if (!active.enabled) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const span = tracer.startSpan(
    path.replace(/^\//, ''),
    { kind: SpanKind.SERVER, attributes: rpcAttributes(path) },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  return {
    run: (fn) => context.with(spanContext, fn),
    end: (code) => {
      setRpcStatus(span, code);
      span.end();
    },
  };
}

/** Records the gRPC status code an RPC span ended with (non-OK codes mark it failed). */
function setRpcStatus(span: Span, code: number): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR });
}

function rpcAttributes(path: string): Attributes {
  const [, service = '', method = ''] = path.split('/');
  return { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method };
}

/**
 * grpc-js client interceptors for every Beacon gRPC client: a CLIENT span per call whose context
 * travels in the call's `traceparent`/`tracestate` metadata. None when tracing is off, so the
 * channel keeps grpc-js's plain call path. Pass as the client's `interceptors` option.
 */
export function grpcClientInterceptors(): Interceptor[] {
  return active.enabled ? [tracingInterceptor] : [];
}

const tracingInterceptor: Interceptor = (options, nextCall) => {
  const path = options.method_definition.path;
  const span = tracer.startSpan(path.replace(/^\//, ''), {
    kind: SpanKind.CLIENT,
    attributes: rpcAttributes(path),
  });
  const spanContext = trace.setSpan(context.active(), span);
  return new InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      propagation.inject(spanContext, metadata, metadataSetter);
      next(metadata, {
        onReceiveStatus(status, nextStatus) {
          setRpcStatus(span, status.code);
          span.end();
          nextStatus(status);
        },
      });
    },
  });
};

/** What the HTTP door tells the span of the request it handles. */
export interface HttpServerSpan {
  /** The matched route template, e.g. `/v1/incidents/{incident_id}`: names the span. */
  setRoute(route: string): void;
  setStatus(status: number): void;
}

/**
 * Runs one HTTP request's handling in a SERVER span, the child of an incoming `traceparent`
 * header (the caller's trace). Off: runs `fn` bare.
 */
export function withHttpServerSpan<T>(
  method: string,
  header: (name: string) => string | undefined,
  fn: (span: HttpServerSpan | undefined) => Promise<T>,
): Promise<T> {
  if (!active.enabled) return fn(undefined);
  const parent = propagation.extract(ROOT_CONTEXT, header, {
    get: (h, key) => h(key),
    keys: () => ['traceparent', 'tracestate'],
  });
  const span = tracer.startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
    parent,
  );
  return inSpan(span, parent, () =>
    fn({
      setRoute: (route) => {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      },
      setStatus: (status) => {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      },
    }),
  );
}

/**
 * Publishes one message in a PRODUCER span, the child of `parent` (the context stored with an
 * outbox event) or of the active span, and hands `publish` the headers carrying the span's
 * context. Off: a stored context is passed on as it is, without a span; otherwise no headers.
 */
export async function withProducerSpan<T>(
  subject: string,
  parent: Readonly<TraceCarrier> | undefined,
  publish: (headers: MsgHdrs | undefined) => Promise<T>,
  into?: MsgHdrs,
): Promise<T> {
  if (!active.enabled) {
    if (!parent?.traceparent) return publish(into);
    const h = into ?? natsHeaders();
    h.set('traceparent', parent.traceparent);
    if (parent.tracestate) h.set('tracestate', parent.tracestate);
    return publish(h);
  }
  const parentContext = parent?.traceparent ? propagation.extract(ROOT_CONTEXT, parent) : context.active();
  const span = tracer.startSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    },
    parentContext,
  );
  const h = into ?? natsHeaders();
  propagation.inject(trace.setSpan(parentContext, span), h, headersSetter);
  return inSpan(span, parentContext, () => publish(h));
}

/**
 * Handles one consumed message in a CONSUMER span, the child of the context in its headers
 * (the producer's span), so the consumer's work joins the trace that published the event.
 * Off: runs `fn` bare.
 */
export function withConsumerSpan<T>(
  consumer: string,
  message: { readonly subject: string; readonly headers?: MsgHdrs | undefined },
  fn: () => Promise<T>,
): Promise<T> {
  if (!active.enabled) return fn();
  const parent = message.headers
    ? propagation.extract(ROOT_CONTEXT, message.headers, headersGetter)
    : ROOT_CONTEXT;
  const span = tracer.startSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': message.subject,
        'messaging.consumer.group.name': consumer,
      },
    },
    parent,
  );
  return inSpan(span, parent, fn);
}

/**
 * A CLIENT span per MongoDB command issued inside a traced span, from the driver's command
 * monitoring events: started in the context of the code that issued the command, named `<command> <collection>`, carrying
 * the database, collection and command name — never the command's documents. Used instead of
 * `@opentelemetry/instrumentation-mongodb`, which patches the driver when it is loaded: Beacon
 * imports it from ES modules, which needs an `import-in-the-middle` loader (`--import` on every
 * process, registered before the driver loads, and not in effect under vitest's module runner),
 * and its current releases are built on the 2.x SDK while Temporal's interceptors need 1.x.
 * The driver's own events need neither.
 */
export function traceMongoCommands(client: MongoClient): void {
  const open = new Map<string, Span>();
  const key = (e: { connectionId?: string | number; requestId: number }) =>
    `${e.connectionId}:${e.requestId}`;
  client.on('commandStarted', (event) => {
    // Only as part of traced work: background polling (the relay's reads, sweeps) would
    // otherwise start a trace of one span per command.
    if (!trace.getSpan(context.active())?.isRecording()) return;
    const collection = event.command[event.commandName] as unknown;
    const target = typeof collection === 'string' ? collection : undefined;
    const span = tracer.startSpan(target ? `${event.commandName} ${target}` : event.commandName, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'mongodb',
        'db.namespace': event.databaseName,
        'db.operation.name': event.commandName,
        ...(target ? { 'db.collection.name': target } : {}),
      },
    });
    open.set(key(event), span);
  });
  client.on('commandSucceeded', (event) => {
    const span = open.get(key(event));
    if (!span) return;
    open.delete(key(event));
    span.end();
  });
  client.on('commandFailed', (event) => {
    const span = open.get(key(event));
    if (!span) return;
    open.delete(key(event));
    span.setStatus({ code: SpanStatusCode.ERROR, message: event.failure.message });
    span.end();
  });
}

/** Trace and span ids of the active span, for log lines; undefined when there is none. */
export function activeSpanIds(): { trace_id: string; span_id: string } | undefined {
  if (!active.enabled) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
