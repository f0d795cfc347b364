import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import { z } from 'zod';
import {
  isServiceScope,
  parseTlp,
  PRINCIPAL_ROLES,
  type PrincipalRole,
  type ServiceScope,
  type Tlp,
} from '@beacon/domain';

/** The roles a token may carry: the trust model's principals (`@beacon/domain`). */
export const ROLES = PRINCIPAL_ROLES;
export type Role = PrincipalRole;

/** Who is calling, as proven by a verified bearer token. */
export interface Principal {
  readonly subject: string;
  readonly roles: readonly Role[];
  /** The caller's agency (organisation); absent for Beacon services. */
  readonly agencyId: string | undefined;
  /** The highest TLP label the caller's agency is cleared to receive. */
  readonly clearance: Tlp;
  /**
   * A service identity's scopes, from its token's `scope` claim (RFC 9068): the operations its
   * process's job needs (`@beacon/domain`'s `PROCESS_SCOPES`). Always empty for a person.
   */
  readonly scopes: readonly ServiceScope[];
}

/** The request carries no valid credentials; map to UNAUTHENTICATED / 401. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/**
 * Which token audience a process accepts. People's tokens carry the public audience
 * (AUTH_AUDIENCE, `beacon`); Beacon's own processes carry the internal one
 * (AUTH_SERVICE_AUDIENCE, `beacon-internal`), which only the internal network accepts.
 */
export type Door = 'public' | 'internal';

/** Lifetimes (exp − iat) accepted by default: hours, never months (RFC 9068 access tokens). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 12 * 3600;
export const DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS = 12 * 3600;
/** The service identities' audience when none is configured. */
export const DEFAULT_SERVICE_AUDIENCE = 'beacon-internal';
/** The issuer URL of the development issuer, refused in a production configuration. */
export const DEV_ISSUER = 'https://dev.beacon.invalid';

export interface AuthConfig {
  readonly issuer: string;
  /** The audience of people's tokens, accepted at every door. */
  readonly audience: string;
  /** The audience of Beacon's service identities, accepted only on the internal network. */
  readonly serviceAudience?: string;
  /** Where the issuer's public keys are: its JWKS URL, or the key set itself. */
  readonly jwks: { readonly url: string } | { readonly keys: JSONWebKeySet };
  /**
   * Header `typ` values accepted, compared without case and without an `application/` prefix
   * (RFC 7515 §4.1.9). `at+jwt` (RFC 9068) by default; add `JWT` for an issuer that sends it.
   */
  readonly tokenTypes?: readonly string[];
  /** The longest a person's token may live (exp − iat), in seconds. */
  readonly maxLifetimeSeconds?: number;
  /** The longest a service identity's token may live (exp − iat), in seconds. */
  readonly maxServiceLifetimeSeconds?: number;
}

/** Signature algorithms accepted; never `none`, never a symmetric one (RFC 8725 §3.1). */
const ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;
/** Headers that would let a token name its own key (RFC 8725 §3.10); refused outright. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
/** Seconds of clock difference tolerated between the issuer and this process. */
const CLOCK_SKEW_SECONDS = 5;
/** No token Beacon accepts is anywhere near this long; longer ones cost nothing to refuse. */
const MAX_TOKEN_LENGTH = 8_192;

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
  /** RFC 9068 §2.2.3: space-separated. */
  scope: z.string().max(4096).optional(),
});

