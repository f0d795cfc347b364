import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  connectNats,
  createLogger,
  createOperatorSetup,
  GATEWAY_LIMITS_SUBJECT,
  mintGatewayUser,
  mintServiceUser,
  natsClientFrom,
  NATS_CLIENT_ENV,
  parseConfig,
  renderOperatorConfig,
} from '@beacon/platform';
import {
  natsReady,
  startDedicated,
  test as base,
  type DedicatedServer,
  type Endpoints,
  type TestNames,
} from '@beacon/testkit';
import { loadConfig, startGateway } from '../src/index.js';
import { callFrom } from './client.js';
import { http, startTestStack } from './harness.js';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

/**
 * The gateway's replicas share their rate limits over core NATS (`limit-sharing.ts`). In
 * operator mode, as `make up`, the compose file and the production overlay run NATS, the
 * gateway connects as a user of its own that may publish and subscribe on the limit-sharing
 * subject and nothing else (`mintGatewayUser`): sharing works with it, and everything else is
 * refused.
 */

interface OperatorNats {
  readonly server: DedicatedServer;
  /** `.creds` files: gateway users (each replica has its own file here) and a service user. */
  readonly gatewayCreds: readonly [string, string, string];
  readonly serviceCreds: string;
}

const test = base.extend(
  'operatorNats',
  { scope: 'file' },
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's needs from the pattern
  async ({}, { onCleanup }): Promise<OperatorNats> => {
    const setup = await createOperatorSetup();
    const dir = mkdtempSync(join(tmpdir(), 'beacon-gateway-nats-'));
    const write = (name: string, creds: string) => {
      const file = join(dir, `${name}.creds`);
      writeFileSync(file, creds, { mode: 0o600 });
      return file;
    };
    const gatewayCreds = [
      write('gateway-1', (await mintGatewayUser(setup.signer)).creds),
      write('gateway-2', (await mintGatewayUser(setup.signer)).creds),
      write('gateway-3', (await mintGatewayUser(setup.signer)).creds),
    ] as const;
    const serviceCreds = write('intake', (await mintServiceUser(setup.signer, { name: 'intake' })).creds);
    const server = await startDedicated('nats', {
      natsConfig: renderOperatorConfig(setup),
      // Anonymous clients are refused: the kit's probe connects as a service user.
      ready: (url) => natsReady(url, serviceCreds),
    });
    onCleanup(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    return { server, gatewayCreds, serviceCreds };
  },
);

const connectAs = (url: string, credsFile: string, name: string) =>
  connectNats({
    servers: url,
    name,
    ...natsClientFrom(parseConfig(NATS_CLIENT_ENV, { NATS_CREDS_FILE: credsFile })),
  });

/**
 * Two gateway replicas with `nats` in their environment: the whole budget of a caller spent at
 * the first is spent at the second too, though the second never saw the caller. `listener`
 * hears the replicas' reports, so the test knows when the first one has told.
 */
async function twoReplicasShareABudget(
  infra: Endpoints,
  names: TestNames,
  nats: Record<string, string> & { RATE_LIMIT_SUBJECT: string },
  secondNats: Record<string, string>,
  listener: NatsConnection,
): Promise<void> {
  const limits = { RATE_LIMIT_SHARE_MS: '50', RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '4' };
  const stack = await startTestStack(infra, names, { ...nats, ...limits });
  const keys = { jwks: { keys: stack.issuer.jwks } };
  const config = loadConfig({
    INTAKE_ADDRESS: `127.0.0.1:${stack.intake.port}`,
    AUTH_ISSUER: stack.issuer.issuer,
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    ...secondNats,
    ...limits,
  });
  let second: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    second = await startGateway(
      { ...config, grpcPort: 0, httpPort: 0, auth: { ...config.auth, ...keys } },
      createLogger({ name: 'gateway-test', level: 'silent' }),
    );
    let reported = 0;
    let heard: () => void = () => undefined;
    const told = new Promise<void>((resolve) => (heard = resolve));
    listener.subscribe(nats.RATE_LIMIT_SUBJECT, {
      callback: (_error, message) => {
        const report = message.json<{ taken: { subject?: [string, number][] } }>();
        for (const [, count] of report.taken.subject ?? []) reported += count;
        if (reported >= 4) heard();
      },
    });
    await listener.flush();
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const secondUrl = `http://127.0.0.1:${second.httpPort}/v1/incidents`;
    // The whole budget spent at the first replica …
    for (let i = 0; i < 4; i++)
      expect((await http(stack, 'GET', '/v1/incidents', { token })).status).toBe(200);
    await told;
    // … is spent at the second too; another caller is served.
    const refused = await callFrom('127.0.0.1', secondUrl, { token });
    expect(refused.status).toBe(429);
    expect(JSON.stringify(JSON.parse(refused.text))).not.toContain('cert-fr');
    const other = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    expect((await callFrom('127.0.0.1', secondUrl, { token: other })).status).toBe(200);
  } finally {
    await second?.stop();
    await stack.stop();
  }
}

