import { UseCaseError } from '@beacon/domain';

/** The refusals notify's use cases make. */
export type NotifyErrorKind =
  | 'not-found'
  | 'permission-denied'
  | 'conflict'
  | 'already-exists'
  | 'failed-precondition'
  /** Not yet: notify has not caught up with intake; the same call may succeed later. */
  | 'unavailable';

/** A request the use cases refuse; `kind` decides the status code at the edge (platform's `useCaseStatus`). */
export class NotifyError extends UseCaseError<NotifyErrorKind> {
  override readonly name = 'NotifyError';
}
