/**
 * A Beacon process's own identity on the internal network: where its bearer token comes from,
 * and keeping it fresh. Two ways, one of them per process:
 *
 * - **client credentials** (RFC 6749 §4.4): the process asks the identity provider's token
 *   endpoint for a short-lived token with its client id and secret, and asks again well before
 *   the token expires. This is how a deployment's identity provider (Keycloak, Entra ID, Okta,
 *   Auth0…) issues Beacon's service identities, and how the local stack's development provider
 *   does (`dev-identity-provider.ts`).
 * - **a token file** another component keeps fresh (a projected Kubernetes service-account
 *   token, an identity agent's sidecar), read again on every call.
 *
 * Either way the token is requested with the process's own scopes (`PROCESS_SCOPES`).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PROCESS_SCOPES, type BeaconProcess } from '@beacon/domain';
import { ConfigError, env, isLoopback, secretFrom } from './config.js';

/** A bearer token for calls to Beacon's services, fetched per call so a renewed one is used. */
export type TokenSource = () => Promise<string>;

export const SERVICE_IDENTITY_ENV = {
  /** The identity provider's token endpoint, for the client credentials grant. */
  SERVICE_TOKEN_URL: env.url(['https', 'http']).optional(),
  SERVICE_CLIENT_ID: z.string().min(1).max(200).optional(),
  /** The client secret, inline or (better) as an owner-only file. */
  SERVICE_CLIENT_SECRET: z.string().min(1).optional(),
  SERVICE_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  /** RFC 8707 resource indicator, for providers that choose the token's audience by it. */
  SERVICE_TOKEN_RESOURCE: z.string().min(1).max(500).optional(),
  /** Or: a file holding the token, which something else renews; read on each call. */
  SERVICE_TOKEN_FILE: z.string().min(1).optional(),
};

export type ServiceIdentityConfig =
  | {
      readonly kind: 'client-credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: () => string;
      readonly scopes: readonly string[];
      readonly resource?: string | undefined;
    }
  | { readonly kind: 'file'; readonly file: string };

/**
 * The process's identity from SERVICE_IDENTITY_ENV: exactly one of a token endpoint (with a
 * client id and secret) and a token file; undefined when neither is set. A token endpoint over
 * plain HTTP is refused except on loopback: the client secret travels to it.
 */
export function serviceIdentityFrom(
  raw: {
    readonly SERVICE_TOKEN_URL?: string | undefined;
    readonly SERVICE_CLIENT_ID?: string | undefined;
    readonly SERVICE_CLIENT_SECRET?: string | undefined;
    readonly SERVICE_CLIENT_SECRET_FILE?: string | undefined;
    readonly SERVICE_TOKEN_RESOURCE?: string | undefined;
    readonly SERVICE_TOKEN_FILE?: string | undefined;
  },
  process: BeaconProcess,
): ServiceIdentityConfig | undefined {
  if (raw.SERVICE_TOKEN_URL && raw.SERVICE_TOKEN_FILE) {
    throw new ConfigError([
      { variable: 'SERVICE_TOKEN_URL / SERVICE_TOKEN_FILE', problem: 'set at most one' },
    ]);
  }
  if (raw.SERVICE_TOKEN_FILE) return { kind: 'file', file: raw.SERVICE_TOKEN_FILE };
  if (!raw.SERVICE_TOKEN_URL) return undefined;
  const url = new URL(raw.SERVICE_TOKEN_URL);
  if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    throw new ConfigError([
      { variable: 'SERVICE_TOKEN_URL', problem: 'must be https (plain http only to a loopback address)' },
    ]);
  }
  const clientSecret = secretFrom(raw, 'SERVICE_CLIENT_SECRET', 'SERVICE_CLIENT_SECRET_FILE');
  if (!raw.SERVICE_CLIENT_ID || !clientSecret) {
    throw new ConfigError([
      {
        variable: 'SERVICE_CLIENT_ID / SERVICE_CLIENT_SECRET_FILE',
        problem: 'SERVICE_TOKEN_URL needs the client id and its secret',
      },
    ]);
  }
  return {
    kind: 'client-credentials',
    tokenUrl: raw.SERVICE_TOKEN_URL,
    clientId: raw.SERVICE_CLIENT_ID,
    clientSecret,
    scopes: PROCESS_SCOPES[process],
    resource: raw.SERVICE_TOKEN_RESOURCE,
  };
}

