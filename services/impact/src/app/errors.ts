/** A request the use cases refuse; `kind` decides the status code at the edge. */
export class ImpactError extends Error {
  override readonly name = 'ImpactError';
  constructor(
    readonly kind: 'not-found' | 'permission-denied' | 'conflict' | 'already-exists' | 'failed-precondition',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One bad field of one import row. */
export interface RowProblem {
  readonly row: number;
  readonly field: string;
  readonly message: string;
}
