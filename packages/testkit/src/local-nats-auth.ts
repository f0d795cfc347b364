/**
 * NATS in operator mode for the local stack (`make up`) and the compose file's stack
 * (`pnpm infra compose-secrets`): the operator, system account, Beacon account and the
 * account's signing key are made once and kept in `<dir>/nats-auth/` (owner only), so the
 * agencies' credentials notify issues stay valid across restarts; every `up` mints each process
 * a user of its own. The test stacks keep an anonymous NATS: they start and discard servers by
 * the hundred, and notify's and the gateway's operator-mode tests cover this path.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createOperatorSetup,
  mintGatewayUser,
  mintServiceUser,
  mintSystemUser,
  renderOperatorConfig,
  type OperatorSetup,
} from '@beacon/platform';

/**
 * The local stack's processes that connect to NATS, each with a user of its own: the gateway's
 * may only share its rate limits (`mintGatewayUser`), the others use the whole Beacon account.
 */
export const NATS_SERVICE_USERS = ['gateway', 'intake', 'impact', 'notify', 'victims', 'workflows'] as const;
export type NatsServiceUser = (typeof NATS_SERVICE_USERS)[number];

export interface LocalNatsAuth {
  /** The operator-mode part of the server's config. */
  readonly config: string;
  /** A Beacon-account user for the stack's own probes (readiness, `pnpm infra status`). */
  readonly adminCredsFile: string;
  /** A system-account user, for pushing a re-signed account JWT (a revocation). */
  readonly systemCredsFile: string;
  /** Each service's `.creds` file, for its `NATS_CREDS_FILE`. */
  readonly serviceCredsFiles: Readonly<Record<NatsServiceUser, string>>;
  /** The account signing key, for notify's `NATS_ACCOUNT_SIGNER_FILE`. */
  readonly signerFile: string;
}

/** The directory holding the stack's NATS keys and credentials. */
export function natsAuthDir(dir: string): string {
  return join(dir, 'nats-auth');
}

/** The admin user's `.creds` file, if the stack in `dir` runs NATS in operator mode. */
export function localNatsAdminCreds(dir: string): string | undefined {
  const file = join(natsAuthDir(dir), 'admin.creds');
  return existsSync(file) ? file : undefined;
}

/**
 * The operator setup kept in `dir`, made on the first call and read back on later ones. It
 * holds the operator's and accounts' seeds: a developer machine's stand-in for keys a
 * deployment keeps offline.
 */
export async function localOperatorSetup(dir: string): Promise<OperatorSetup> {
  const file = join(natsAuthDir(dir), 'operator.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as OperatorSetup;
  const setup = await createOperatorSetup();
  writeSecret(file, JSON.stringify(setup, null, 2));
  return setup;
}

/**
 * Everything the local stack needs to run NATS in operator mode: the config text and, written
 * owner-only, fresh service users' credentials, an admin and a system user, and notify's signer.
 */
export async function prepareLocalNatsAuth(dir: string): Promise<LocalNatsAuth> {
  const setup = await localOperatorSetup(dir);
  const auth = natsAuthDir(dir);
  const serviceCredsFiles = {} as Record<NatsServiceUser, string>;
  for (const name of NATS_SERVICE_USERS) {
    serviceCredsFiles[name] = join(auth, `${name}.creds`);
    const user =
      name === 'gateway'
        ? await mintGatewayUser(setup.signer)
        : await mintServiceUser(setup.signer, { name });
    writeSecret(serviceCredsFiles[name], user.creds);
  }
  const adminCredsFile = join(auth, 'admin.creds');
  writeSecret(adminCredsFile, (await mintServiceUser(setup.signer, { name: 'admin' })).creds);
  const systemCredsFile = join(auth, 'system.creds');
  writeSecret(systemCredsFile, (await mintSystemUser(setup.systemAccount)).creds);
  const signerFile = join(auth, 'account-signer.json');
  writeSecret(signerFile, JSON.stringify(setup.signer));
  return {
    config: renderOperatorConfig(setup),
    adminCredsFile,
    systemCredsFile,
    serviceCredsFiles,
    signerFile,
  };
}

function writeSecret(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600 });
  // `mode` applies only to a new file; an existing one is narrowed too.
  chmodSync(file, 0o600);
}
