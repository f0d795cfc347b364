import { describe, expect, it } from 'vitest';
import { createAuthenticator, createDevIssuer } from '@beacon/platform';
import { tokenCrafter } from './crafted-tokens.js';

/**
 * Why the verifier refuses each crafted token (the cause it logs, never sent): a suite that sees
 * them refused at a door knows each is refused for the respect it was bent in, not for a slip in
 * the crafting.
 */
const BECAUSE: Record<string, RegExp> = {
  'no exp': /^no exp$/,
  'iat a year in the future': /iat in the future/,
  'typ JWT': /^typ JWT$/,
  'no typ': /^typ undefined$/,
  'alg none, no signature': /not a signed JWT|alg none/,
  'alg none, with a signature': /alg none/,
  'HS256 keyed with the public key': /alg HS256/,
  'embedded jwk, signed by that key': /embedded key header/,
  'jku to the attacker’s keys': /embedded key header/,
  'x5c chain': /embedded key header/,
  'another key under the issuer’s kid': /signature verification failed/,
  'unknown kid': /unknown kid/,
  expired: /^expired$/,
  'another audience': /^aud$/,
  'another issuer': /^iss$/,
  'a lifetime of 30 days': /^lifetime$/,
  'role service under the people’s audience': /^role service for a person$/,
};

describe('tokenCrafter', async () => {
  const issuer = await createDevIssuer({});
  const crafter = await tokenCrafter(issuer);
  const door = createAuthenticator(
    { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } },
    { door: 'public', cacheMs: 0 },
  );

  it('builds a token the verifier accepts when nothing is bent', async () => {
    expect(await door.authenticate(`Bearer ${await crafter.craft()}`)).toEqual({
      subject: 'crafted-analyst',
      roles: ['agency_analyst'],
      agencyId: 'cert-crafted',
      clearance: 'AMBER',
      scopes: [],
    });
  });

  it('bends each attack in its own respect only: each is refused for that reason', async () => {
    const causes: Record<string, string> = {};
    for (const [name, token] of await crafter.attacks()) {
      const refusal = (await door.authenticate(`Bearer ${token}`).then(
        () => undefined,
        (error: unknown) => error,
      )) as (Error & { cause?: Error }) | undefined;
      expect(refusal?.message, name).toBe('the bearer token is not valid');
      causes[name] = refusal?.cause?.message ?? '';
    }
    expect(Object.keys(causes)).toEqual(Object.keys(BECAUSE));
    for (const [name, cause] of Object.entries(causes)) expect(cause, name).toMatch(BECAUSE[name]!);
  });
});
