import { status, type handleUnaryCall, type Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from './logger.js';

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
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface UnaryOptions {
  readonly logger: Logger;
  /** The longest any call may run, whatever deadline the client set (or if it set none). */
  readonly maxCallMs?: number;
}

const DEFAULT_MAX_CALL_MS = 30_000;

/**
 * Adapts an async handler to grpc-js. The handler gets an AbortSignal that fires when the client
 * goes away or the deadline passes, so no call outlives its caller; at the deadline the client
 * gets DEADLINE_EXCEEDED even if the handler ignores the signal. Unexpected errors are logged
 * and reach the client as INTERNAL without their message, which may hold internals.
 */
export function unary<Req, Res>(
  handler: (request: Req, context: CallContext) => Promise<Res>,
  options: UnaryOptions,
): handleUnaryCall<Req, Res> {
  const maxCallMs = options.maxCallMs ?? DEFAULT_MAX_CALL_MS;
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const controller = new AbortController();
    const deadline = new Date(Math.min(deadlineMs(call), Date.now() + maxCallMs));
    let answered = false;
    const answer = (error: { code: status; details: string } | null, response?: Res) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (error) callback(error);
      else callback(null, response);
    };
    const timer = setTimeout(() => {
      controller.abort(new GrpcError(status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      answer({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' });
    }, deadline.getTime() - Date.now());
    call.once('cancelled', () => {
      controller.abort(new GrpcError(status.CANCELLED, 'cancelled by the client'));
      answered = true;
      clearTimeout(timer);
    });

    handler(call.request, { signal: controller.signal, metadata: call.metadata, deadline }).then(
      (response) => answer(null, response),
      (error: unknown) => {
        if (error instanceof GrpcError) {
          answer({ code: error.code, details: error.message });
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
