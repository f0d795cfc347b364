import type { ResponsePolicy } from '../domain/policy.js';
import type { ResponsePhase, ResponseStatus } from './definitions.js';
import type { EngagementRuns } from './engagement-runs.js';
import type { classic, quick } from './proxies.js';
import type { ResponseLedger } from './response-ledger.js';
import type { Note, ResponseState } from './response-state.js';

/**
 * What the parts of one IncidentResponse run share: who it is, its state and the rules for
 * it, and the calls it makes as its history recorded them. Built once by `incidentResponse`.
 */
export interface ResponseContext {
  readonly incidentId: string;
  /** The response's own workflow id, which its children report to. */
  readonly self: string;
  readonly policy: ResponsePolicy;
  readonly state: ResponseState;
  readonly ledger: ResponseLedger;
  /**
   * Where the response's engagements run. Created between the signal handlers that feed them
   * and the others (the order in which handlers are set decides which buffered signals run
   * first), so read it only from a handler or a step, never while building a part.
   */
  readonly engagements: EngagementRuns;
  readonly note: (entry: Note) => void;
  /** The response's calls to the services, as its history was recorded (`ResponseState.lean`). */
  readonly calls: () => typeof quick | typeof classic;
  /**
   * Whether a late assignment may never undo a coordinator's removal: asked only where it
   * changes what the response does, so other histories stay as they were.
   */
  readonly unassignmentWins: () => boolean;
  /** Writes the search attributes that changed, and the engagements for agencies' lists. */
  readonly publishSearchAttributes: () => void;
  readonly enter: (phase: ResponsePhase) => void;
  readonly status: (withDrafts?: boolean) => ResponseStatus;
}
