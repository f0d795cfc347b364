import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Db } from 'mongodb';
import { ServingStatus, type HealthRegistry } from './health.js';
import type { Logger } from './logger.js';

/** A server the process cannot serve without, and how to tell it answers. */
export interface Dependency {
  /** e.g. `store`, `nats`: named in the log lines of its outage. */
  readonly name: string;
  /** Resolves when it answers; rejects (or hangs past the timeout) when it does not. */
  probe(): Promise<unknown>;
}

/** The store answers a ping. */
export const storeDependency = (db: Db): Dependency => ({
  name: 'store',
  probe: () => db.command({ ping: 1 }),
});

/** NATS answers a round trip (a flush) on a connection that is not closed. */
export const natsDependency = (nc: NatsConnection): Dependency => ({
  name: 'nats',
  probe: () => (nc.isClosed() ? Promise.reject(new Error('closed')) : nc.flush()),
});

export interface DependencyWatchOptions {
  readonly health: HealthRegistry;
  /** The hosted services whose status follows the dependencies (not the whole server's, ''). */
  readonly services: readonly string[];
  readonly dependencies: readonly Dependency[];
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Keeps each hosted service's health NOT_SERVING while a dependency does not answer and
 * SERVING once all do, checking every couple of seconds. The whole server's status (the empty
 * name) is left alone: it says the process is alive, which is what a liveness probe asks, and a
 * store outage is no reason to restart a process. Readiness probes, the gateway and
 * `make status` ask for the service by name. Returns a function that stops the watch.
 */
export function watchDependencies(options: DependencyWatchOptions): () => void {
  const { health, services, dependencies, logger } = options;
  const timeoutMs = options.timeoutMs ?? 1_500;
  const down = new Set<string>();
  let stopped = false;

  const answers = async (dependency: Dependency): Promise<boolean> => {
    const probe = dependency.probe().then(
      () => true,
      () => false,
    );
    return Promise.race([probe, delay(timeoutMs, false, { ref: false })]);
  };

  const check = async () => {
    const results = await Promise.all(dependencies.map(async (d) => [d.name, await answers(d)] as const));
    if (stopped) return;
    for (const [name, ok] of results) {
      if (!ok && !down.has(name)) {
        down.add(name);
        logger.warn({ dependency: name }, 'a dependency does not answer: not serving until it does');
      } else if (ok && down.delete(name)) {
        logger.info({ dependency: name }, 'a dependency answers again');
      }
    }
    const status = down.size === 0 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    for (const service of services) health.set(service, status);
  };

  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= check().finally(() => (running = undefined));
  }, options.intervalMs ?? 2_000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
