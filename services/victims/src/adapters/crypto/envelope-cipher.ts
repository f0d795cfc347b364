import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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

/** Layout of every sealed value: format byte, IV, ciphertext, tag. */
function seal(key: Buffer, aad: Buffer, plaintext: Buffer, iv: Buffer): Buffer {
  const header = Buffer.from([FORMAT]);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  // The header is authenticated too, so a changed format byte fails like any other change.
  cipher.setAAD(Buffer.concat([header, aad]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

function open(key: Buffer, aad: Buffer, sealed: Uint8Array, what: string): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT) {
    throw new CipherError('tampered', `${what} is not a sealed value of a known format`);
  }
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.concat([bytes.subarray(0, 1), aad]));
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
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: KeyEncryptionKey;
  readonly #random: (size: number) => Buffer;

  constructor(
    keys: readonly KeyEncryptionKey[],
    currentId: string,
    random: (size: number) => Buffer = randomBytes,
  ) {
    const map = new Map<string, Buffer>();
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES)
        throw new RangeError(`key-encryption key ${k.id} must be ${KEY_BYTES} bytes`);
      if (map.has(k.id)) throw new RangeError(`key-encryption key ${k.id} is given twice`);
      map.set(k.id, k.key);
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
    const key = this.#random(KEY_BYTES);
    return { key: key as unknown as DataKey, wrapped: this.#wrap(caseId, key) };
  }

  unwrap(caseId: string, wrapped: WrappedKey): DataKey {
    const kek = this.#keys.get(wrapped.kekId);
    if (!kek) {
      throw new CipherError('unknown-key', `key-encryption key ${wrapped.kekId} is not configured`);
    }
    const key = open(kek, wrapAad(caseId, wrapped.kekId), wrapped.wrapped, 'the wrapped data key');
    if (key.length !== KEY_BYTES)
      throw new CipherError('tampered', 'the wrapped data key has the wrong size');
    return key as unknown as DataKey;
  }

  rewrap(caseId: string, wrapped: WrappedKey): WrappedKey | undefined {
    if (wrapped.kekId === this.#current.id) return undefined;
    return this.#wrap(caseId, this.unwrap(caseId, wrapped) as unknown as Buffer);
  }

  seal(key: DataKey, caseId: string, field: string, plaintext: string): Uint8Array {
    return seal(
      key as unknown as Buffer,
      fieldAad(caseId, field),
      Buffer.from(plaintext, 'utf8'),
      this.#random(IV_BYTES),
    );
  }

  open(key: DataKey, caseId: string, field: string, sealed: Uint8Array): string {
    return open(key as unknown as Buffer, fieldAad(caseId, field), sealed, `field ${field}`).toString('utf8');
  }

  #wrap(caseId: string, key: Buffer): WrappedKey {
    return {
      kekId: this.#current.id,
      wrapped: seal(this.#current.key, wrapAad(caseId, this.#current.id), key, this.#random(IV_BYTES)),
    };
  }
}

// NUL separates the parts: ids and field names never contain one, so no two contexts collide.
const wrapAad = (caseId: string, kekId: string) => Buffer.from(`${CONTEXT}\0data-key\0${caseId}\0${kekId}`);
const fieldAad = (caseId: string, field: string) => Buffer.from(`${CONTEXT}\0field\0${caseId}\0${field}`);

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
