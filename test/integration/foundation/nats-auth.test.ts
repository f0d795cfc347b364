import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { usernamePasswordAuthenticator } from '@nats-io/nats-core';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { describe, expect } from 'vitest';
import { loadConfig as intakeConfig, startIntake } from '@beacon/intake';
import {
  ConfigError,
  connectNats,
  createLogger,
  NATS_CLIENT_ENV,
  natsClientFrom,
  NatsConnectError,
  parseConfig,
} from '@beacon/platform';
import {
  createTestCertificates,
  startDedicated,
  test,
  type DedicatedServer,
  type Endpoints,
  type TestCertificates,
  type TestNames,
} from '@beacon/testkit';

/**
 * The NATS settings of every NATS-using process (NATS_USER, NATS_PASSWORD[_FILE],
 * NATS_TOKEN[_FILE], NATS_TLS_*), against real nats-servers of the test's own that refuse
 * clients without them. Intake stands for the five processes: they parse the same variables
 * with the same platform code and hand the result to the same `connectNats`.
 */

const PASSWORD = 'intake-password-0123456789';
const TOKEN = 'beacon-token-0123456789abcdef';

/** The kit's readiness probe, with the options this server demands. */
const probeWith = (options: Partial<NodeConnectionOptions>) => async (url: string) => {
  const nc = await connect({ servers: url, reconnect: false, timeout: 2_000, ...options });
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } finally {
    await nc.close();
  }
};

async function startIntakeWith(infra: Endpoints, names: TestNames, server: DedicatedServer, nats: object) {
  const config = intakeConfig({
    MONGO_URL: infra.mongoUrl,
    INTAKE_DB: names.database('intake'),
    NATS_URL: server.url,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    AUTH_ISSUER: 'https://id.example',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
    CORRELATION_SECRET: 'test-correlation-secret-0123456789abcdef',
    ...nats,
  });
  return startIntake(
    { ...config, grpc: { host: '127.0.0.1', port: 0 } },
    createLogger({ name: 'nats-auth-test', level: 'silent' }),
  );
}

