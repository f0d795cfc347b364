/**
 * Why a use case refuses a request, in words every edge maps the same way: gRPC statuses in
 * `packages/platform`, and from those the gateway's RFC 9457 problems.
 */
export type UseCaseErrorKind =
  | 'not-found'
  | 'permission-denied'
  /** The thing changed meanwhile (a stale version, a lost race): read again and retry. */
  | 'conflict'
  | 'already-exists'
  /** The request is sound but the state refuses it (a lifecycle move, a missing consent). */
  | 'failed-precondition'
  /** An idempotency key sent again with another request. */
  | 'idempotency-mismatch'
  /** A limit was reached (a quota, too many guesses); retry later. */
  | 'resource-exhausted'
  /** Not yet: a dependency has not caught up; the same call may succeed later. */
  | 'unavailable';

/**
 * A request a use case refuses. Each service names its own subclass and the kinds it uses;
 * `kind` alone decides the status code at the edge, and the cause stays in logs.
 */
export class UseCaseError<K extends UseCaseErrorKind = UseCaseErrorKind> extends Error {
  override readonly name: string = 'UseCaseError';
  constructor(
    readonly kind: K,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
