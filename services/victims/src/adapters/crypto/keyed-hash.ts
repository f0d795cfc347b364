import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { SearchHasher } from '../../app/ports.js';

type Use = 'email' | 'phone' | 'reference' | 'idempotency';

/**
 * Keyed hashes (HMAC-SHA256) of what must be found without being stored: e-mail addresses
 * and phone numbers for search, the victim's case reference for the status lookup, and
 * idempotency keys. One secret from configuration; a subkey per use (HKDF), so a hash made
 * for one use never matches one made for another. Without the secret nothing can be
 * confirmed by hashing guesses, which a plain hash of an e-mail address would allow.
 */
export class KeyedHasher implements SearchHasher {
  readonly #keys: Readonly<Record<Use, KeyObject>>;

  constructor(secret: string) {
    // KeyObjects: raw bytes would be imported again on every hash, the larger part of its cost.
    const derive = (use: string) =>
      createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'beacon.victims.v1', use, 32)));
    this.#keys = {
      email: derive('email'),
      phone: derive('phone'),
      reference: derive('reference'),
      idempotency: derive('idempotency'),
    };
  }

  email(normalised: string): string {
    return this.#hmac('email', normalised).toString('hex');
  }

  phone(normalised: string): string {
    return this.#hmac('phone', normalised).toString('hex');
  }

  /** The case id a reference opens: the reference cannot be worked back from it. */
  caseIdOf(reference: string): string {
    return `vc_${this.#hmac('reference', reference).toString('hex').slice(0, 32)}`;
  }

  /** Bytes that stand in for randomness when an idempotency key must yield the same case. */
  idempotencySeed(scope: string): Uint8Array {
    return this.#hmac('idempotency', scope);
  }

  #hmac(use: Use, value: string): Buffer {
    return createHmac('sha256', this.#keys[use]).update(value, 'utf8').digest();
  }
}
