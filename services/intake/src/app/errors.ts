import { UseCaseError } from '@beacon/domain';

/** The refusals intake's use cases make. */
export type IntakeErrorKind =
  'not-found' | 'permission-denied' | 'conflict' | 'failed-precondition' | 'idempotency-mismatch';

/** A request the use cases refuse; `kind` decides the status code at the edge (platform's `useCaseStatus`). */
export class IntakeError extends UseCaseError<IntakeErrorKind> {
  override readonly name = 'IntakeError';
}
