import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { expect } from 'vitest';
import { createLogger, NatsConnectError } from '@beacon/platform';
import {
  startDedicated,
  test as base,
  type DedicatedServer,
  type Endpoints,
  type TestNames,
} from '@beacon/testkit';
import {
  createOperatorSetup,
  mintServiceUser,
  renderOperatorConfig,
  type OperatorSetup,
} from '../src/adapters/nats/credentials.js';
import { loadConfig, startNotify } from '../src/index.js';

/**
 * Notify against a NATS server in operator mode, as a production deployment with agencies' feed
 * credentials runs it: the server admits only users whose JWT the Beacon account signed, so
 * notify itself connects with a credentials file (NATS_CREDS_FILE) of such a user.
 */

const encode = (text: string) => new TextEncoder().encode(text);

const test = base
  .extend('operator', { scope: 'file' }, async (): Promise<OperatorSetup> => createOperatorSetup())
  .extend('server', { scope: 'file' }, async ({ operator }, { onCleanup }): Promise<DedicatedServer> => {
    const probe = await mintServiceUser(operator.signer, { name: 'probe' });
    const server = await startDedicated('nats', {
      natsConfig: renderOperatorConfig(operator),
      // Anonymous clients are refused in operator mode, so the kit's own probe cannot work.
      ready: async (url) => {
        const nc = await connect({
          servers: url,
          authenticator: credsAuthenticator(encode(probe.creds)),
          reconnect: false,
          timeout: 2_000,
        });
        try {
          await jetstreamManager(nc);
        } finally {
          await nc.close();
        }
      },
    });
    onCleanup(() => server.stop());
    return server;
  });

function notifyEnv(infra: Endpoints, names: TestNames, server: DedicatedServer) {
  return {
    MONGO_URL: infra.mongoUrl,
    NOTIFY_DB: names.database('notify'),
    NATS_URL: server.url,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    FEEDS_STREAM: names.stream('FEEDS'),
    FEEDS_SUBJECT_ROOT: names.subject('beacon.feed'),
    NOTIFY_FANOUT_CONSUMER: names.stream('fanout'),
    NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
    AUTH_ISSUER: 'https://id.example',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
  };
}

const start = (environment: Record<string, string>) => {
  const config = loadConfig(environment);
  return startNotify(
    { ...config, grpc: { host: '127.0.0.1', port: 0 } },
    createLogger({ name: 'notify-operator-test', level: 'silent' }),
  );
};

test('notify connects with NATS_CREDS_FILE and declares its streams and consumers', async ({
  infra,
  names,
  operator,
  server,
}) => {
  const dir = join(server.process.spec.logFile, '..');
  const credsFile = join(dir, 'notify.creds');
  writeFileSync(credsFile, (await mintServiceUser(operator.signer, { name: 'notify' })).creds);
  const signerFile = join(dir, 'signer.json');
  writeFileSync(signerFile, JSON.stringify(operator.signer));

  const notify = await start({
    ...notifyEnv(infra, names, server),
    NATS_CREDS_FILE: credsFile,
    NATS_ACCOUNT_SIGNER_FILE: signerFile,
  });
  try {
    const admin = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(
        encode((await mintServiceUser(operator.signer, { name: 'admin' })).creds),
      ),
    });
    try {
      const jsm = await jetstreamManager(admin);
      expect((await jsm.streams.info(names.stream('FEEDS'))).config.subjects).toEqual([
        `${names.subject('beacon.feed')}.>`,
      ]);
      const durables: string[] = [];
      for await (const info of jsm.consumers.list(names.stream('EVENTS'))) durables.push(info.name);
      expect(durables).toContain(names.stream('fanout'));
    } finally {
      await admin.close();
    }
  } finally {
    await notify.stop();
  }
});

test('notify is refused at start without credentials, or with a user another operator signed', async ({
  infra,
  names,
  server,
}) => {
  const refusal = async (environment: Record<string, string>) => {
    const error = await start(environment).then(
      () => expect.fail('it connected'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NatsConnectError);
    return (error as Error).message;
  };
  expect(await refusal(notifyEnv(infra, names, server))).toMatch(
    /as beacon-notify \(no credentials\): .*Authorization Violation/i,
  );

  const stranger = await createOperatorSetup();
  const credsFile = join(server.process.spec.logFile, '..', 'stranger.creds');
  writeFileSync(credsFile, (await mintServiceUser(stranger.signer, { name: 'notify' })).creds);
  expect(await refusal({ ...notifyEnv(infra, names, server), NATS_CREDS_FILE: credsFile })).toMatch(
    /\(credentials file .*stranger\.creds\): .*Authorization Violation/i,
  );
});
