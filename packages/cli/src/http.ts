import { setTimeout as delay } from 'node:timers/promises';

/** One field the server refused, as the gateway's problem documents list them. */
export interface Violation {
  readonly field: string;
  readonly description: string;
  readonly reason?: string;
}

/**
 * An RFC 9457 problem document. Failures that never reached the gateway (connection refused,
 * timeout, unusable input) are described the same way with `status` 0, so every failure prints
 * through one path.
 */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly grpcStatus?: string;
  readonly violations?: readonly Violation[];
}

/** A call the gateway (or the way to it) refused; `problem` says why. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface ClientOptions {
  /** The gateway's REST base URL, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  readonly token: string;
  /** Per attempt; 30 s when absent. */
  readonly timeoutMs?: number;
  /** Further attempts after a refusal that is safe to retry; 3 when absent. */
  readonly retries?: number;
}

export interface CallOptions {
  /** Query fields; a list is sent as the field repeated (a repeated proto field). */
  readonly query?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  readonly body?: unknown;
  /** Sent as `Idempotency-Key`; also makes the call safe to retry after a lost response. */
  readonly idempotencyKey?: string;
}

/** The gateway's REST door, speaking the proto3 JSON mapping. */
export class GatewayClient {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #retries: number;

  constructor(options: ClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retries = options.retries ?? 3;
  }

  /**
   * One call, retried when the gateway sheds load (429, honouring Retry-After) and, when the
   * call cannot create twice (a GET or an idempotency key), after 502/503/504 or a lost
   * connection. Resolves to the parsed JSON body; rejects with an ApiError.
   */
  async call<T>(method: 'GET' | 'POST', path: string, options: CallOptions = {}): Promise<T> {
    const url = new URL(`${this.#base}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, String(item));
      else if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${this.#token}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const repeatable = method === 'GET' || options.idempotencyKey !== undefined;

    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#retries;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        const problem = unreachable(this.#base, error, this.#timeoutMs);
        // A timed-out call may still be running upstream; retrying it would only pile on.
        if (last || !repeatable || problem.title === 'Timeout') throw new ApiError(problem);
        await delay(backoff(attempt));
        continue;
      }
      const text = await response.text();
      if (response.ok) return (text ? JSON.parse(text) : {}) as T;
      const retry = response.status === 429 || (repeatable && [502, 503, 504].includes(response.status));
      if (last || !retry) throw new ApiError(toProblem(response, text));
      await delay(retryAfter(response.headers.get('retry-after')) ?? backoff(attempt));
    }
  }
}

function backoff(attempt: number): number {
  return 250 * 2 ** attempt;
}

/** Retry-After in seconds, capped: a CLI should not hang for minutes on a hint. */
function retryAfter(header: string | null): number | undefined {
  const seconds = Number(header);
  return header && Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 30) * 1000 : undefined;
}

/** The problem document the gateway sent, or one made from whatever a proxy answered instead. */
function toProblem(response: Response, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Partial<Problem> | null;
    if (parsed && typeof parsed === 'object' && typeof parsed.title === 'string') {
      return { ...parsed, title: parsed.title, status: parsed.status ?? response.status };
    }
  } catch {
    // Not JSON: described below from the status line.
  }
  const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 200);
  return {
    title: response.statusText || 'HTTP Error',
    status: response.status,
    ...(snippet ? { detail: snippet } : {}),
  };
}

function unreachable(base: string, error: unknown, timeoutMs: number): Problem {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return { title: 'Timeout', status: 0, detail: `no answer from ${base} within ${timeoutMs / 1000} s` };
  }
  // fetch wraps the socket error (ECONNREFUSED, ENOTFOUND, …) as its cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return { title: 'Unreachable', status: 0, detail: `cannot reach the gateway at ${base}: ${why}` };
}