export interface Authenticator {
  /** Verifies `Bearer <jwt>` (profile, signature, issuer, audience, lifetime, claims) into a principal. */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export interface AuthenticatorOptions {
  /**
   * `public` (the gateway) accepts people's tokens only; `internal` (the services behind it)
   * also accepts Beacon's service identities. Internal by default: every process but the
   * gateway sits on the internal network.
   */
  readonly door?: Door;
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

/** Why a token was refused; kept as the refusal's `cause`, for logs, never for the caller. */
class Refusal extends Error {
  override readonly name = 'TokenRefusal';
}

/** Every refusal of a presented token reads the same to the caller, whatever the reason. */
const INVALID = 'the bearer token is not valid';

const normaliseTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const local = 'keys' in config.jwks ? config.jwks.keys : undefined;
  const keys: JWTVerifyGetKey = local
    ? createLocalJWKSet(local)
    : createRemoteJWKSet(new URL((config.jwks as { url: string }).url));
  // A local key set is known in full, so a token naming another key is refused before any
  // crypto. A remote set is looked up by jose, which never verifies without a matching key and
  // fetches the set again for an unknown `kid` at most once per 30 s cool-down.
  const knownKids = local ? new Set(local.keys.map((k) => k.kid).filter((k) => k !== undefined)) : undefined;
  const { door = 'internal', cacheMs = 60_000, cacheSize = 10_000, now = Date.now } = options;
  const serviceAudience = config.serviceAudience ?? DEFAULT_SERVICE_AUDIENCE;
  if (serviceAudience === config.audience) {
    throw new Error("the service audience must differ from the audience of people's tokens");
  }
  const audiences = door === 'public' ? [config.audience] : [config.audience, serviceAudience];
  const types = new Set((config.tokenTypes ?? ['at+jwt']).map(normaliseTyp));
  const maxPerson = config.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const maxService = config.maxServiceLifetimeSeconds ?? DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS;

  /**
   * The checks that need no key, on the token as presented: a token failing any is refused
   * without a signature check (the costly part). Passing them proves nothing until the
   * signature over these same bytes is verified.
   */
  function profile(token: string, atSeconds: number): { service: boolean } {
    if (token.length > MAX_TOKEN_LENGTH) throw new Refusal('longer than 8 KiB');
    let header: ProtectedHeaderParameters;
    let payload: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch {
      throw new Refusal('not a signed JWT');
    }
    if (!(ALGORITHMS as readonly unknown[]).includes(header.alg))
      throw new Refusal(`alg ${String(header.alg)}`);
    for (const name of KEY_HEADERS) if (name in header) throw new Refusal(`embedded key header ${name}`);
    if (typeof header.typ !== 'string' || !types.has(normaliseTyp(header.typ))) {
      throw new Refusal(`typ ${String(header.typ)}`);
    }
    if (typeof header.kid !== 'string') throw new Refusal('no kid');
    if (knownKids && !knownKids.has(header.kid)) throw new Refusal('unknown kid');
    if (payload.iss !== config.issuer) throw new Refusal('iss');
    const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    const person = aud.includes(config.audience);
    const service = aud.includes(serviceAudience);
    // One token, one kind of principal: a token for both doors would be a person's token usable
    // as a service identity or the reverse.
    if (person === service || !audiences.includes(service ? serviceAudience : config.audience)) {
      throw new Refusal('aud');
    }
    const { exp, iat, nbf } = payload;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new Refusal('no exp');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new Refusal('no iat');
    if (iat > atSeconds + CLOCK_SKEW_SECONDS) throw new Refusal('iat in the future');
    if (exp <= atSeconds - CLOCK_SKEW_SECONDS) throw new Refusal('expired');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > atSeconds + CLOCK_SKEW_SECONDS)) {
      throw new Refusal('not yet valid (nbf)');
    }
    if (exp - iat > (service ? maxService : maxPerson) || exp <= iat) throw new Refusal('lifetime');
    return { service };
  }

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
      let service: boolean;
      try {
        ({ service } = profile(token, Math.floor(at / 1000)));
        ({ payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: service ? serviceAudience : config.audience,
          algorithms: [...ALGORITHMS],
          requiredClaims: ['exp', 'iat', 'sub'],
          clockTolerance: CLOCK_SKEW_SECONDS,
          currentDate: new Date(at),
        }));
      } catch (error) {
        throw new AuthenticationError(INVALID, { cause: error });
      }
      const parsed = claims.safeParse(payload);
      if (!parsed.success) throw new AuthenticationError('the bearer token lacks Beacon claims');
      const { sub, roles, agency_id, tlp_clearance, scope } = parsed.data;
      // A service identity is that and nothing else; a person's token never carries `service`.
      const isService = roles.length === 1 && roles[0] === 'service';
      if (service ? !isService : roles.includes('service')) {
        throw new AuthenticationError(INVALID, {
          cause: new Refusal(service ? 'a service identity with other roles' : 'role service for a person'),
        });
      }
      if (roles.some((r) => r !== 'service' && r !== 'coordinator' && r !== 'auditor') && !agency_id) {
        throw new AuthenticationError('agency roles need an agency_id claim');
      }
      const principal: Principal = Object.freeze({
        subject: sub,
        roles: Object.freeze([...roles]),
        agencyId: agency_id,
        clearance: tlp_clearance,
        // Scopes Beacon does not know (an identity provider may add its own) grant nothing.
        scopes: Object.freeze(service ? (scope ?? '').split(' ').filter(isServiceScope) : []),
      });
      const until = Math.min(at + cacheMs, payload.exp! * 1000);
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
  /** A service identity's scopes (`PROCESS_SCOPES`), sent as the `scope` claim. */
  readonly scopes?: readonly ServiceScope[];
  /** Lifetime; one hour when absent. */
  readonly ttlSeconds?: number;
  /**
   * The `aud` claim. By default the issuer's service audience for a `service` identity and its
   * people's audience for anyone else; tests set it to craft a token the verifier must refuse.
   */
  readonly audience?: string;
}

/**
 * A local token issuer for development and tests: an ES256 key pair whose public half services
 * trust through `jwks`. Never configured in production, where a real identity provider issues
 * (services refuse its issuer URL when BEACON_ENV=production).
 */
export interface DevIssuer {
  readonly issuer: string;
  /** The audience of people's tokens. */
  readonly audience: string;
  /** The audience of Beacon's service identities (the internal network's). */
  readonly serviceAudience: string;
  readonly jwks: JSONWebKeySet;
  /** Mints an RFC 9068 access token (`typ: at+jwt`) for the claims. */
  mint(claims: TokenClaims): Promise<string>;
  /** The private key, to save and reload the same issuer (e.g. for the CLI). */
  readonly privateJwk: JWK;
}

export async function createDevIssuer(options: {
  issuer?: string;
  audience?: string;
  serviceAudience?: string;
  privateJwk?: JWK;
}): Promise<DevIssuer> {
  const issuer = options.issuer ?? DEV_ISSUER;
  const audience = options.audience ?? 'beacon';
  const serviceAudience = options.serviceAudience ?? DEFAULT_SERVICE_AUDIENCE;
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
    serviceAudience,
    privateJwk,
    jwks: { keys: [{ ...publicJwk, use: 'sig' }] },
    mint: ({ subject, roles, agencyId, clearance, scopes, ttlSeconds = 3600, audience: aud }) =>
      new SignJWT({
        roles,
        tlp_clearance: clearance,
        client_id: 'beacon-dev',
        ...(agencyId ? { agency_id: agencyId } : {}),
        ...(scopes ? { scope: scopes.join(' ') } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid!, typ: 'at+jwt' })
        .setSubject(subject)
        .setIssuer(issuer)
        .setAudience(aud ?? (roles.includes('service') ? serviceAudience : audience))
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .setJti(crypto.randomUUID())
        .sign(key),
  };
}
