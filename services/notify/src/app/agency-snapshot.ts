import type { Subscription } from '../domain/subscription.js';
import type { AgencyStore, StoredAgency } from './ports.js';

type Entry = { readonly agency: StoredAgency; readonly subscriptions: readonly Subscription[] };

/**
 * Every agency with its subscriptions, held in memory for the fan-out and the push channels,
 * which look at them for every event and every feed message. A read never waits for a
 * reload once a first copy exists: a stale copy is served while a fresh one loads. This
 * replica's own changes reload at once (`invalidate`); other replicas' are seen within `ttlMs`.
 */
export class AgencySnapshot {
  #current: { at: number; entries: readonly Entry[]; byId: ReadonlyMap<string, Entry> } | undefined;
  #loading: Promise<void> | undefined;
  #stale = false;

  constructor(
    private readonly store: Pick<AgencyStore, 'all'>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The next read loads again; until then reads still get the current copy. */
  invalidate(): void {
    this.#stale = true;
  }

  async all(): Promise<readonly Entry[]> {
    return (await this.#snapshot()).entries;
  }

  async get(agencyId: string): Promise<StoredAgency | undefined> {
    return (await this.#snapshot()).byId.get(agencyId)?.agency;
  }

  async #snapshot() {
    const current = this.#current;
    const expired = current === undefined || this.#stale || this.now() - current.at > this.ttlMs;
    if (expired) {
      // The first read, or a change made here, must see the fresh copy (and its failure).
      const mustWait = current === undefined || this.#stale;
      this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
      if (mustWait) await this.#loading;
      // Otherwise the stale copy serves; a failed background reload is retried by the next read.
      else this.#loading.catch(() => undefined);
    }
    return this.#current!;
  }

  async #load(): Promise<void> {
    const wasStale = this.#stale;
    this.#stale = false;
    let entries: Awaited<ReturnType<AgencyStore['all']>>;
    try {
      entries = await this.store.all();
    } catch (error) {
      this.#stale ||= wasStale;
      throw error;
    }
    this.#current = { at: this.now(), entries, byId: new Map(entries.map((e) => [e.agency.id, e])) };
  }
}
