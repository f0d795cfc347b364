import { UseCaseError } from '@beacon/domain';

/** The refusals impact's use cases make. */
export type ImpactErrorKind =
  'not-found' | 'permission-denied' | 'conflict' | 'already-exists' | 'failed-precondition';

/** A request the use cases refuse; `kind` decides the status code at the edge (platform's `useCaseStatus`). */
export class ImpactError extends UseCaseError<ImpactErrorKind> {
  override readonly name = 'ImpactError';
}

/** One bad field of one import row. */
export interface RowProblem {
  readonly row: number;
  readonly field: string;
  readonly message: string;
}
