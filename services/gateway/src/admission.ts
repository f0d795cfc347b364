import { status } from '@grpc/grpc-js';
import { GrpcError, type Metrics } from '@beacon/platform';
import { addressKey, type ClientAddresses, limitKey } from './client-address.js';
import type { RateLimiter } from '@beacon/platform';

/** Why the door turned a call away; the `reason` label of `gateway_refusals_total`. */
export type RefusalReason =
  | 'address_rate'
  | 'failed_verifications'
  | 'malformed_token'
  | 'unknown_key'
  | 'invalid_token'
  | 'subject_rate';

export interface AdmissionOptions {
  readonly addresses: ClientAddresses;
  /** Calls per client address, before anything else is looked at. */
  readonly perAddress: RateLimiter;
  /** Failed token checks per client address; once spent, the address's calls are not verified. */
  readonly failuresPerAddress: RateLimiter;
  /** Calls per authenticated subject. */
  readonly perSubject: RateLimiter;
  /**
   * The key ids the issuer's keys carry, when the gateway is given the key set itself. With a
   * JWKS URL jose answers an unknown `kid` without any signature check either (after at most
   * one fetch of the key set per 30 s).
   */
  readonly keyIds?: ReadonlySet<string>;
  readonly metrics: Metrics;
}

/** Algorithms Beacon's issuers sign with: anything else (`none`, HS256) is refused unread. */
const ALGORITHMS = new Set(['ES256', 'EdDSA', 'RS256']);
/** Longer than any token an identity provider issues for Beacon's claims. */
const MAX_TOKEN_CHARS = 8_192;

/**
 * The cheap checks around authentication, so that an attacker pays more than the gateway: a
 * per-address budget before anything else, a per-address budget of failed verifications
 * (spent, the address's tokens are refused without verifying them), a look at the token's
 * shape and key id before any signature check, and a per-subject budget after.
 */
export class Admission {
  readonly #refusals;
  readonly #checks;

  constructor(private readonly options: AdmissionOptions) {
    // Reasons and outcomes only: an address label would make one series per client.
    this.#refusals = options.metrics.counter(
      'gateway_refusals_total',
      'Calls the gateway refused before forwarding them, by reason.',
      ['reason'],
    );
    this.#checks = options.metrics.counter(
      'gateway_token_verifications_total',
      'Tokens handed to signature verification (cached ones included), by outcome.',
      ['outcome'],
    );
  }

  /** The client's address: the peer, or the forwarded one behind a trusted proxy. */
  clientAddress(peer: string | undefined, forwardedFor: string | undefined): string {
    return this.options.addresses.resolve(peer, forwardedFor);
  }

  /** Takes one call from the address's budget only: for what the gateway answers itself. */
  throttle(address: string): void {
    const wait = this.options.perAddress.take(addressKey(address));
    if (wait > 0) throw this.#exhausted('address_rate', wait);
  }

  /**
   * Refuses, before any verification, an address over its rate or out of failed verifications,
   * and a token whose shape or key id cannot verify. Returns the address's limit key.
   */
  beforeVerification(address: string, authorization: string | undefined): string {
    const key = addressKey(address);
    const wait = this.options.perAddress.take(key);
    if (wait > 0) throw this.#exhausted('address_rate', wait);
    const blocked = this.options.failuresPerAddress.peek(key);
    if (blocked > 0) throw this.#exhausted('failed_verifications', blocked);
    const shape = tokenShape(authorization);
    if (shape === 'malformed' || (this.options.keyIds && !this.options.keyIds.has(shape.kid))) {
      this.options.failuresPerAddress.take(key);
      const reason = shape === 'malformed' ? 'malformed_token' : 'unknown_key';
      this.#refusals.labels(reason).inc();
      throw new GrpcError(status.UNAUTHENTICATED, 'the bearer token is not valid');
    }
    return key;
  }

  /** A token failed verification: one failure from the address's budget. */
  failed(addressKey: string): void {
    this.#checks.labels('refused').inc();
    this.#refusals.labels('invalid_token').inc();
    this.options.failuresPerAddress.take(addressKey);
  }

  /** A token verified: the subject's rate applies. */
  verified(subject: string): void {
    this.#checks.labels('accepted').inc();
    const wait = this.options.perSubject.take(limitKey(subject));
    if (wait > 0) throw this.#exhausted('subject_rate', wait);
  }

  #exhausted(reason: RefusalReason, wait: number): GrpcError {
    this.#refusals.labels(reason).inc();
    const what =
      reason === 'failed_verifications' ? 'too many invalid tokens from this address' : 'rate limit exceeded';
    return new GrpcError(status.RESOURCE_EXHAUSTED, `${what}; retry in ${wait} s`, {
      retryAfterSeconds: wait,
    });
  }
}

/**
 * What can be told of a bearer token without any cryptography: whether it could be a JWS
 * Beacon accepts (three base64url parts, a JSON header naming an accepted algorithm and a key
 * id, a JSON payload), and its key id. Nothing here is trusted; it only spares the signature
 * check for tokens that cannot pass it.
 */
export function tokenShape(authorization: string | undefined): 'malformed' | { readonly kid: string } {
  const token = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!token || authorization!.length > MAX_TOKEN_CHARS) return 'malformed';
  const header = json(token[1]!);
  if (!header || !json(token[2]!)) return 'malformed';
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) return 'malformed';
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) return 'malformed';
  // A key shipped with the token is the attacker's key: never a reason to look further.
  if ('jwk' in header || 'jku' in header || 'x5u' in header || 'x5c' in header) return 'malformed';
  return { kid };
}

function json(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
