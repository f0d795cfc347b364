/**
 * Storm control for the push channels (webhook and email). During a surge — a worm, a DDoS
 * wave, a flood of correlated reports — one incident can produce hundreds of events a minute;
 * paging a duty officer for each one buries the one that matters. So notifications are
 * coalesced per agency and incident into digests.
 *
 * This decides only what the push channels send. The feed (`beacon.feed.<agencyId>.…`) carries
 * every matched event, each on its own, never dropped or coalesced: it is the record, and a
 * digest points to it.
 *
 * Rule, per (agency, incident):
 * - A window of `windowMs` opens with the first event. The first `threshold` events in it are
 *   sent at once; later ones are held.
 * - When a window ends with events held, they go out as one digest, and the key stays in a
 *   storm: the next window opens at once and holds every event (threshold 0), so a lasting surge
 *   yields one digest per window and nothing else. A storm window that ends empty ends the storm.
 * - A digest keeps at most `maxDigestEvents` events and counts the rest as `omitted` (they are
 *   in the feed), so memory stays bounded whatever the surge.
 *
 * The decisions depend only on the offers and their times, never on when `due` is called: an
 * offer that finds its key's window ended settles it first, as `due` would have.
 */

export interface StormConfig {
  readonly windowMs: number;
  /** Events per window per (agency, incident) sent at once; more are held for a digest. */
  readonly threshold: number;
  /** Events a digest lists; default 100. */
  readonly maxDigestEvents?: number;
}

export type Offer = 'send-now' | 'held';

export interface Digest<E> {
  /** Stable for the same agency, incident and window: the idempotency key of its delivery. */
  readonly id: string;
  readonly agencyId: string;
  readonly incidentId: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  /** The held events in the order offered, at most `maxDigestEvents`. */
  readonly events: readonly E[];
  /** Held events beyond `maxDigestEvents`: counted, listed only in the feed. */
  readonly omitted: number;
}

export const DEFAULT_MAX_DIGEST_EVENTS = 100;

interface Window<E> {
  readonly agencyId: string;
  readonly incidentId: string;
  readonly start: number;
  readonly end: number;
  readonly storming: boolean;
  sent: number;
  readonly held: E[];
  omitted: number;
}

/** A deterministic state machine: no clock, no timers; the caller passes `now`. */
export class StormControl<E> {
  readonly #windowMs: number;
  readonly #threshold: number;
  readonly #maxDigestEvents: number;
  readonly #windows = new Map<string, Window<E>>();
  #ready: Digest<E>[] = [];

  constructor(config: StormConfig) {
    const { windowMs, threshold, maxDigestEvents = DEFAULT_MAX_DIGEST_EVENTS } = config;
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError('windowMs must be positive');
    if (!(Number.isInteger(threshold) && threshold >= 0))
      throw new RangeError('threshold must be a whole number ≥ 0');
    if (!(Number.isInteger(maxDigestEvents) && maxDigestEvents >= 1)) {
      throw new RangeError('maxDigestEvents must be a whole number ≥ 1');
    }
    this.#windowMs = windowMs;
    this.#threshold = threshold;
    this.#maxDigestEvents = maxDigestEvents;
  }

  /** Whether to notify of `event` now, or hold it for the (agency, incident) digest. */
  offer(agencyId: string, incidentId: string, event: E, now: Date): Offer {
    const at = now.getTime();
    const key = JSON.stringify([agencyId, incidentId]);
    this.#settle(key, at);
    let window = this.#windows.get(key);
    if (!window) {
      window = this.#open(agencyId, incidentId, at, false);
      this.#windows.set(key, window);
    }
    if (!window.storming && window.sent < this.#threshold) {
      window.sent += 1;
      return 'send-now';
    }
    if (window.held.length < this.#maxDigestEvents) window.held.push(event);
    else window.omitted += 1;
    return 'held';
  }

  /** Digests whose window ended by `now`, oldest window first; each is returned once. */
  due(now: Date): Digest<E>[] {
    const at = now.getTime();
    for (const key of [...this.#windows.keys()]) this.#settle(key, at);
    const ready = this.#ready.sort((a, b) => a.windowEnd.getTime() - b.windowEnd.getTime());
    this.#ready = [];
    return ready;
  }

  /** When the next digest falls due, for the caller's timer; undefined when nothing is held. */
  nextDueAt(): Date | undefined {
    let earliest: number | undefined;
    for (const window of this.#windows.values()) {
      if (window.held.length + window.omitted === 0) continue;
      if (earliest === undefined || window.end < earliest) earliest = window.end;
    }
    return earliest === undefined ? undefined : new Date(earliest);
  }

  /** Whether (agency, incident) is in a storm: its events are being held for digests. */
  isStorming(agencyId: string, incidentId: string): boolean {
    return this.#windows.get(JSON.stringify([agencyId, incidentId]))?.storming ?? false;
  }

  /** Closes the key's windows that ended by `at`, queueing their digests. */
  #settle(key: string, at: number): void {
    let window = this.#windows.get(key);
    while (window && window.end <= at) {
      const count = window.held.length + window.omitted;
      if (count > 0) {
        this.#ready.push({
          id: `digest:${window.agencyId}:${window.incidentId}:${window.start}`,
          agencyId: window.agencyId,
          incidentId: window.incidentId,
          windowStart: new Date(window.start),
          windowEnd: new Date(window.end),
          events: window.held,
          omitted: window.omitted,
        });
        // The storm goes on: the next window starts where this one ended.
        window = this.#open(window.agencyId, window.incidentId, window.end, true);
        this.#windows.set(key, window);
      } else {
        this.#windows.delete(key);
        window = undefined;
      }
    }
  }

  #open(agencyId: string, incidentId: string, start: number, storming: boolean): Window<E> {
    return {
      agencyId,
      incidentId,
      start,
      end: start + this.#windowMs,
      storming,
      sent: 0,
      held: [],
      omitted: 0,
    };
  }
}