export interface ServiceTokenOptions {
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Called when a background renewal fails; the current token is used until it expires. */
  readonly onRenewalFailure?: (error: Error) => void;
}

/** Renew once this share of the token's life has passed. */
const RENEW_AT = 0.75;
/** Never use a token this close to its expiry: a call in flight must not outlive it. */
const EXPIRY_MARGIN_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** After a failed background renewal, calls go on with the current token this long before asking again. */
const RETRY_AFTER_MS = 5_000;
/** An answer larger than this is not a token response. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const tokenResponse = z.object({
  access_token: z.string().min(1).max(16_384),
  token_type: z.string().regex(/^bearer$/i, 'must be Bearer'),
  expires_in: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600),
});

/** The identity provider refused or failed a token request; the message names no secret. */
export class ServiceTokenError extends Error {
  override readonly name = 'ServiceTokenError';
}

/**
 * The process's token source. With client credentials: one request at a time, a token kept
 * until three quarters of its life, then renewed behind the calls that still use it; a failed
 * renewal is retried after a pause while the token lasts, and only then fails the calls.
 */
export function serviceTokens(config: ServiceIdentityConfig, options: ServiceTokenOptions = {}): TokenSource {
  if (config.kind === 'file') return async () => (await readFile(config.file, 'utf8')).trim();
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let current: { readonly token: string; readonly renewAt: number; readonly expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  let quietUntil = 0;

  const request = async (): Promise<string> => {
    const basic = Buffer.from(
      `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret())}`,
    ).toString('base64');
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: config.scopes.join(' ') });
    if (config.resource) body.set('resource', config.resource);
    const asked = now();
    let response: Response;
    try {
      response = await doFetch(config.tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ServiceTokenError(`the token endpoint did not answer: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES)
      throw new ServiceTokenError('the token endpoint sent an oversized answer');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ServiceTokenError(`the token endpoint answered ${response.status} without JSON`);
    }
    if (!response.ok) {
      // RFC 6749 §5.2: `error` is a short ASCII code; print it and nothing else of the answer.
      const code = (json as { error?: unknown } | null)?.error;
      const named = typeof code === 'string' && /^[\x20-\x7e]{1,64}$/.test(code) ? `: ${code}` : '';
      throw new ServiceTokenError(
        `the token endpoint refused client ${config.clientId} (${response.status}${named})`,
      );
    }
    const parsed = tokenResponse.safeParse(json);
    if (!parsed.success) {
      throw new ServiceTokenError(
        `the token endpoint's answer is not a bearer token (${parsed.error.issues[0]?.message})`,
      );
    }
    const lifetime = parsed.data.expires_in * 1000;
    current = {
      token: parsed.data.access_token,
      renewAt: asked + lifetime * RENEW_AT,
      // A provider issuing very short tokens still gets most of their life used.
      expiresAt: asked + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 10),
    };
    return current.token;
  };

  const renew = (): Promise<string> => {
    inFlight ??= request().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return async () => {
    const at = now();
    if (current && at < current.renewAt) return current.token;
    if (current && at < current.expiresAt) {
      // Still good: renew behind the caller, and keep the token while the provider is down.
      if (at >= quietUntil) {
        renew().catch((error: Error) => {
          quietUntil = now() + RETRY_AFTER_MS;
          options.onRenewalFailure?.(error);
        });
      }
      return current.token;
    }
    return renew();
  };
}
