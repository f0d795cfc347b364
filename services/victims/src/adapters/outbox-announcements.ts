import type { OutboxAnnouncer } from '@beacon/platform';

type Claim = ReturnType<OutboxAnnouncer['claimForWrite']>;

/**
 * Tells the outbox relay which documents have events, holding back those of a bulk intake.
 *
 * A campaign import writes a thousand cases a batch; publishing their events at once means a
 * thousand relay updates queued ahead of the next batch on a store that runs one write at a
 * time (FerretDB), which halves the import. So documents a bulk insert wrote are announced
 * once no bulk insert has come for `quietMs`, or at the latest `maxHoldMs` after the first
 * held one: the events trail the import by seconds, as the outbox allows. Everything else is
 * announced at once. Nothing is lost by holding: the documents keep their events, and the
 * relay's sweep finds them after a restart.
 */
export class OutboxAnnouncements {
  /** Held documents (each carries the relay's claim its write took). */
  readonly #held = new Set<string>();
  #since = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly relay: Pick<OutboxAnnouncer, 'mark' | 'claimForWrite' | 'announce'>,
    private readonly options: {
      readonly quietMs: number;
      readonly maxHoldMs: number;
      readonly bulkLeaseMs?: number;
    },
  ) {}

  /**
   * The relay's claim, to write beside the events (see `OutboxRelay.claimForWrite`). A bulk
   * insert's claim lasts `bulkLeaseMs`: its events are held back and then published ten
   * thousand at a time, and a document still waiting when its claim runs out would cost a
   * claim write that reads the whole collection on FerretDB. A relay that dies holding it
   * delays those events by that long.
   */
  claimForWrite(bulk = false): Claim {
    return this.relay.claimForWrite(bulk ? this.options.bulkLeaseMs : undefined);
  }

  /** Write-ahead: before the write that gives the documents events (see `PendingMarks`). */
  mark(ids: string | readonly string[]): Promise<void> {
    return this.relay.mark(ids);
  }

  now(id: string): void {
    this.relay.announce(id);
  }

  /** Documents a bulk insert wrote, with a claim in each. */
  afterBulk(ids: Iterable<string>): void {
    if (this.#held.size === 0) this.#since = performance.now();
    for (const id of ids) this.#held.add(id);
    clearTimeout(this.#timer);
    const left = this.options.maxHoldMs - (performance.now() - this.#since);
    if (left <= 0) {
      this.flush();
      return;
    }
    this.#timer = setTimeout(() => this.flush(), Math.min(this.options.quietMs, left));
    this.#timer.unref();
  }

  /** Announces everything held. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const id of this.#held) this.relay.announce(id);
    this.#held.clear();
  }
}
