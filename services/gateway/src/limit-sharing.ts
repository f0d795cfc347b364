import { randomUUID } from 'node:crypto';
import type { connectNats, Logger } from '@beacon/platform';
import type { RateLimiter } from '@beacon/platform';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

/** One replica's report: what it took per limit and key since its last report. */
interface Report {
  readonly from: string;
  readonly taken: Record<string, [key: string, count: number][]>;
}

/** Keys per report at most; a flood of distinct keys is sent in several messages. */
const KEYS_PER_MESSAGE = 2_000;

/**
 * Shares the gateway's rate limits across its replicas over core NATS: every `intervalMs` each
 * replica publishes what it took per key, and takes from its own buckets what the others
 * report. No request waits for NATS (a decision is local, so a flood costs no round trip per
 * request); the price is that a limit can be overshot by what the other replicas allow within
 * one interval. Without NATS, or while it is away, each replica limits on its own.
 *
 * Keys are already hashed (`limitKey`), so no client address or subject travels over NATS.
 */
export class LimitSharing {
  readonly #instance = randomUUID();
  readonly #timer: NodeJS.Timeout;
  readonly #subscription: ReturnType<NatsConnection['subscribe']>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly limiters: Readonly<Record<string, RateLimiter>>,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.#subscription = nc.subscribe(subject, {
      callback: (error, message) => {
        if (error) return;
        try {
          this.#absorb(message.json<Report>());
        } catch (caught) {
          this.logger.warn({ err: caught }, 'ignored a malformed rate-limit report');
        }
      },
    });
    this.#timer = setInterval(() => this.#publish(), intervalMs);
    this.#timer.unref();
  }

  #absorb(report: Report): void {
    if (report.from === this.#instance || typeof report.taken !== 'object') return;
    for (const [name, entries] of Object.entries(report.taken)) {
      const limiter = this.limiters[name];
      if (!limiter || !Array.isArray(entries)) continue;
      for (const [key, count] of entries) {
        if (typeof key === 'string' && typeof count === 'number' && count > 0) limiter.absorb(key, count);
      }
    }
  }

  #publish(): void {
    if (this.nc.isClosed()) return;
    let taken: Report['taken'] = {};
    let keys = 0;
    const send = () => {
      if (keys === 0) return;
      this.nc.publish(this.subject, JSON.stringify({ from: this.#instance, taken } satisfies Report));
      taken = {};
      keys = 0;
    };
    for (const [name, limiter] of Object.entries(this.limiters)) {
      for (const entry of limiter.drain()) {
        (taken[name] ??= []).push(entry);
        if (++keys >= KEYS_PER_MESSAGE) send();
      }
    }
    send();
  }

  /** Sends what is left and stops listening. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#publish();
    this.#subscription.unsubscribe();
    await this.nc.drain().catch(() => undefined);
  }
}
