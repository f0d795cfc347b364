import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { watchDependencies } from './dependency-health.js';
import { HealthRegistry, ServingStatus } from './health.js';
import { createLogger } from './logger.js';

const quiet = createLogger({ name: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

/** Resolves once `predicate` holds, checking every few milliseconds. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('watchDependencies', () => {
  it('takes the services out of service while a dependency fails or hangs, and back once it answers', async () => {
    const health = new HealthRegistry(['beacon.x.v1.XService']);
    let store: 'up' | 'down' | 'hung' = 'up';
    const stop = watchDependencies({
      health,
      services: ['beacon.x.v1.XService'],
      dependencies: [
        {
          name: 'store',
          probe: () =>
            store === 'up'
              ? Promise.resolve()
              : store === 'down'
                ? Promise.reject(new Error('refused'))
                : new Promise(() => undefined),
        },
      ],
      logger: quiet,
      intervalMs: 10,
      timeoutMs: 30,
    });
    onTestFinished(stop);
    const status = () => health.get('beacon.x.v1.XService');

    store = 'down';
    await until(() => status() === ServingStatus.NOT_SERVING);
    // The process itself stays alive to a liveness probe.
    expect(health.get('')).toBe(ServingStatus.SERVING);
    store = 'up';
    await until(() => status() === ServingStatus.SERVING);
    store = 'hung';
    await until(() => status() === ServingStatus.NOT_SERVING);
    store = 'up';
    await until(() => status() === ServingStatus.SERVING);
  });
});
