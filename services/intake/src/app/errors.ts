import { UseCaseError } from '@beacon/domain';

/** The refusals intake's use cases make. */
export type IntakeErrorKind =
  | 'not-found'
  | 'permission-denied'
  | 'conflict'
  | 'failed-precondition'
  | 'idempotency-mismatch'
  /** Not yet: another request is opening the incident this one joins (`IndicatorClaims`). */
  | 'unavailable';

/** A request the use cases refuse; `kind` decides the status code at the edge (platform's `useCaseStatus`). */
export class IntakeError extends UseCaseError<IntakeErrorKind> {
  override readonly name = 'IntakeError';
}
