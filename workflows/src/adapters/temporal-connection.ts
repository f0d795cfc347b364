import { readFileSync } from 'node:fs';
import type { ClientTlsFiles } from '@beacon/platform';
import type { TLSConfig } from '@temporalio/client';

/** How the workflows reach the Temporal frontend, as configured (files and secrets not read yet). */
export interface TemporalConnectionSettings {
  /** `host:port` of the frontend. */
  readonly address: string;
  /** Present: TLS, with these files (none: the system's roots, no client certificate). */
  readonly tls?: ClientTlsFiles & {
    /** The name the frontend's certificate must carry, when not the address's host. */
    readonly serverName?: string;
  };
  /** Reads the API key (sent as `Authorization: Bearer …`). */
  readonly apiKey?: () => string;
}

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  readonly address: string;
  readonly tls?: TLSConfig;
  readonly apiKey?: string;
}

/**
 * The connection options for the client and the worker alike, reading the PEM files and the API
 * key now (both connections keep them for their lifetime: after rotating them, restart).
 */
export function temporalConnectionOptions(
  settings: TemporalConnectionSettings,
  read: (path: string) => Buffer = (path) => readFileSync(path),
): TemporalConnectionOptions {
  const { tls } = settings;
  return {
    address: settings.address,
    ...(tls
      ? {
          tls: {
            ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
            ...(tls.caFile ? { serverRootCACertificate: read(tls.caFile) } : {}),
            ...(tls.certFile && tls.keyFile
              ? { clientCertPair: { crt: read(tls.certFile), key: read(tls.keyFile) } }
              : {}),
          },
        }
      : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey() } : {}),
  };
}
