import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { status } from '@grpc/grpc-js';
import {
  GrpcError,
  readBody,
  withHttpServerSpan,
  type FieldViolation,
  type HttpServerSpan,
  type Logger,
  violationSummary,
} from '@beacon/platform';
import type { FrontDoor } from '../front-door.js';
import type { Route } from '../routes.js';
import type { AlwaysPresent } from './always-present.js';
import { fromUpstream } from '../upstream-error.js';
import { UNMATCHED_ROUTE, type RecordRequest } from './metrics.js';
import { problem, type Problem } from './problem.js';
import type { RequestSchemas } from './schemas.js';
import { decodeUtf8 } from './utf8.js';

/** Encoding of one message type, as ts-proto generates it. */
export interface MessageCodec {
  fromJSON(object: unknown): unknown;
  toJSON(message: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}

export interface RestOptions {
  readonly routes: readonly Route[];
  readonly frontDoor: FrontDoor;
  readonly schemas: RequestSchemas;
  /** Writes the fields documented as always present even at their zero value. */
  readonly alwaysPresent: AlwaysPresent;
  /** Codec of `<package>.<Message>`, for each route's request and response messages. */
  readonly codec: (fullName: string) => MessageCodec;
  readonly openapi: unknown;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly maxCallMs: number;
  /** Answers /readyz: whether every upstream reports SERVING. */
  readonly ready: () => Promise<boolean>;
  /** Counts and times each answered request by route template (`restMetrics`). */
  readonly record?: RecordRequest;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly input: string;
  readonly output: string;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/**
 * The REST door: the same operations as gRPC, with the proto3 JSON mapping. A request is
 * routed, size-limited, parsed, validated against the published schema, encoded, and sent
 * through the same FrontDoor as a gRPC call. Errors are RFC 9457 problem documents.
 */
export function createRestServer(options: RestOptions): Server {
  const routes = options.routes.map(compile);
  const server = createServer((req, res) => {
    const started = performance.now();
    const matched = { route: UNMATCHED_ROUTE };
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    void withHttpServerSpan(req.method ?? 'GET', header, async (span) => {
      try {
        await handle(req, res, routes, options, matched, span);
      } catch (error) {
        options.logger.error({ err: error }, 'unhandled error in REST handler');
        send(res, 500, problem(status.INTERNAL, 'internal error'));
      }
      span?.setStatus(res.statusCode);
      options.record?.(req.method, matched.route, res.statusCode, (performance.now() - started) / 1000);
      // One line per request, with its outcome; never the body. Probes only when debugging.
      const path = req.url?.split('?')[0];
      options.logger[path === '/healthz' || path === '/readyz' ? 'debug' : 'info'](
        {
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'rest request',
      );
    });
  });
  server.requestTimeout = options.maxCallMs + 5_000;
  server.headersTimeout = 10_000;
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: readonly CompiledRoute[],
  options: RestOptions,
  /** Set to the route template the request matched, for metrics. */
  matched: { route: string },
  span: HttpServerSpan | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway');
  if (FIXED_PATHS.has(url.pathname)) matched.route = url.pathname;
  if (req.method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { status: 'SERVING' });
  if (req.method === 'GET' && (url.pathname === '/readyz' || url.pathname === '/openapi.json')) {
    // No token needed, but each costs something: strangers get the address's budget.
    try {
      options.frontDoor.throttle((name) => firstHeader(req, name), req.socket.remoteAddress);
    } catch (error) {
      if (!(error instanceof GrpcError)) throw error;
      if (error.retryAfterSeconds !== undefined)
        res.setHeader('retry-after', String(error.retryAfterSeconds));
      return send(res, 429, problem(error.code, error.message));
    }
  }
  if (req.method === 'GET' && url.pathname === '/readyz') {
    const ready = await options.ready();
    return sendJson(res, ready ? 200 : 503, { status: ready ? 'SERVING' : 'NOT_SERVING' });
  }
  if (req.method === 'GET' && url.pathname === '/openapi.json') return sendJson(res, 200, options.openapi);

  const matches = routes.filter((r) => r.pattern.test(url.pathname));
  const route = matches.find((r) => r.method === req.method);
  if (matches[0]) matched.route = (route ?? matches[0]).path;
  if (!route) {
    if (matches.length > 0) {
      res.setHeader('allow', [...new Set(matches.map((r) => r.method))].join(', '));
      return send(res, 405, {
        ...problem(status.UNIMPLEMENTED, `${req.method} is not allowed here`),
        status: 405,
      });
    }
    return send(res, 404, problem(status.NOT_FOUND, `no route ${req.method} ${url.pathname}`));
  }

  span?.setRoute(route.path);
  const headers = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  try {
    const { clientAddress } = await options.frontDoor.admit(headers, req.socket.remoteAddress);
    const request = await readRequest(req, url, route, options);
    if ('problem' in request) return send(res, request.problem.status, request.problem);
    const response = await options.frontDoor.forward({
      clientAddress,
      service: route.service,
      rpc: route.rpc,
      request: Buffer.from(options.codec(route.input).encode(request.message).finish()),
      headers,
      door: 'rest',
      deadline: new Date(Date.now() + options.maxCallMs),
      signal: abort.signal,
    });
    const codec = options.codec(route.output);
    const json = options.alwaysPresent.fill(route.output, codec.toJSON(codec.decode(response)));
    sendJson(res, route.created ? 201 : 200, json);
  } catch (caught) {
    const error = fromUpstream(caught);
    if (!(error instanceof GrpcError)) throw error;
    if (error.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(error.retryAfterSeconds));
    const body = problem(error.code, error.message, error.violations);
    send(res, body.status, body);
  }
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Paths the gateway answers itself, each its own route label. */
const FIXED_PATHS = new Set(['/healthz', '/readyz', '/openapi.json']);

type ParsedRequest = { message: unknown } | { problem: Problem };

async function readRequest(
  req: IncomingMessage,
  url: URL,
  route: CompiledRoute,
  options: RestOptions,
): Promise<ParsedRequest> {
  const invalid = (violations: FieldViolation[]) => ({
    problem: problem(status.INVALID_ARGUMENT, violationSummary(violations), violations),
  });
  let json: Record<string, unknown> = {};
  if (route.body) {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return {
        problem: { ...problem(status.INVALID_ARGUMENT, 'the body must be application/json'), status: 415 },
      };
    }
    const body = await readBody(req, options.maxBodyBytes);
    if (body === undefined) {
      return {
        problem: {
          ...problem(status.RESOURCE_EXHAUSTED, `the body is larger than ${options.maxBodyBytes} bytes`),
          status: 413,
        },
      };
    }
    const text = decodeUtf8(body);
    if (!text.ok) {
      return invalid([
        {
          field: '(body)',
          description: `is not valid UTF-8: the sequence at byte offset ${text.offset} is ill-formed`,
          reason: 'INVALID_UTF8',
        },
      ]);
    }
    try {
      json = JSON.parse(text.text) as Record<string, unknown>;
    } catch (error) {
      return invalid([
        {
          field: '(body)',
          description: `is not JSON: ${(error as Error).message}`,
          reason: 'MALFORMED_JSON',
        },
      ]);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return invalid([{ field: '(body)', description: 'must be a JSON object', reason: 'WRONG_TYPE' }]);
    }
  } else {
    const repeated = options.schemas.repeatedFields(route.input);
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      json[key] = values.length === 1 && !repeated.has(key) ? values[0] : values;
    }
  }
  const match = route.pattern.exec(url.pathname)!;
  for (const [i, name] of route.params.entries()) {
    let value: string;
    try {
      value = decodeURIComponent(match[i + 1]!);
    } catch {
      return invalid([
        { field: name, description: 'is not a valid percent-encoded path segment', reason: 'MALFORMED_PATH' },
      ]);
    }
    const jsonName = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    for (const key of [name, jsonName]) {
      if (key in json && json[key] !== value) {
        return invalid([{ field: key, description: 'differs from the path', reason: 'PATH_MISMATCH' }]);
      }
      delete json[key];
    }
    json[jsonName] = value;
  }
  const violations = options.schemas.violations(route.input, json);
  if (violations.length > 0) return invalid(violations);
  return { message: options.codec(route.input).fromJSON(json) };
}

function compile(route: Route & { input?: string; output?: string }): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split(/(\{\w+\})/)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (param) {
        params.push(param[1]!);
        return '([^/:]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const pkg = route.service.split('.').slice(0, -1).join('.');
  return {
    ...route,
    pattern: new RegExp(`^${source}$`),
    params,
    input: `${pkg}.${route.rpc}Request`,
    output: `${pkg}.${route.rpc}Response`,
  };
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  res.writeHead(statusCode, { 'content-type': 'application/json', ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}

function send(res: ServerResponse, statusCode: number, body: Problem): void {
  res.writeHead(statusCode, { 'content-type': 'application/problem+json', ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}