/** Rejects with the error connectNats gives, whatever start step wrapped it. */
async function refusal(attempt: Promise<unknown>): Promise<NatsConnectError> {
  const error = await attempt.then(
    () => expect.fail('it connected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NatsConnectError);
  return error as NatsConnectError;
}

const withPassword = test.extend(
  'passwordServer',
  { scope: 'file' },
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's needs from the pattern
  async ({}, { onCleanup }): Promise<DedicatedServer> => {
    const server = await startDedicated('nats', {
      natsConfig: `authorization { users: [ { user: intake, password: "${PASSWORD}" } ] }`,
      ready: probeWith({ authenticator: usernamePasswordAuthenticator('intake', PASSWORD) }),
    });
    onCleanup(() => server.stop());
    return server;
  },
);

const withTls = test
  .extend('certs', { scope: 'file' }, (): TestCertificates => createTestCertificates('intake'))
  .extend('tlsServer', { scope: 'file' }, async ({ certs }, { onCleanup }): Promise<DedicatedServer> => {
    const server = await startDedicated('nats', {
      natsConfig: [
        'tls {',
        `  cert_file: ${JSON.stringify(certs.serverCertFile)}`,
        `  key_file: ${JSON.stringify(certs.serverKeyFile)}`,
        `  ca_file: ${JSON.stringify(certs.caFile)}`,
        '  verify: true',
        '  timeout: 2',
        '}',
      ].join('\n'),
      ready: probeWith({
        tls: { certFile: certs.clientCertFile, keyFile: certs.clientKeyFile, caFile: certs.caFile },
      }),
    });
    onCleanup(() => server.stop());
    return server;
  });

const clientFrom = (env: Record<string, string>) => natsClientFrom(parseConfig(NATS_CLIENT_ENV, env));

describe('NATS with a user and password', () => {
  withPassword(
    'intake connects with NATS_USER and NATS_PASSWORD_FILE and declares its stream',
    async ({ infra, names, passwordServer: server }) => {
      const file = join(server.process.spec.logFile, '..', 'password');
      writeFileSync(file, `${PASSWORD}\n`);
      const intake = await startIntakeWith(infra, names, server, {
        NATS_USER: 'intake',
        NATS_PASSWORD_FILE: file,
      });
      try {
        const admin = await connectNats({
          servers: server.url,
          name: 'admin',
          ...clientFrom({ NATS_USER: 'intake', NATS_PASSWORD: PASSWORD }),
        });
        try {
          const info = await (await jetstreamManager(admin)).streams.info(names.stream('EVENTS'));
          expect(info.config.subjects).toEqual([`${names.subject('beacon.evt')}.>`]);
        } finally {
          await admin.close();
        }
      } finally {
        await intake.stop();
      }
    },
  );

  withPassword(
    'intake is refused at start without credentials, or with a wrong password, and says so',
    async ({ infra, names, passwordServer: server }) => {
      const none = await refusal(startIntakeWith(infra, names, server, {}));
      expect(none.message).toMatch(
        /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+ as beacon-intake \(no credentials\)/,
      );
      expect(none.message).toMatch(/Authorization Violation/i);

      const wrong = await refusal(
        startIntakeWith(infra, names, server, { NATS_USER: 'intake', NATS_PASSWORD: 'not-the-password' }),
      );
      expect(wrong.message).toMatch(/\(user intake\).*Authorization Violation/i);
      expect(wrong.message).not.toContain('not-the-password');
    },
  );
});

describe('NATS with a token', () => {
  test('connects with NATS_TOKEN_FILE, and is refused without it', async () => {
    const server = await startDedicated('nats', {
      natsConfig: `authorization { token: "${TOKEN}" }`,
      ready: probeWith({ token: TOKEN }),
    });
    try {
      const file = join(server.process.spec.logFile, '..', 'token');
      writeFileSync(file, TOKEN);
      const nc = await connectNats({
        servers: server.url,
        name: 'token',
        ...clientFrom({ NATS_TOKEN_FILE: file }),
      });
      await (await jetstreamManager(nc)).getAccountInfo();
      await nc.close();
      const refused = await refusal(connectNats({ servers: server.url, name: 'anonymous' }));
      expect(refused.message).toMatch(/Authorization Violation/i);
    } finally {
      await server.stop();
    }
  });
});

describe('NATS with mutual TLS', () => {
  withTls(
    'intake connects with NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE and NATS_TLS_CA_FILE',
    async ({ infra, names, tlsServer: server, certs }) => {
      const intake = await startIntakeWith(infra, names, server, {
        NATS_TLS_CERT_FILE: certs.clientCertFile,
        NATS_TLS_KEY_FILE: certs.clientKeyFile,
        NATS_TLS_CA_FILE: certs.caFile,
      });
      await intake.stop();
    },
  );

  withTls(
    'is refused without a client certificate, and refuses a server its CA did not sign',
    async ({ tlsServer: server, certs }) => {
      const withoutCert = await refusal(
        connectNats({
          servers: server.url,
          name: 'no-cert',
          ...clientFrom({ NATS_TLS_CA_FILE: certs.caFile }),
          // The server's refusal never reaches the client (see connectNats): it times out.
          connectTimeoutMs: 2_000,
        }),
      );
      expect(withoutCert.message).toMatch(/as no-cert \(no credentials, CA .*ca\.crt\)/);
      expect(withoutCert.message).toMatch(/requires a TLS client certificate, NATS_TLS_CERT_FILE/);

      const otherCa = await refusal(
        connectNats({
          servers: server.url,
          name: 'other-ca',
          ...clientFrom({
            NATS_TLS_CERT_FILE: certs.clientCertFile,
            NATS_TLS_KEY_FILE: certs.clientKeyFile,
            NATS_TLS_CA_FILE: certs.otherCaFile,
          }),
        }),
      );
      expect(otherCa.message).toMatch(/unable to verify the first certificate/);
    },
  );

  withTls(
    'stops at start, naming the variable, when a key is not its certificate’s or a file is no PEM',
    async ({ certs }) => {
      const problem = (env: Record<string, string>) => {
        try {
          clientFrom(env);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return (error as ConfigError).message;
        }
        return expect.fail('accepted');
      };
      expect(
        problem({ NATS_TLS_CERT_FILE: certs.clientCertFile, NATS_TLS_KEY_FILE: certs.serverKeyFile }),
      ).toContain('NATS_TLS_KEY_FILE: is not the key of the certificate in NATS_TLS_CERT_FILE');
      expect(problem({ NATS_TLS_CERT_FILE: certs.clientCertFile })).toContain(
        'NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE: set both or neither',
      );
      expect(problem({ NATS_TLS_CA_FILE: certs.clientKeyFile })).toContain(
        'NATS_TLS_CA_FILE: holds no PEM certificate',
      );
    },
  );
});
