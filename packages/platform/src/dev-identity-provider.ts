/**
 * The development identity provider: a token endpoint (RFC 6749 §4.4, client credentials) that
 * issues Beacon's processes their service identities from the development issuer, each with
 * its own process's scopes and nothing more. The local stack runs it (`make up`) so every
 * process fetches and renews its own short-lived token, as it would from a deployment's
 * identity provider; refused with BEACON_ENV=production like the issuer it signs with.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROCESS_SCOPES, type BeaconProcess, type ServiceScope } from '@beacon/domain';
import type { DevIssuer } from './auth.js';
import { readBody } from './http-body.js';

/** A registered client: one Beacon process, known by the SHA-256 of its secret. */
export interface DevClient {
  readonly process: BeaconProcess;
  readonly secretSha256: string;
}

export interface DevIdentityProviderOptions {
  readonly issuer: DevIssuer;
  /** By client id. */
  readonly clients: Readonly<Record<string, DevClient>>;
  /** Lifetime of the tokens it issues; one hour by default. */
  readonly ttlSeconds?: number;
  readonly host?: string;
  readonly port?: number;
}

export interface RunningIdentityProvider {
  /** The token endpoint's URL. */
  readonly tokenUrl: string;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4096;

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export async function startDevIdentityProvider(
  options: DevIdentityProviderOptions,
): Promise<RunningIdentityProvider> {
  const ttlSeconds = options.ttlSeconds ?? 3600;
  const server = createServer((req, res) => {
    handle(req, res).catch(() => refuse(res, 500, 'server_error'));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== '/token') return refuse(res, 404, 'not_found');
    if (req.method !== 'POST') return refuse(res, 405, 'invalid_request');
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return refuse(res, 400, 'invalid_request');
    }
    const body = (await readBody(req, MAX_BODY_BYTES))?.toString('utf8');
    if (body === undefined) return refuse(res, 413, 'invalid_request');
    const form = new URLSearchParams(body);
    const credentials = clientOf(req.headers.authorization, form);
    const client = credentials && options.clients[credentials.id];
    if (!client || !credentials || !sameSecret(client.secretSha256, credentials.secret)) {
      res.setHeader('www-authenticate', 'Basic realm="beacon-dev"');
      return refuse(res, 401, 'invalid_client');
    }
    if (form.get('grant_type') !== 'client_credentials') return refuse(res, 400, 'unsupported_grant_type');
    const allowed: readonly ServiceScope[] = PROCESS_SCOPES[client.process];
    const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (asked.some((s) => !(allowed as readonly string[]).includes(s)))
      return refuse(res, 400, 'invalid_scope');
    const scopes = asked.length > 0 ? (asked as ServiceScope[]) : allowed;
    const token = await options.issuer.mint({
      subject: client.process,
      roles: ['service'],
      scopes,
      clearance: 'RED',
      ttlSeconds,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({
        access_token: token,
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        scope: scopes.join(' '),
      }),
    );
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://${options.host ?? '127.0.0.1'}:${port}/token`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the client_secret_post form fields. */
function clientOf(
  authorization: string | undefined,
  form: URLSearchParams,
): { readonly id: string; readonly secret: string } | undefined {
  const basic = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(authorization ?? '')?.[1];
  if (basic) {
    const text = Buffer.from(basic, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    try {
      return {
        id: decodeURIComponent(text.slice(0, colon)),
        secret: decodeURIComponent(text.slice(colon + 1)),
      };
    } catch {
      return undefined;
    }
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id && secret ? { id, secret } : undefined;
}

function sameSecret(digest: string, secret: string): boolean {
  return timingSafeEqual(Buffer.from(digest, 'hex'), Buffer.from(secretDigest(secret), 'hex'));
}

/** RFC 6749 §5.2 error answer. */
function refuse(res: ServerResponse, statusCode: number, error: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error }));
}
