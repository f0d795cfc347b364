import { TEMPORAL_NAMESPACE, TEMPORAL_SEARCH_ATTRIBUTES, components } from './components.js';
import type { Endpoints } from './stack.js';
import { waitFor } from './wait.js';

/** Images for the container path; the compose file in infra/compose uses the same ones. */
export const IMAGES = {
  mongo: 'mongo:8.0',
  nats: 'nats:2.11-alpine',
  temporal: 'temporalio/temporal:1.9.1',
} as const;

/**
 * For users with a Docker engine (`BEACON_TEST_INFRA=containers`): the same three servers as
 * containers, MongoDB as a single-node replica set. Not exercised on machines without Docker,
 * which is where Beacon's own CI runs.
 */
export async function startContainers(): Promise<{ endpoints: Endpoints; stop: () => Promise<void> }> {
  // Loaded only here, so the default local path never needs Docker's client libraries.
  const { GenericContainer, Wait } = await import('testcontainers');

  const [natsC, mongoC, temporalC] = await Promise.all([
    new GenericContainer(IMAGES.nats)
      .withCommand(['-js', '-sd', '/data'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start(),
    new GenericContainer(IMAGES.mongo)
      .withCommand(['--replSet', 'rs0', '--bind_ip_all'])
      .withExposedPorts(27017)
      .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
      .start(),
    new GenericContainer(IMAGES.temporal)
      .withCommand([
        'server',
        'start-dev',
        '--ip',
        '0.0.0.0',
        '--namespace',
        TEMPORAL_NAMESPACE,
        ...Object.entries(TEMPORAL_SEARCH_ATTRIBUTES).flatMap(([k, t]) => [
          '--search-attribute',
          `${k}=${t}`,
        ]),
      ])
      .withExposedPorts(7233, 8233)
      .start(),
  ]);
  const initiated = await mongoC.exec([
    'mongosh',
    '--quiet',
    '--eval',
    "rs.initiate({_id:'rs0',members:[{_id:0,host:'127.0.0.1:27017'}]})",
  ]);
  if (initiated.exitCode !== 0) throw new Error(`replica set initiation failed: ${initiated.output}`);

  const endpoints: Endpoints = {
    natsUrl: `nats://${natsC.getHost()}:${natsC.getMappedPort(4222)}`,
    // The member calls itself 127.0.0.1 inside the container: connect directly, not via discovery.
    mongoUrl: `mongodb://${mongoC.getHost()}:${mongoC.getMappedPort(27017)}/?directConnection=true`,
    temporalAddress: `${temporalC.getHost()}:${temporalC.getMappedPort(7233)}`,
    temporalNamespace: TEMPORAL_NAMESPACE,
    temporalUiUrl: `http://${temporalC.getHost()}:${temporalC.getMappedPort(8233)}`,
  };
  await Promise.all(
    (['nats', 'mongo', 'temporal'] as const).map((name) =>
      waitFor(
        () =>
          components[name].ready(
            name === 'nats'
              ? endpoints.natsUrl
              : name === 'mongo'
                ? endpoints.mongoUrl
                : endpoints.temporalAddress,
          ),
        { what: `${name} container`, timeoutMs: 60_000, intervalMs: 250 },
      ),
    ),
  );
  return {
    endpoints,
    stop: async () => {
      await Promise.all([natsC.stop(), mongoC.stop(), temporalC.stop()]);
    },
  };
}
