/** A request the use cases refuse; `kind` decides the status code at the edge. */
export class IntakeError extends Error {
  override readonly name = 'IntakeError';
  constructor(
    readonly kind:
      'not-found' | 'permission-denied' | 'conflict' | 'failed-precondition' | 'idempotency-mismatch',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
