import { readableEntry, type OutboxEntry } from './outbox-entry.js';
import type { OutboxDoc } from './outbox-document.js';

/** One source's unpublished events, as the relay's last sweep of it saw them (`backlog`). */
export interface OutboxBacklog {
  readonly source: string;
  readonly events: number;
  /** When the oldest waiting event was written; undefined when none waits. */
  readonly oldest: Date | undefined;
  /** More documents may wait than the sweep read. */
  readonly truncated: boolean;
}

/** The events a sweep found and left unpublished, for one source (see `OutboxRelay.backlog`). */
export class Tally {
  #events = 0;
  #oldest: Date | undefined;

  /** `doc` as read, after `published` of its events (the first, in order) went out. */
  add(doc: OutboxDoc, published: number): void {
    const entries = Object.values(doc.outbox ?? {}).map(readableEntry);
    // A document with an unreadable entry is published not at all (see `#publishDoc`).
    const left: (OutboxEntry | undefined)[] = entries.every((entry) => entry !== undefined)
      ? entries.sort((a, b) => a.seq - b.seq).slice(published)
      : entries;
    this.#events += left.length;
    for (const entry of left) {
      if (entry && (!this.#oldest || entry.createdAt < this.#oldest)) this.#oldest = entry.createdAt;
    }
  }

  backlog(source: string, truncated: boolean): OutboxBacklog {
    return { source, events: this.#events, oldest: this.#oldest, truncated };
  }
}
