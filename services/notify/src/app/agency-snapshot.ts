import type { Subscription } from '../domain/subscription.js';
import type { AgencyStore, StoredAgency } from './ports.js';

type Entry = { readonly agency: StoredAgency; readonly subscriptions: readonly Subscription[] };

/** A copy is read again, whatever the revision says, after this many checks' worth of time. */
const FULL_RELOAD_CHECKS = 12;

/**
 * Every agency with its subscriptions, held in memory for the fan-out and the push channels,
 * which look at them for every event and every feed message. A read never waits for a
 * reload once a first copy exists: a stale copy is served while a fresh one loads. This
 * replica's own changes reload at once (`invalidate`); other replicas' are seen within `ttlMs`.
 * Every `ttlMs` the registry's revision is read (one small document) and the registry itself
 * only when the revision moved — reading it all costs the store about 75 ms of CPU at 200
 * agencies, measured, every five seconds while events flow — and in any case every
 * `FULL_RELOAD_CHECKS` periods, in case a replica stored a change and died before raising
 * the revision.
 */
export class AgencySnapshot {
  #current:
    | {
        /** When the copy was last found current. */
        at: number;
        readonly loadedAt: number;
        readonly revision: number;
        readonly entries: readonly Entry[];
        readonly byId: ReadonlyMap<string, Entry>;
      }
    | undefined;
  #loading: Promise<void> | undefined;
  #stale = false;

  constructor(
    private readonly store: Pick<AgencyStore, 'all' | 'revision'>,
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
    let revision: number;
    try {
      // The revision first: the registry read after it holds every change up to it.
      revision = await this.store.revision();
      const current = this.#current;
      const now = this.now();
      if (
        !wasStale &&
        current !== undefined &&
        current.revision === revision &&
        now - current.loadedAt <= FULL_RELOAD_CHECKS * this.ttlMs
      ) {
        current.at = now;
        return;
      }
      entries = await this.store.all();
    } catch (error) {
      this.#stale ||= wasStale;
      throw error;
    }
    const at = this.now();
    this.#current = {
      at,
      loadedAt: at,
      revision,
      entries,
      byId: new Map(entries.map((e) => [e.agency.id, e])),
    };
  }
}
