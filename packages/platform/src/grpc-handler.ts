import {
  Metadata,
  status,
  type handleUnaryCall,
  type ServerUnaryCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { UseCaseError, type UseCaseErrorKind } from '@beacon/domain';
import { rpcErrorDetails, rpcStatus } from '@beacon/proto';
import { AuthenticationError, type Authenticator, type Principal } from './auth.js';
import { dependencyOutage, OUTAGE_RETRY_AFTER_SECONDS } from './dependency-outage.js';
import type { Logger } from './logger.js';
import { startRpcServerSpan } from './tracing.js';

/** One wrong field of a request: where, why, and a machine-readable reason. */
export interface FieldViolation {
  /** Path in the request, e.g. `observables[2].value`. */
  readonly field: string;
  readonly description: string;
  /** UPPER_SNAKE_CASE, e.g. `INVALID_OBSERVABLE`. */
  readonly reason: string;
}

/** What a unary handler knows of its call besides the request. */
export interface CallContext {
  /** Aborted when the client cancels or the deadline passes: stop work and release resources. */
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
  /** The earlier of the client's deadline and the server's own limit. */
  readonly deadline: Date;
}

/** An error with the gRPC status the client should see; anything else becomes INTERNAL. */
export class GrpcError extends Error {
  override readonly name = 'GrpcError';
  constructor(
    readonly code: status,
    message: string,
    options?: ErrorOptions & {
      readonly violations?: readonly FieldViolation[];
      /** For RESOURCE_EXHAUSTED from a rate limit: when to try again. */
      readonly retryAfterSeconds?: number;
    },
  ) {
    super(message, options);
    this.violations = boundedViolations(options?.violations ?? []);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly violations: readonly FieldViolation[];
  readonly retryAfterSeconds: number | undefined;
}

/** Field violations reported at most: a client learns what to fix, not a megabyte about it. */
export const MAX_REPORTED_VIOLATIONS = 20;
const MAX_VIOLATION_TEXT = 200;

/**
 * The first `MAX_REPORTED_VIOLATIONS` violations, each text cut to a couple of hundred
 * characters (a field name is the client's own, and may be a megabyte long), so that an error
 * stays a few KiB whatever the request was.
 */
export function boundedViolations(violations: readonly FieldViolation[]): FieldViolation[] {
  const cut = (text: string) =>
    text.length > MAX_VIOLATION_TEXT ? `${text.slice(0, MAX_VIOLATION_TEXT)}…` : text;
  return violations.slice(0, MAX_REPORTED_VIOLATIONS).map((v) => ({
    field: cut(v.field),
    description: cut(v.description),
    reason: cut(v.reason),
  }));
}

/** The message summing up violations: the bounded ones, and how many more there were. */
export function violationSummary(violations: readonly FieldViolation[]): string {
  const shown = boundedViolations(violations);
  const more = violations.length - shown.length;
  return shown.map((v) => `${v.field}: ${v.description}`).join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** INVALID_ARGUMENT naming the bad fields (the first few), in the message and as google.rpc.BadRequest. */
export function invalidArgument(violations: readonly FieldViolation[]): GrpcError {
  return new GrpcError(status.INVALID_ARGUMENT, `invalid request: ${violationSummary(violations)}`, {
    violations,
  });
}

const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const MAX_STATUS_MESSAGE = 2_048;

/**
 * The status a client receives: code, message and, for field violations, the standard
 * `grpc-status-details-bin` trailer (google.rpc.Status carrying a google.rpc.BadRequest).
 */
export function toStatus(error: GrpcError): Partial<StatusObject> {
  const metadata = new Metadata();
  // A message may quote the client; the status stays a few KiB whatever it sent.
  const message =
    error.message.length > MAX_STATUS_MESSAGE
      ? `${error.message.slice(0, MAX_STATUS_MESSAGE)}…`
      : error.message;
  if (error.retryAfterSeconds !== undefined) metadata.set('retry-after', String(error.retryAfterSeconds));
  if (error.violations.length > 0) {
    const badRequest = rpcErrorDetails.BadRequest.encode({
      fieldViolations: error.violations.map((v) => ({ ...v })),
    }).finish();
    const details = rpcStatus.Status.encode({
      code: error.code,
      message,
      details: [{ typeUrl: BAD_REQUEST_TYPE, value: badRequest }],
    }).finish();
    metadata.set('grpc-status-details-bin', Buffer.from(details));
  }
  return { code: error.code, details: message, metadata };
}

/** Reads the field violations back out of a received error's trailer (clients and tests). */
export function fieldViolations(metadata: Metadata | undefined): FieldViolation[] {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return [];
  const decoded = rpcStatus.Status.decode(raw);
  return decoded.details
    .filter((any) => any.typeUrl === BAD_REQUEST_TYPE)
    .flatMap((any) => rpcErrorDetails.BadRequest.decode(any.value).fieldViolations);
}

export interface UnaryOptions {
  readonly logger: Logger;
  /** The longest any call may run, whatever deadline the client set (or if it set none). */
  readonly maxCallMs?: number;
}

const DEFAULT_MAX_CALL_MS = 30_000;

/**
 * Stands in for a request whose bytes did not decode. grpc-js answers INTERNAL when decoding
 * throws; Beacon's servers decode through `tolerantDeserializer` instead, and `unary` answers
 * this with INVALID_ARGUMENT: the client sent garbage, the server did not fail.
 */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** Wraps a request decoder so that a bad message becomes a MalformedRequest, not an exception. */
export function tolerantDeserializer<T>(
  decode: (bytes: Buffer) => T,
): (bytes: Buffer) => T | MalformedRequest {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return new MalformedRequest(error instanceof Error ? error.message : String(error));
    }
  };
}

/**
 * Adapts an async handler to grpc-js. The handler gets an AbortSignal that fires when the client
 * goes away or the deadline passes, so no call outlives its caller; at the deadline the client
 * gets DEADLINE_EXCEEDED even if the handler ignores the signal. A store or NATS outage reaches
 * the client as UNAVAILABLE with a time to retry; other unexpected errors are logged and reach
 * it as INTERNAL without their message, which may hold internals.
 */
export function unary<Req, Res>(
  handler: (request: Req, context: CallContext) => Promise<Res>,
  options: UnaryOptions,
): handleUnaryCall<Req, Res> {
  const maxCallMs = options.maxCallMs ?? DEFAULT_MAX_CALL_MS;
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const controller = new AbortController();
    const deadline = new Date(Math.min(deadlineMs(call), Date.now() + maxCallMs));
    const span = startRpcServerSpan(call.getPath(), call.metadata);
    const started = performance.now();
    // One line per call, with its outcome; never the request or response body.
    const finish = (code: status) => {
      span?.end(code);
      options.logger.info({ rpc: call.getPath(), code, ms: Math.round(performance.now() - started) }, 'rpc');
    };
    let answered = false;
    const answer = (error: Partial<StatusObject> | null, response?: Res) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      finish(error?.code ?? status.OK);
      if (error) callback(error);
      else callback(null, response);
    };
    const timer = setTimeout(() => {
      controller.abort(new GrpcError(status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      answer({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' });
    }, deadline.getTime() - Date.now());
    call.once('cancelled', () => {
      controller.abort(new GrpcError(status.CANCELLED, 'cancelled by the client'));
      if (!answered) finish(status.CANCELLED);
      answered = true;
      clearTimeout(timer);
    });

    const request = call.request as Req | MalformedRequest;
    const run = () =>
      request instanceof MalformedRequest
        ? Promise.reject(
            new GrpcError(status.INVALID_ARGUMENT, `the request is not a valid protobuf message`),
          )
        : handler(request, { signal: controller.signal, metadata: call.metadata, deadline });
    const handled = span ? span.run(run) : run();
    handled.then(
      (response) => answer(null, response),
      (error: unknown) => {
        if (error instanceof GrpcError) {
          answer(toStatus(error));
          return;
        }
        const outage = dependencyOutage(error);
        if (outage) {
          options.logger.warn({ err: error, path: call.getPath() }, 'a dependency is unavailable');
          answer(
            toStatus(
              new GrpcError(status.UNAVAILABLE, outage, { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS }),
            ),
          );
          return;
        }
        options.logger.error({ err: error, path: call.getPath() }, 'unexpected error in handler');
        answer({ code: status.INTERNAL, details: 'internal error' });
      },
    );
  };
}

function deadlineMs(call: ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms > 0 ? ms : Number.POSITIVE_INFINITY;
}

/** The caller a call's `authorization` metadata proves; UNAUTHENTICATED when it proves none. */
export async function authenticateCall(authenticator: Authenticator, metadata: Metadata): Promise<Principal> {
  const header = metadata.get('authorization')[0];
  try {
    return await authenticator.authenticate(typeof header === 'string' ? header : undefined);
  } catch (error) {
    if (error instanceof AuthenticationError) throw new GrpcError(status.UNAUTHENTICATED, error.message);
    throw error;
  }
}

/** The status each use-case refusal is answered with, the same in every service. */
export function useCaseStatus(kind: UseCaseErrorKind): status {
  switch (kind) {
    case 'not-found':
      return status.NOT_FOUND;
    case 'permission-denied':
      return status.PERMISSION_DENIED;
    case 'conflict':
      return status.ABORTED;
    case 'already-exists':
      return status.ALREADY_EXISTS;
    case 'failed-precondition':
    case 'idempotency-mismatch':
      return status.FAILED_PRECONDITION;
    case 'resource-exhausted':
      return status.RESOURCE_EXHAUSTED;
    case 'unavailable':
      return status.UNAVAILABLE;
    default:
      return assertNever(kind);
  }
}

const isUseCaseError = (error: unknown): error is UseCaseError => error instanceof UseCaseError;

function assertNever(value: never): never {
  throw new Error(`unhandled use-case error kind: ${String(value)}`);
}

/**
 * An error as the caller sees it: the service's own mapping (`toGrpcError`, for its domain
 * errors) first, then any use-case refusal by its kind; the message is the use case's, the
 * cause stays in logs. Anything else is left as it is (`unary` answers it INTERNAL).
 */
export function grpcErrorOf(error: unknown, toGrpcError: (error: unknown) => unknown = (e) => e): unknown {
  const mapped = toGrpcError(error);
  if (isUseCaseError(mapped)) {
    return new GrpcError(useCaseStatus(mapped.kind), mapped.message, { cause: mapped });
  }
  return mapped;
}

/**
 * The handler factory a Beacon service's gRPC adapter builds once: each handler authenticates
 * the caller from the `authorization` metadata, runs, and has its errors turned into statuses
 * (`grpcErrorOf`: the service's own domain errors, then use-case refusals); the rest is `unary`.
 */
export function authenticatedUnary(options: {
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** The service's domain errors to statuses; a use-case refusal needs none. */
  readonly toGrpcError?: (error: unknown) => unknown;
}) {
  return <Req, Res>(fn: (request: Req, caller: Principal, context: CallContext) => Promise<Res>) =>
    unary<Req, Res>(
      async (request, context) => {
        const caller = await authenticateCall(options.authenticator, context.metadata);
        try {
          return await fn(request, caller, context);
        } catch (error) {
          throw grpcErrorOf(error, options.toGrpcError);
        }
      },
      { logger: options.logger },
    );
}
