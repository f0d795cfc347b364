import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CipherError } from '../../app/errors.js';
import type { CaseCipher, DataKey, WrappedKey } from '../../app/ports.js';

/** A key-encryption key from configuration: 32 bytes and an id stored beside what it wraps. */
export interface KeyEncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const CONTEXT = 'beacon.victims.v1';

/**
 * Keys are held as KeyObjects: handing node:crypto raw bytes makes it import them on every
 * call, which costs three times the encryption of a short field.
 */
type Key = KeyObject;

/**
 * Layout of every sealed value: format byte, IV, ciphertext, tag. `aad` starts with the
 * format byte (see `aadOf`), so a changed format byte fails like any other change. Written
 * into one buffer: a bulk intake seals tens of thousands of values, and the copies added up.
 */
function seal(key: Key, aad: Buffer, plaintext: Buffer, iv: Buffer): Buffer {
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  // GCM is a stream mode: `final` adds no bytes, it only computes the tag.
  cipher.final();
  const out = Buffer.allocUnsafe(1 + IV_BYTES + body.length + TAG_BYTES);
  out[0] = FORMAT;
  iv.copy(out, 1);
  body.copy(out, 1 + IV_BYTES);
  cipher.getAuthTag().copy(out, 1 + IV_BYTES + body.length);
  return out;
}

function open(key: Key, aad: Buffer, sealed: Uint8Array, what: string): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT) {
    throw new CipherError('tampered', `${what} is not a sealed value of a known format`);
  }
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new CipherError('tampered', `${what} does not authenticate: altered, or not this case’s`, {
      cause: error,
    });
  }
}

/**
 * Envelope encryption with AES-256-GCM: each victim's personal data under a data key of its
 * own, the data key wrapped by a key-encryption key (KEK) from configuration. Several KEKs
 * may be configured: new data keys are wrapped by the current one, older wraps still open
 * with theirs, and `rewrap` moves a data key to the current KEK, so a KEK is retired without
 * downtime once nothing uses it. Erasing a victim means forgetting their wrapped data key.
 *
 * Additional authenticated data binds each ciphertext to its case and field (a value moved to
 * another case or field fails to open) and each wrapped key to its case and KEK.
 */
export class EnvelopeCipher implements CaseCipher {
  readonly #keys: ReadonlyMap<string, Key>;
  readonly #current: { readonly id: string; readonly key: Key };
  readonly #random: (size: number) => Buffer;

  constructor(
    keys: readonly KeyEncryptionKey[],
    currentId: string,
    random: (size: number) => Buffer = pooledRandomBytes(),
  ) {
    const map = new Map<string, Key>();
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES) {
        throw new RangeError(`key-encryption key ${k.id} must be ${KEY_BYTES} bytes`);
      }
      if (map.has(k.id)) throw new RangeError(`key-encryption key ${k.id} is given twice`);
      map.set(k.id, createSecretKey(k.key));
    }
    const current = map.get(currentId);
    if (!current) throw new RangeError(`the current key-encryption key ${currentId} is not among the keys`);
    this.#keys = map;
    this.#current = { id: currentId, key: current };
    this.#random = random;
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  newKey(caseId: string): { key: DataKey; wrapped: WrappedKey } {
    const bytes = this.#random(KEY_BYTES);
    const wrapped = this.#wrap(caseId, bytes);
    const key = createSecretKey(bytes);
    bytes.fill(0);
    return { key: key as unknown as DataKey, wrapped };
  }

  unwrap(caseId: string, wrapped: WrappedKey): DataKey {
    const bytes = this.#unwrapBytes(caseId, wrapped);
    const key = createSecretKey(bytes);
    bytes.fill(0);
    return key as unknown as DataKey;
  }

  rewrap(caseId: string, wrapped: WrappedKey): WrappedKey | undefined {
    if (wrapped.kekId === this.#current.id) return undefined;
    const bytes = this.#unwrapBytes(caseId, wrapped);
    const rewrapped = this.#wrap(caseId, bytes);
    bytes.fill(0);
    return rewrapped;
  }

  seal(key: DataKey, caseId: string, field: string, plaintext: string): Uint8Array {
    return seal(
      key as unknown as Key,
      fieldAad(caseId, field),
      Buffer.from(plaintext, 'utf8'),
      this.#random(IV_BYTES),
    );
  }

  open(key: DataKey, caseId: string, field: string, sealed: Uint8Array): string {
    return open(key as unknown as Key, fieldAad(caseId, field), sealed, `field ${field}`).toString('utf8');
  }

  #unwrapBytes(caseId: string, wrapped: WrappedKey): Buffer {
    const kek = this.#keys.get(wrapped.kekId);
    if (!kek) {
      throw new CipherError('unknown-key', `key-encryption key ${wrapped.kekId} is not configured`);
    }
    const bytes = open(kek, wrapAad(caseId, wrapped.kekId), wrapped.wrapped, 'the wrapped data key');
    if (bytes.length !== KEY_BYTES) {
      throw new CipherError('tampered', 'the wrapped data key has the wrong size');
    }
    return bytes;
  }

  #wrap(caseId: string, key: Buffer): WrappedKey {
    return {
      kekId: this.#current.id,
      wrapped: seal(this.#current.key, wrapAad(caseId, this.#current.id), key, this.#random(IV_BYTES)),
    };
  }
}

/**
 * Cryptographically strong bytes drawn from a 16 KiB buffer refilled by `randomBytes`: a bulk
 * intake needs three values a victim (a key and two IVs), and one call per value costs more
 * than the encryption. Every value is copied out, so no handed-out key keeps the pool alive.
 */
function pooledRandomBytes(): (size: number) => Buffer {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return (size) => {
    if (size > 1024) return randomBytes(size);
    if (offset + size > pool.length) {
      pool = randomBytes(16 * 1024);
      offset = 0;
    }
    const out = Buffer.from(pool.subarray(offset, offset + size));
    // Used bytes are wiped, so the pool never holds a key that was handed out.
    pool.fill(0, offset, offset + size);
    offset += size;
    return out;
  };
}

// NUL separates the parts: ids and field names never contain one, so no two contexts collide.
// The format byte first, then the context. Ids and field names are ASCII (checked at the edge).
const aadOf = (context: string) =>
  Buffer.from(`${String.fromCharCode(FORMAT)}${CONTEXT}\0${context}`, 'latin1');
const wrapAad = (caseId: string, kekId: string) => aadOf(`data-key\0${caseId}\0${kekId}`);
const fieldAad = (caseId: string, field: string) => aadOf(`field\0${caseId}\0${field}`);

/**
 * Parses `id:base64,id:base64` (the KEKs' configuration form) into keys. The message of an
 * error names the entry, never the key material.
 */
export function parseKeyEncryptionKeys(text: string): KeyEncryptionKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new RangeError('no key-encryption keys are given');
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new RangeError(
        `entry ${i + 1}: expected <id>:<base64 of 32 bytes>, with an id of letters, digits, _ or -`,
      );
    }
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== KEY_BYTES)
      throw new RangeError(`key ${id}: must be ${KEY_BYTES} bytes, base64-encoded`);
    return { id, key };
  });
}
