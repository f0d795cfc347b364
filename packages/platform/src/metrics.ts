import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger.js';

export type { Counter, Gauge, Histogram } from 'prom-client';

/** Where a process serves `/metrics`: `METRICS_HOST` and `METRICS_PORT` (0 picks a free port). */
export interface MetricsServerConfig {
  readonly host: string;
  readonly port: number;
}

/** Seconds, from a millisecond to half a minute: RPCs, REST calls and webhook attempts. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/**
 * One process's Prometheus metrics: its own registry (several services may share a process in
 * tests, each keeping its own), Node's process metrics, and factories so that no service needs
 * prom-client itself. Label values must come from small fixed sets (methods, routes, codes,
 * channel names), never from ids of incidents, agencies or people.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #extraText: (() => Promise<string>)[] = [];

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Counter<L>) => void | Promise<void>,
  ): Counter<L> {
    return new Counter<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect } : {}),
    });
  }

  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect } : {}),
    });
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ): Histogram<L> {
    return new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }

  /**
   * Adds exposition text from elsewhere to every scrape (the Temporal core's own exporter), so
   * that a process stays one scrape target. The source must not repeat a metric name of ours.
   */
  appendText(source: () => Promise<string>): void {
    this.#extraText.push(source);
  }

  /** The Prometheus text exposition of everything above. */
  async render(): Promise<string> {
    const extra = await Promise.all(this.#extraText.map((source) => source()));
    const own = await this.registry.metrics();
    return [own, ...extra].map((text) => (text.endsWith('\n') ? text : `${text}\n`)).join('');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export interface RunningMetricsServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Serves `GET /metrics` (and nothing else) over plain HTTP for Prometheus to scrape. A scrape
 * that fails answers 500 and is logged; it never takes the process down.
 */
export async function startMetricsServer(
  metrics: Metrics,
  config: MetricsServerConfig,
  logger: Logger,
): Promise<RunningMetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      },
    );
  });
  // A scrape is one short request: never let a slow client hold a socket.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ metricsPort: port, host: config.host }, 'metrics served at /metrics');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Calls `load` at most once per `ttlMs`, and once at a time: scrapers that arrive together
 * (a pair of Prometheus servers, each gauge of one snapshot) share one load. A failed load is
 * not kept, so the next scrape tries again.
 */
export function cachedLoader<T>(
  load: () => Promise<T>,
  ttlMs: number,
  now: () => number = performance.now.bind(performance),
) {
  let cached: { at: number; value: Promise<T> } | undefined;
  return (): Promise<T> => {
    const at = now();
    if (cached && at - cached.at < ttlMs) return cached.value;
    const value = load();
    const entry = { at, value };
    cached = entry;
    value.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return value;
  };
}
