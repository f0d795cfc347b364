import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mintAgencyUser, type AccountSigner } from '@beacon/platform';
import {
  COMPOSE_NATS_CONFIG,
  localNatsAdminCreds,
  NATS_SERVICE_USERS,
  natsAuthDir,
  natsReady,
  prepareLocalNatsAuth,
  startDedicated,
  writeComposeSecrets,
} from '@beacon/testkit';

/**
 * The local stack's NATS (`make up`) runs in operator mode with keys kept under `.infra/dev`:
 * made once, owner-only, and reused so credentials issued earlier stay valid. Here against a
 * server of the test's own on a free port, started with the config `make up` renders.
 */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-nats-auth-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('the local stack’s NATS credentials', () => {
  it('are made once, kept owner-only, and reused by the next start', async () => {
    const dir = tempDir();
    expect(localNatsAdminCreds(dir)).toBeUndefined();
    const first = await prepareLocalNatsAuth(dir);
    const operator = readFileSync(join(dir, 'nats-auth', 'operator.json'), 'utf8');
    const second = await prepareLocalNatsAuth(dir);

    expect(readFileSync(join(dir, 'nats-auth', 'operator.json'), 'utf8')).toBe(operator);
    expect(second.config).toBe(first.config);
    expect(readFileSync(second.signerFile, 'utf8')).toBe(readFileSync(first.signerFile, 'utf8'));
    expect(localNatsAdminCreds(dir)).toBe(second.adminCredsFile);
    expect(mode(join(dir, 'nats-auth'))).toBe(0o700);
    for (const file of [
      join(dir, 'nats-auth', 'operator.json'),
      second.adminCredsFile,
      second.systemCredsFile,
      second.signerFile,
      ...Object.values(second.serviceCredsFiles),
    ]) {
      expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
    }
  });

  it('run a server that refuses anonymous clients and admits each service and agency', async () => {
    const dir = tempDir();
    // An agency's credentials issued before a restart of the stack ...
    const before = await prepareLocalNatsAuth(dir);
    const signer = JSON.parse(readFileSync(before.signerFile, 'utf8')) as AccountSigner;
    const agency = await mintAgencyUser(signer, { agencyId: 'cert-a' });
    // ... are accepted by the server of the next start.
    const auth = await prepareLocalNatsAuth(dir);
    const server = await startDedicated('nats', {
      natsConfig: auth.config,
      ready: (url) => natsReady(url, auth.adminCredsFile),
    });
    onTestFinished(() => server.stop());

    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/,
    );
    await expect(natsReady(server.url)).rejects.toThrow(/Authorization Violation/);
    for (const name of NATS_SERVICE_USERS.filter((n) => n !== 'gateway')) {
      // Each service reaches JetStream as its own user (its NATS_CREDS_FILE).
      await expect(natsReady(server.url, auth.serviceCredsFiles[name])).resolves.toBeUndefined();
    }
    // The gateway connects as its own user too, which may only share rate limits: no JetStream.
    await expect(natsReady(server.url, auth.serviceCredsFiles.gateway)).rejects.toThrow(
      /Permissions Violation/,
    );
    const nc = await connect({
      servers: server.url,
      reconnect: false,
      inboxPrefix: '_INBOX.cert-a',
      authenticator: credsAuthenticator(new TextEncoder().encode(agency.creds)),
    });
    try {
      // Connected, and held to its own permissions: no account-wide JetStream requests.
      await expect((await jetstreamManager(nc)).streams.info('BEACON_FEEDS')).rejects.toThrow(
        /Permissions Violation/,
      );
    } finally {
      await nc.close();
    }
  });

  it('the compose stack’s files run a server that refuses anonymous clients and admits each process', async () => {
    // What `pnpm infra compose-secrets` writes and compose.yaml mounts: the server's config and
    // each container's credentials, read back from disk as the containers read them.
    const dir = join(tempDir(), 'secrets');
    await writeComposeSecrets(dir);
    const auth = natsAuthDir(dir);
    const server = await startDedicated('nats', {
      natsConfig: readFileSync(join(auth, COMPOSE_NATS_CONFIG), 'utf8'),
      ready: (url) => natsReady(url, join(auth, 'admin.creds')),
    });
    onTestFinished(() => server.stop());

    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/,
    );
    for (const name of NATS_SERVICE_USERS.filter((n) => n !== 'gateway')) {
      await expect(natsReady(server.url, join(auth, `${name}.creds`))).resolves.toBeUndefined();
    }
    const gateway = await connect({
      servers: server.url,
      reconnect: false,
      authenticator: credsAuthenticator(readFileSync(join(auth, 'gateway.creds'))),
    });
    try {
      await expect(gateway.flush()).resolves.toBeUndefined();
      // No JetStream (its API and the inbox for the answer are both refused).
      await expect(jetstreamManager(gateway)).rejects.toThrow(/Permissions Violation/);
    } finally {
      await gateway.close();
    }
  });
});
