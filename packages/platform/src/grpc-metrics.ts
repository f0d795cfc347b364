import {
  ServerInterceptingCall,
  status,
  type ServerInterceptor,
  type ServerMethodDefinition,
} from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from './metrics.js';

/** grpc-js's call kinds, named as the usual gRPC Prometheus metrics name them. */
export function grpcType(
  method: Pick<ServerMethodDefinition<unknown, unknown>, 'requestStream' | 'responseStream'>,
) {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}

/** `/pkg.Service/Method` → service and method; anything else is one bucket, never a new label. */
export function splitGrpcPath(path: string): { service: string; method: string } {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? { service: match[1]!, method: match[2]! } : { service: 'unknown', method: 'unknown' };
}

const CODE_NAMES: readonly string[] = Object.entries(status)
  .filter(([, value]) => typeof value === 'number')
  .sort(([, a], [, b]) => (a as number) - (b as number))
  .map(([name]) => name);

/** The status code's name (`OK`, `INVALID_ARGUMENT`…); `UNKNOWN` for numbers outside the set. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? 'UNKNOWN';
}

interface MethodSeries {
  readonly started: { inc(): void };
  readonly seconds: { observe(value: number): void };
  /** One child per status code, made when the code first occurs. */
  readonly handled: ({ inc(): void } | undefined)[];
  readonly labels: readonly [string, string, string];
}

/**
 * A server interceptor recording every call of every method the server hosts (health and
 * diagnostics included), in the names the gRPC ecosystem's dashboards already use:
 * `grpc_server_started_total`, `grpc_server_handled_total` (with `grpc_code`) and
 * `grpc_server_handling_seconds`, each by `grpc_type`, `grpc_service` and `grpc_method`.
 * The handling time runs from the call's arrival to its status (or its cancellation, counted
 * as CANCELLED). Labels come from the registered methods only, so their number is bounded.
 * Children are looked up once per method and code, not built per call.
 */
export function grpcServerMetrics(metrics: Metrics): ServerInterceptor {
  const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
  const started: Counter<(typeof labelNames)[number]> = metrics.counter(
    'grpc_server_started_total',
    'RPCs started on the server.',
    labelNames,
  );
  const handled = metrics.counter(
    'grpc_server_handled_total',
    'RPCs completed on the server, whatever their status.',
    [...labelNames, 'grpc_code'],
  );
  const seconds: Histogram<(typeof labelNames)[number]> = metrics.histogram(
    'grpc_server_handling_seconds',
    'Time from an RPC’s arrival to its status, in seconds.',
    labelNames,
  );
  const byPath = new Map<string, MethodSeries>();
  const series = (method: ServerMethodDefinition<unknown, unknown>): MethodSeries => {
    let found = byPath.get(method.path);
    if (!found) {
      const { service, method: name } = splitGrpcPath(method.path);
      const labels = [grpcType(method), service, name] as const;
      found = {
        started: started.labels(...labels),
        seconds: seconds.labels(...labels),
        handled: [],
        labels,
      };
      byPath.set(method.path, found);
    }
    return found;
  };

  return (method, call) => {
    const s = series(method);
    s.started.inc();
    const begun = performance.now();
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      s.seconds.observe((performance.now() - begun) / 1000);
      const index = Number.isInteger(code) && code >= 0 && code < CODE_NAMES.length ? code : status.UNKNOWN;
      (s.handled[index] ??= handled.labels(...s.labels, grpcCodeName(index))).inc();
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(status.CANCELLED) }),
      sendStatus: (sent, next) => {
        finish(sent.code);
        next(sent);
      },
    });
  };
}
