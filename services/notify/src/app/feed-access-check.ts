import { mayRead, type Principal, withinClearance } from '@beacon/domain';
import type { Agency } from '../domain/agency.js';
import { feedItemDecision, feedItemRecipients, type FeedItem } from '../domain/feed-access.js';
import type { MatchDecision } from '../domain/matching.js';
import type { IncidentFacts } from './ports.js';

export interface FeedAccessCheckDeps {
  readonly agencies: { get(id: string): Promise<Pick<Agency, 'id' | 'clearance'> | undefined> };
  readonly incidents: { get(incidentId: string): Promise<IncidentFacts | undefined> };
  /** How long a looked-up agency or incident is reused; default 1 s. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

const DEFAULT_MAX_AGE_MS = 1_000;

/**
 * Asks, for each feed message about to be handed to an agency (streamed, replayed, pushed by
 * webhook or e-mail), whether the agency may read it now: by the agency's clearance and the
 * incident's label and recipients as notify knows them at that moment. A replay of thousands of
 * messages would otherwise read the registry and the incident for each, so lookups are reused
 * for at most `maxAgeMs` (a second): a removal or a clearance drop holds for every message
 * handed over from a second after notify learned of it, and the purge of retained copies
 * follows it.
 */
export class FeedAccessCheck {
  readonly #agencies: RecentLookups<Pick<Agency, 'id' | 'clearance'> | undefined>;
  readonly #incidents: RecentLookups<IncidentFacts | undefined>;

  constructor(deps: FeedAccessCheckDeps) {
    const options = { maxAgeMs: deps.maxAgeMs ?? DEFAULT_MAX_AGE_MS, ...(deps.now ? { now: deps.now } : {}) };
    this.#agencies = new RecentLookups((id) => deps.agencies.get(id), options);
    this.#incidents = new RecentLookups((id) => deps.incidents.get(id), options);
  }

  /**
   * The decision for one message of `agencyId`'s feed; an unknown agency receives nothing. A
   * `viewer` (the person reading the feed: the agency's own analyst, or a coordinator looking
   * at it) must also be allowed to read the message by the same rule: clearance bounds every
   * role, so a token cleared below the agency's sees no more than its clearance allows.
   */
  async decide(agencyId: string, item: FeedItem, viewer?: Principal): Promise<MatchDecision> {
    const [agency, incident] = await Promise.all([
      this.#agencies.get(agencyId),
      item.incidentId === '' ? Promise.resolve(undefined) : this.#incidents.get(item.incidentId),
    ]);
    if (!agency) return { deliver: false, reason: 'not-named' };
    const decision = feedItemDecision(agency, item, incident);
    if (decision.deliver && viewer && !mayRead(viewer, feedItemRecipients(item, incident))) {
      return { deliver: false, reason: withinClearance(viewer, item.tlp) ? 'not-named' : 'above-clearance' };
    }
    return decision;
  }

  async mayReceive(agencyId: string, item: FeedItem, viewer?: Principal): Promise<boolean> {
    return (await this.decide(agencyId, item, viewer)).deliver;
  }
}

/**
 * Lookups by key, each reused for at most `maxAgeMs` (a failed one is not kept), at most 1,000
 * keys (a long replay over many incidents forgets the oldest first). One instance may serve
 * every feed stream of a process: an incident's facts are the same whichever agency asks.
 */
export class RecentLookups<T> {
  readonly #entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly options: { readonly maxAgeMs?: number; readonly now?: () => number } = {},
  ) {}

  get(key: string): Promise<T> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < (this.options.maxAgeMs ?? DEFAULT_MAX_AGE_MS)) return hit.value;
    const value = this.load(key);
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    this.#entries.delete(key);
    if (this.#entries.size >= 1_000) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { at: now, value });
    return value;
  }
}
