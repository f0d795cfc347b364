import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { parseTlp, type Tlp } from '@beacon/domain';

export const ROLES = [
  'coordinator',
  'agency_analyst',
  'agency_admin',
  'victim_officer',
  'auditor',
  /** Another Beacon service or the workflow worker calling on its own behalf. */
  'service',
] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as proven by a verified bearer token. */
export interface Principal {
  readonly subject: string;
  readonly roles: readonly Role[];
  /** The caller's agency (organisation); absent for Beacon services. */
  readonly agencyId: string | undefined;
  /** The highest TLP label the caller's agency is cleared to receive. */
  readonly clearance: Tlp;
}

/** The request carries no valid credentials; map to UNAUTHENTICATED / 401. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

export interface AuthConfig {
  readonly issuer: string;
  readonly audience: string;
  /** Where the issuer's public keys are: its JWKS URL, or the key set itself. */
  readonly jwks: { readonly url: string } | { readonly keys: JSONWebKeySet };
}

const claims = z.object({
  sub: z.string().min(1).max(200),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
  agency_id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .optional(),
  tlp_clearance: z.string().transform((value, ctx) => {
    const tlp = parseTlp(value);
    if (!tlp) ctx.addIssue({ code: 'custom', message: 'not a TLP label' });
    return tlp ?? 'CLEAR';
  }),
});

export interface Authenticator {
  /** Verifies `Bearer <jwt>` (signature, issuer, audience, expiry, claims) into a principal. */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export interface AuthenticatorOptions {
  /**
   * How long a verified token is accepted again without checking its signature, at most (never
   * past its `exp`). One minute by default. jose keeps a fetched key set for up to ten minutes
   * and looks again early only for a key id it does not know, so a key withdrawn from the JWKS
   * is accepted for up to ten minutes anyway; the cache adds at most this long to that, for a
   * token verified just before. 0 turns the cache off.
   */
  readonly cacheMs?: number;
  /** Verified tokens kept at most; the oldest goes first. */
  readonly cacheSize?: number;
  /** Milliseconds since the epoch; for tests. */
  readonly now?: () => number;
}

export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const keys: JWTVerifyGetKey =
    'url' in config.jwks ? createRemoteJWKSet(new URL(config.jwks.url)) : createLocalJWKSet(config.jwks.keys);
  const { cacheMs = 60_000, cacheSize = 10_000, now = Date.now } = options;
  // A caller sends the same token with every call until it expires; checking its signature
  // (an ECDSA or RSA verification) was the largest single cost of a call at both the gateway
  // and the service behind it. Only tokens that passed every check are kept, by their full
  // text, signature included: a token differing in any byte is verified afresh.
  const verified = new Map<string, { readonly principal: Principal; readonly until: number }>();
  return {
    async authenticate(authorization) {
      const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new AuthenticationError('a bearer token is required');
      const at = now();
      const known = verified.get(token);
      if (known && at < known.until) return known.principal;
      verified.delete(token);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ['ES256', 'EdDSA', 'RS256'],
          clockTolerance: 5,
          currentDate: new Date(at),
        }));
      } catch (error) {
        throw new AuthenticationError('the bearer token is not valid', { cause: error });
      }
      const parsed = claims.safeParse(payload);
      if (!parsed.success) throw new AuthenticationError('the bearer token lacks Beacon claims');
      const { sub, roles, agency_id, tlp_clearance } = parsed.data;
      if (roles.some((r) => r !== 'service' && r !== 'coordinator' && r !== 'auditor') && !agency_id) {
        throw new AuthenticationError('agency roles need an agency_id claim');
      }
      const principal: Principal = Object.freeze({
        subject: sub,
        roles: Object.freeze([...roles]),
        agencyId: agency_id,
        clearance: tlp_clearance,
      });
      const until = Math.min(at + cacheMs, payload.exp === undefined ? Infinity : payload.exp * 1000);
      if (until > at) {
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
        verified.set(token, { principal, until });
      }
      return principal;
    },
  };
}

/** Claims a development or test token asserts. */
export interface TokenClaims {
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly agencyId?: string;
  readonly clearance: Tlp;
  /** Lifetime; one hour when absent. */
  readonly ttlSeconds?: number;
}

/**
 * A local token issuer for development and tests: an ES256 key pair whose public half services
 * trust through `jwks`. Never configured in production, where a real identity provider issues.
 */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JSONWebKeySet;
  mint(claims: TokenClaims): Promise<string>;
  /** The private key, to save and reload the same issuer (e.g. for the CLI). */
  readonly privateJwk: JWK;
}

export async function createDevIssuer(options: {
  issuer?: string;
  audience?: string;
  privateJwk?: JWK;
}): Promise<DevIssuer> {
  const issuer = options.issuer ?? 'https://dev.beacon.invalid';
  const audience = options.audience ?? 'beacon';
  let privateJwk = options.privateJwk;
  if (!privateJwk) {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid: crypto.randomUUID(), alg: 'ES256' };
  }
  const { d: _private, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, 'ES256');
  return {
    issuer,
    audience,
    privateJwk,
    jwks: { keys: [{ ...publicJwk, use: 'sig' }] },
    mint: ({ subject, roles, agencyId, clearance, ttlSeconds = 3600 }) =>
      new SignJWT({ roles, tlp_clearance: clearance, ...(agencyId ? { agency_id: agencyId } : {}) })
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid! })
        .setSubject(subject)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key),
  };
}
