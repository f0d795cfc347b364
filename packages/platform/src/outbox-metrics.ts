import type { Logger } from './logger.js';
import { cachedLoader, type Metrics } from './metrics.js';
import type { OutboxBacklog } from './outbox-backlog.js';
import type { OutboxRelay } from './outbox-relay.js';

/**
 * The outbox backlog of a process's relay, as its own sweeps saw it (`OutboxRelay.backlog`): no
 * read of the database per scrape, which on FerretDB would scan each source collection.
 *
 * - `beacon_outbox_pending_events{source}`: events written and not yet published;
 * - `beacon_outbox_oldest_pending_age_seconds{source}`: how long the oldest has waited (0 when
 *   none waits) — the alert to set, since a healthy relay publishes within milliseconds.
 *
 * Counted from the documents the sweeps read, not from the relay's memory of what it was told,
 * so events another replica or a crash left behind count too. How stale: as of the relay's last
 * sweep of the source (about `sweepMs`, 5 s by default, plus the sweep's duration, or longer
 * while failing passes back off), and events younger than the relay's `markAgeMs` are not yet
 * counted; the age is computed at scrape time, so a stuck event's age keeps growing between
 * sweeps. Above a sweep's batch of documents (200) per source, the count is a floor.
 */
export function watchOutbox(
  metrics: Metrics,
  relay: Pick<OutboxRelay, 'backlog'>,
  options: { readonly logger: Logger; readonly cacheMs?: number; readonly now?: () => number },
): void {
  const now = options.now ?? Date.now;
  const load = cachedLoader(() => relay.backlog(), options.cacheMs ?? 1_000);
  const read = () =>
    load().catch((error: unknown) => {
      options.logger.debug({ err: error }, 'outbox backlog not read for metrics');
      return [] as OutboxBacklog[];
    });
  metrics.gauge(
    'beacon_outbox_pending_events',
    'Events written to outboxes and not yet published to JetStream.',
    ['source'],
    async function () {
      const backlog = await read();
      this.reset();
      for (const b of backlog) this.labels(b.source).set(b.events);
    },
  );
  metrics.gauge(
    'beacon_outbox_oldest_pending_age_seconds',
    'How long the oldest unpublished outbox event has waited, in seconds; 0 when none waits.',
    ['source'],
    async function () {
      const backlog = await read();
      this.reset();
      for (const b of backlog) {
        this.labels(b.source).set(b.oldest ? Math.max(0, (now() - b.oldest.getTime()) / 1000) : 0);
      }
    },
  );
}
