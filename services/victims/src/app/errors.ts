import { UseCaseError, type UseCaseErrorKind } from '@beacon/domain';

/** The refusals victims' use cases make: every kind but `unavailable`. */
export type VictimsErrorKind = Exclude<UseCaseErrorKind, 'unavailable'>;

/** A request the use cases refuse; `kind` decides the status code at the edge (platform's `useCaseStatus`). */
export class VictimsError extends UseCaseError<VictimsErrorKind> {
  override readonly name = 'VictimsError';
}

/**
 * Sealed data could not be opened: it was altered, moved to another case or field, or its
 * key-encryption key is not configured. Never a caller's mistake: the edge answers with
 * DATA_LOSS or INTERNAL and keeps the detail in the log (which never holds the data).
 */
export class CipherError extends Error {
  override readonly name = 'CipherError';
  constructor(
    readonly kind: 'tampered' | 'unknown-key',
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
