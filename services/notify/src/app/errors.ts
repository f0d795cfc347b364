/** A request the use cases refuse; `kind` decides the status code at the edge. */
export class NotifyError extends Error {
  override readonly name = 'NotifyError';
  constructor(
    readonly kind:
      | 'not-found'
      | 'permission-denied'
      | 'conflict'
      | 'already-exists'
      | 'failed-precondition'
      /** Not yet: notify has not caught up with intake; the same call may succeed later. */
      | 'unavailable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
