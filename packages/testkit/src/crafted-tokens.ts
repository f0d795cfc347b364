/**
 * Bearer tokens an attacker would try against Beacon's doors (issue 20, "Identities and the
 * public door"), built against a development issuer so that each differs from a token Beacon
 * accepts in one respect only. The legitimate token is built by the same function with nothing
 * bent, so a test that sees it served knows every refusal is for the bent part.
 */
import { randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import type { DevIssuer } from '@beacon/platform';

/** What to bend in a person's token: header fields, claims, claims to drop, its times. */
export interface CraftOptions {
  /** Header fields over the issuer's own (`alg: ES256`, its `kid`, `typ: at+jwt`); undefined drops one. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Claims over the person's own. */
  readonly payload?: JWTPayload;
  /** Claims to leave out. */
  readonly drop?: readonly string[];
  /** Issued at, in seconds since the epoch; now when absent. */
  readonly iat?: number;
  /** Lifetime in seconds from `iat`; one hour when absent. */
  readonly ttl?: number;
}

/** The person every crafted token speaks for: an analyst of one agency. */
const CRAFTED_PERSON = {
  sub: 'crafted-analyst',
  roles: ['agency_analyst'],
  agency_id: 'cert-crafted',
  tlp_clearance: 'AMBER',
} as const;

export interface TokenCrafter {
  /** A person's token with every claim Beacon requires, signed by the issuer's key, bent by `options`. */
  craft(options?: CraftOptions): Promise<string>;
  /**
   * One token per attack, by name, each of which every door must refuse as an invalid token:
   * no `exp`, `iat` in the future, another `typ`, `alg: none`, HS256 keyed with the issuer's
   * public key, an embedded `jwk` (and `jku`, `x5c`), an unknown `kid`, expired, another
   * audience or issuer, a lifetime of months, a signature by another key under the issuer's
   * `kid`, and the `service` role under the people's audience.
   */
  attacks(): Promise<ReadonlyArray<readonly [name: string, token: string]>>;
}

const now = () => Math.floor(Date.now() / 1000);

/** The payload of a compact JWS, decoded without any check. */
const payloadOf = (token: string) =>
  JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as JWTPayload;

export async function tokenCrafter(issuer: DevIssuer): Promise<TokenCrafter> {
  const kid = issuer.privateJwk.kid!;
  const signingKey = await importJWK(issuer.privateJwk, 'ES256');

  const craft = (options: CraftOptions = {}): Promise<string> => {
    const iat = options.iat ?? now();
    const payload: JWTPayload = {
      ...CRAFTED_PERSON,
      roles: [...CRAFTED_PERSON.roles],
      client_id: 'beacon-dev',
      iss: issuer.issuer,
      aud: issuer.audience,
      iat,
      exp: iat + (options.ttl ?? 3600),
      jti: randomUUID(),
      ...options.payload,
    };
    for (const claim of options.drop ?? []) delete payload[claim];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...options.header })
      .sign(signingKey);
  };

  /** The legitimate token's header and claims, signed some other way. */
  const resigned = async (
    header: Readonly<Record<string, unknown>>,
    key: Parameters<SignJWT['sign']>[0],
  ): Promise<string> =>
    new SignJWT(payloadOf(await craft()))
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header })
      .sign(key);

  const attacks = async (): Promise<ReadonlyArray<readonly [string, string]>> => {
    const [, payload] = (await craft()).split('.');
    const unsigned = base64url.encode(JSON.stringify({ alg: 'none', kid, typ: 'at+jwt' }));
    // The issuer's public key as an HMAC secret: what a verifier that lets the token choose
    // its algorithm would check an HS256 signature with.
    const { d: _private, ...publicJwk } = issuer.privateJwk;
    const publicAsSecret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    return [
      ['no exp', await craft({ drop: ['exp'] })],
      ['iat a year in the future', await craft({ iat: now() + 365 * 24 * 3600 })],
      ['typ JWT', await craft({ header: { typ: 'JWT' } })],
      ['no typ', await craft({ header: { typ: undefined } })],
      ['alg none, no signature', `${unsigned}.${payload}.`],
      ['alg none, with a signature', `${unsigned}.${payload}.c2ln`],
      ['HS256 keyed with the public key', await resigned({ alg: 'HS256' }, publicAsSecret)],
      ['embedded jwk, signed by that key', await resigned({ jwk: attackerJwk }, attacker.privateKey)],
      [
        'jku to the attacker’s keys',
        await resigned({ jku: 'https://attacker.example/jwks' }, attacker.privateKey),
      ],
      ['x5c chain', await resigned({ x5c: ['MIIB'] }, attacker.privateKey)],
      ['another key under the issuer’s kid', await resigned({}, attacker.privateKey)],
      ['unknown kid', await craft({ header: { kid: 'someone-elses-key' } })],
      ['expired', await craft({ iat: now() - 7200 })],
      ['another audience', await craft({ payload: { aud: 'someone-else' } })],
      ['another issuer', await craft({ payload: { iss: 'https://attacker.example' } })],
      ['a lifetime of 30 days', await craft({ ttl: 30 * 24 * 3600 })],
      ['role service under the people’s audience', await craft({ payload: { roles: ['service'] } })],
    ];
  };

  return { craft, attacks };
}
