import { RateLimiter } from '@beacon/platform';
import { parseReference } from '../domain/case-reference.js';
import type { CaseStatus } from '../domain/model.js';
import { VictimsError } from './errors.js';
import type { AuditLog, Clock, SearchHasher } from './ports.js';
import type { Caller } from '../domain/access.js';

/** A reference that does not parse: the edge names the field. */
export class MalformedReferenceError extends Error {
  override readonly name = 'MalformedReferenceError';
}

/** The caller or its address has spent its failed look-ups; `retryAfterSeconds` says when to try again. */
export class TooManyLookupsError extends VictimsError {
  constructor(readonly retryAfterSeconds: number) {
    super('resource-exhausted', `too many failed look-ups; retry in ${retryAfterSeconds} s`);
  }
}

export interface LookupLimits {
  /** Failed look-ups allowed per caller and per client address in a burst … */
  readonly failuresBurst: number;
  /** … and per minute after it. */
  readonly failuresPerMinute: number;
}

export interface StatusLookupDeps {
  readonly lookup: (reference: string) => Promise<CaseStatus>;
  readonly audit: AuditLog;
  readonly hasher: SearchHasher;
  readonly clock: Clock;
  readonly limits: LookupLimits;
  /** Counts each look-up's outcome (a metric); never the caller, address or reference. */
  readonly record?: (outcome: 'found' | 'failed' | 'refused') => void;
}

/** A guess is hashed from at most this much of it: longer input is garbage anyway. */
const MAX_HASHED_GUESS = 64;

/**
 * A victim's status by the reference they were given. A reference is a bearer secret, so a
 * wrong one (malformed or leading nowhere) is a guess: guesses are limited per caller and per
 * client address (once spent, the next look-up is refused before any is made), and each one is
 * audited under a keyed hash of what was guessed, never the guess itself. This replica's
 * counts only; with several replicas a guesser gets a budget at each.
 */
export class StatusLookup {
  readonly #byCaller: RateLimiter;
  readonly #byAddress: RateLimiter;

  constructor(private readonly deps: StatusLookupDeps) {
    const { failuresBurst, failuresPerMinute } = deps.limits;
    this.#byCaller = new RateLimiter(failuresPerMinute / 60, failuresBurst);
    this.#byAddress = new RateLimiter(failuresPerMinute / 60, failuresBurst);
  }

  /**
   * `address`: the client's, as the gateway names it, or undefined for a direct internal call
   * (then only the caller's budget applies).
   */
  async lookup(caller: Caller, address: string | undefined, reference: string): Promise<CaseStatus> {
    const callerKey = `${caller.agencyId ?? ''}/${caller.subject}`;
    const wait = Math.max(this.#byCaller.peek(callerKey), address ? this.#byAddress.peek(address) : 0);
    if (wait > 0) {
      this.deps.record?.('refused');
      throw new TooManyLookupsError(wait);
    }
    const parsed = parseReference(reference);
    try {
      if (!parsed.ok) throw new MalformedReferenceError(parsed.reason);
      const found = await this.deps.lookup(parsed.reference);
      this.deps.record?.('found');
      return found;
    } catch (error) {
      if (
        error instanceof MalformedReferenceError ||
        (error instanceof VictimsError && error.kind === 'not-found')
      ) {
        this.deps.record?.('failed');
        this.#byCaller.take(callerKey);
        if (address) this.#byAddress.take(address);
        await this.#audit(caller, reference);
      }
      throw error;
    }
  }

  #audit(caller: Caller, guess: string): Promise<void> {
    const hash = this.deps.hasher.caseIdOf(guess.slice(0, MAX_HASHED_GUESS));
    return this.deps.audit.append({
      at: this.deps.clock.now(),
      actor: caller.subject,
      actorOrgId: caller.agencyId,
      action: 'lookup-failed',
      caseIds: [],
      detail: `reference hash ${hash}`,
    });
  }
}
