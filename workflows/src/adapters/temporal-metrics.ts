import type { Logger, Metrics } from '@beacon/platform';

/**
 * Serves the Temporal core's worker metrics with Beacon's: each scrape of /metrics fetches the
 * core's Prometheus exporter (`TEMPORAL_METRICS_ADDRESS`, loopback) and appends its text, so a
 * worker process is one scrape target. `beacon_temporal_core_metrics_up` says whether the last
 * fetch worked; when it did not, the scrape carries Beacon's metrics alone.
 */
export function appendTemporalCoreMetrics(
  metrics: Metrics,
  address: string,
  logger: Logger,
  timeoutMs = 2_000,
): void {
  const up = metrics.gauge(
    'beacon_temporal_core_metrics_up',
    'Whether the Temporal core’s metrics were read for this scrape (1) or not (0).',
  );
  metrics.appendText(async () => {
    try {
      const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`the core's exporter answered ${response.status}`);
      const text = await response.text();
      up.set(1);
      return text;
    } catch (error) {
      up.set(0);
      logger.debug({ err: error, address }, 'Temporal core metrics not read');
      return '';
    }
  });
}
