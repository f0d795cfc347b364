/**
 * The local stack's service identities: one client per Beacon process that calls another, its
 * secret made once and kept owner-only under the stack's directory, and the development
 * identity provider (`dev-identity-provider-main.ts`) that issues each its own short-lived,
 * scoped token on request. Each process fetches and renews its token itself, exactly as it
 * does from a deployment's identity provider (docs/operations.md, "Identities").
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BeaconProcess } from '@beacon/domain';
import {
  secretDigest,
  startDevIdentityProvider,
  type DevClient,
  type DevIssuer,
  type RunningIdentityProvider,
} from '@beacon/platform';

/** The local stack's processes that call others with an identity of their own. */
export const LOCAL_SERVICE_CLIENTS = ['impact', 'workflows'] as const satisfies readonly BeaconProcess[];
export type LocalServiceClient = (typeof LOCAL_SERVICE_CLIENTS)[number];

/** A process's client id at the identity provider. */
export const clientIdOf = (process: BeaconProcess): string => `beacon-${process}`;

export interface LocalClients {
  /** The provider's registry: client id → process and the digest of its secret (owner-only). */
  readonly clientsFile: string;
  /** Each process's secret, for its SERVICE_CLIENT_SECRET_FILE (owner-only). */
  readonly secretFiles: Readonly<Record<LocalServiceClient, string>>;
}

/** Makes the clients once in `dir` and reads them back on later calls. */
export function localServiceClients(dir: string): LocalClients {
  const secretFiles = {} as Record<LocalServiceClient, string>;
  const clients: Record<string, DevClient> = {};
  for (const process of LOCAL_SERVICE_CLIENTS) {
    const file = join(dir, `${process}-client-secret`);
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
    secretFiles[process] = file;
    clients[clientIdOf(process)] = { process, secretSha256: secretDigest(readFileSync(file, 'utf8').trim()) };
  }
  const clientsFile = join(dir, 'service-clients.json');
  writeFileSync(clientsFile, JSON.stringify(clients, null, 2), { mode: 0o600 });
  chmodSync(clientsFile, 0o600);
  return { clientsFile, secretFiles };
}

/** The environment that gives `process` its identity from the provider at `tokenUrl`. */
export function serviceIdentityEnv(
  clients: LocalClients,
  process: LocalServiceClient,
  tokenUrl: string,
): Record<string, string> {
  return {
    SERVICE_TOKEN_URL: tokenUrl,
    SERVICE_CLIENT_ID: clientIdOf(process),
    SERVICE_CLIENT_SECRET_FILE: clients.secretFiles[process],
  };
}

/**
 * Starts the development identity provider for the clients kept in `dir`, signing with
 * `issuer`; `identityEnv` gives each process the settings that make it use it.
 */
export async function startLocalIdentityProvider(
  dir: string,
  issuer: DevIssuer,
  port = 0,
): Promise<{
  readonly provider: RunningIdentityProvider;
  readonly identityEnv: (process: LocalServiceClient) => Record<string, string>;
}> {
  const clients = localServiceClients(dir);
  const registry = JSON.parse(readFileSync(clients.clientsFile, 'utf8')) as Record<string, DevClient>;
  const provider = await startDevIdentityProvider({ issuer, clients: registry, port });
  return { provider, identityEnv: (process) => serviceIdentityEnv(clients, process, provider.tokenUrl) };
}
