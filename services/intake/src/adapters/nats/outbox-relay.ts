import { setTimeout as delay } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Collection } from 'mongodb';
import type { Logger } from '@beacon/platform';
import type { OutboxEntryDoc, OutboxFields } from '../mongo/documents.js';

type OutboxDoc = OutboxFields & { _id: string };

export interface OutboxRelayOptions {
  readonly sources: readonly Collection<OutboxDoc>[];
  readonly js: JetStreamClient;
  /** Subjects are `<root>.<event subject>`, e.g. `beacon.evt.incident.opened`. */
  readonly subjectRoot: string;
  readonly logger: Logger;
  /** How often to look for events when nobody kicked the relay. */
  readonly pollMs?: number;
  /** Documents read per pass. */
  readonly batch?: number;
}

/**
 * Publishes the events waiting in documents' outboxes to JetStream, then removes them. Each
 * message carries its event id as `Nats-Msg-Id`, so when a crash comes between the publish and
 * the removal, the republished copy is dropped by the stream: an event is stored exactly once
 * (within the stream's duplicate window). Events of one document go out in order.
 */
export class OutboxRelay {
  readonly #options: OutboxRelayOptions;
  #running: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #kicked = false;

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Looks for events now rather than at the next poll (called after every local write). */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  /** One pass over every source; returns how many events it published. */
  async drainOnce(): Promise<number> {
    let published = 0;
    for (const source of this.#options.sources) {
      const docs = await source
        .find({ outboxCount: { $gt: 0 } }, { projection: { outbox: 1, outboxCount: 1 } })
        .limit(this.#options.batch ?? 200)
        .toArray();
      const counts = await Promise.all(docs.map((doc) => this.#publishDoc(source, doc)));
      published += counts.reduce((a, b) => a + b, 0);
    }
    return published;
  }

  async #publishDoc(source: Collection<OutboxDoc>, doc: OutboxDoc): Promise<number> {
    const entries: OutboxEntryDoc[] = Object.values(doc.outbox ?? {}).sort((a, b) => a.seq - b.seq);
    const done: string[] = [];
    try {
      for (const entry of entries) {
        await this.#options.js.publish(`${this.#options.subjectRoot}.${entry.subject}`, entry.data.buffer, {
          msgID: entry.id,
        });
        done.push(entry.id);
      }
    } finally {
      if (done.length > 0) {
        await source.updateOne(
          { _id: doc._id },
          {
            $unset: Object.fromEntries(done.map((id) => [`outbox.${id}`, ''])),
            $inc: { outboxCount: -done.length },
          },
        );
      }
    }
    return done.length;
  }

  async #loop(): Promise<void> {
    const pollMs = this.#options.pollMs ?? 250;
    let failures = 0;
    while (!this.#stopped) {
      this.#kicked = false;
      try {
        const published = await this.drainOnce();
        failures = 0;
        if (published > 0) continue; // there may be more
      } catch (error) {
        failures += 1;
        this.#options.logger.warn({ err: error, failures }, 'outbox relay pass failed; retrying');
        await delay(Math.min(5_000, 100 * 2 ** failures));
        continue;
      }
      if (this.#kicked || this.#stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