describe('gateway replicas share their limits through NATS', () => {
  test('on a NATS that admits anyone', async ({ infra, names }) => {
    const nats = { NATS_URL: infra.natsUrl, RATE_LIMIT_SUBJECT: names.subject(GATEWAY_LIMITS_SUBJECT) };
    const listener = await connectNats({ servers: infra.natsUrl, name: 'gateway-test' });
    try {
      await twoReplicasShareABudget(infra, names, nats, nats, listener);
    } finally {
      await listener.close();
    }
  });

  test('in operator mode, each replica as a gateway user of its own', async ({
    infra,
    names,
    operatorNats,
  }) => {
    const url = operatorNats.server.url;
    const [first, second, third] = operatorNats.gatewayCreds;
    // The listener is a gateway user too: what it hears, any gateway user may hear.
    const listener = await connectAs(url, third, 'gateway-test');
    try {
      await twoReplicasShareABudget(
        infra,
        names,
        { NATS_URL: url, NATS_CREDS_FILE: first, RATE_LIMIT_SUBJECT: GATEWAY_LIMITS_SUBJECT },
        { NATS_URL: url, NATS_CREDS_FILE: second },
        listener,
      );
    } finally {
      await listener.close();
    }
  });
});

describe('the gateway’s NATS user', () => {
  test('publishes and subscribes on the limit-sharing subject; any other subject, JetStream and inboxes are refused', async ({
    operatorNats,
  }) => {
    const url = operatorNats.server.url;
    const [first, second] = operatorNats.gatewayCreds;
    const gateway = await connectAs(url, first, 'gateway-1');
    const peer = await connectAs(url, second, 'gateway-2');
    const service = await connectAs(url, operatorNats.serviceCreds, 'intake');
    try {
      const forbidden = ['beacon.evt.intake.incident.opened', 'beacon.feed.cert-a.i-1.GREEN.intake.opened'];
      const refusedPublications = publishRefusals(gateway, forbidden);
      // Awaited below; a failure before then must not also surface as an unhandled rejection.
      refusedPublications.catch(() => undefined);

      // Allowed: a report from one gateway reaches the others (and, over the whole account, services).
      const atPeer = nextMessage(peer, GATEWAY_LIMITS_SUBJECT);
      const seenByService: string[] = [];
      let sawReport: () => void = () => undefined;
      const serviceSawReport = new Promise<void>((resolve) => (sawReport = resolve));
      service.subscribe('beacon.>', {
        callback: (_error, message) => {
          seenByService.push(message.subject);
          if (message.subject === GATEWAY_LIMITS_SUBJECT) sawReport();
        },
      });
      await Promise.all([peer.flush(), service.flush()]);

      // Refused: publishing an event or a feed copy. One connection's messages arrive in order,
      // so once the report that follows them has arrived, they would have arrived before it.
      for (const subject of forbidden) gateway.publish(subject, '{}');
      gateway.publish(GATEWAY_LIMITS_SUBJECT, JSON.stringify({ from: 'test', taken: {} }));
      expect((await atPeer).subject).toBe(GATEWAY_LIMITS_SUBJECT);
      await serviceSawReport;
      expect(seenByService).toEqual([GATEWAY_LIMITS_SUBJECT]);
      await refusedPublications;

      // Refused: reading events or feeds, the JetStream API and replies (no inbox at all).
      for (const subject of ['beacon.evt.>', 'beacon.feed.cert-a.>', '>', '_INBOX.>']) {
        await expect(subscriptionError(gateway, subject), subject).resolves.toMatch(
          /Permissions Violation for Subscription/,
        );
      }
      await expect(gateway.request('$JS.API.INFO', '', { timeout: 5_000 })).rejects.toThrow(
        /Permissions Violation/,
      );
      // The same request by a service user is answered: the server's JetStream is there.
      const info = await service.request('$JS.API.INFO', '', { timeout: 5_000 });
      expect(info.json<{ type: string }>().type).toBe('io.nats.jetstream.api.v1.account_info_response');

      // And the connection stays usable for what it is for.
      const again = nextMessage(peer, GATEWAY_LIMITS_SUBJECT);
      await peer.flush();
      gateway.publish(GATEWAY_LIMITS_SUBJECT, JSON.stringify({ from: 'test', taken: {} }));
      expect((await again).subject).toBe(GATEWAY_LIMITS_SUBJECT);
    } finally {
      await Promise.all([gateway.close(), peer.close(), service.close()]);
    }
  });
});

function nextMessage(nc: NatsConnection, subject: string): Promise<{ subject: string }> {
  return new Promise((resolve, reject) => {
    nc.subscribe(subject, {
      max: 1,
      callback: (error, message) => (error ? reject(error) : resolve({ subject: message.subject })),
    });
  });
}

/** The error the server answers a subscription with (the client closes the subscription). */
function subscriptionError(nc: NatsConnection, subject: string): Promise<string> {
  return new Promise((resolve, reject) => {
    nc.subscribe(subject, {
      callback: (error) => (error ? resolve(String(error)) : reject(new Error(`received on ${subject}`))),
    });
  });
}

/** Resolves once the server has refused a publication to each of `subjects` (in the status). */
async function publishRefusals(nc: NatsConnection, subjects: readonly string[]): Promise<void> {
  const pending = new Set(subjects);
  for await (const s of nc.status()) {
    if (s.type !== 'error') continue;
    const refused = /Permissions Violation for Publish to "([^"]+)"/.exec(String(s.error))?.[1];
    if (refused) pending.delete(refused);
    if (pending.size === 0) return;
  }
  throw new Error(`the connection closed before refusals of ${[...pending].join(', ')}`);
}
