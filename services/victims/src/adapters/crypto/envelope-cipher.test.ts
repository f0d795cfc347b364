import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CipherError } from '../../app/errors.js';
import { EnvelopeCipher, parseKeyEncryptionKeys, type KeyEncryptionKey } from './envelope-cipher.js';

const kek = (id: string): KeyEncryptionKey => ({ id, key: randomBytes(32) });
const k2025 = kek('k2025');
const k2026 = kek('k2026');
const CASE = 'vc_0123456789abcdef0123456789abcdef';
const OTHER = 'vc_fedcba9876543210fedcba9876543210';

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at]! ^= 0x01;
  return copy;
}

describe('envelope encryption', () => {
  it('round-trips every field under a data key of the victim’s own, wrapped by the current KEK', () => {
    const cipher = new EnvelopeCipher([k2025], 'k2025');
    const { key, wrapped } = cipher.newKey(CASE);
    expect(wrapped.kekId).toBe('k2025');
    const values = ['Jana Nováková', 'jana@example.org', '', 'Ünïcødé ✓ 🚨', 'x'.repeat(4000)];
    for (const value of values) {
      const sealed = cipher.seal(key, CASE, 'notes', value);
      expect(Buffer.from(sealed).includes(Buffer.from('jana'))).toBe(false);
      expect(cipher.open(cipher.unwrap(CASE, wrapped), CASE, 'notes', sealed)).toBe(value);
    }
    // A fresh IV every time: the same value never seals to the same bytes.
    expect(Buffer.from(cipher.seal(key, CASE, 'email', 'a@b.example'))).not.toEqual(
      Buffer.from(cipher.seal(key, CASE, 'email', 'a@b.example')),
    );
    // Every victim has a key of their own.
    expect(Buffer.from(cipher.newKey(CASE).wrapped.wrapped)).not.toEqual(Buffer.from(wrapped.wrapped));
  });

  it('rejects a sealed value that was altered anywhere, or moved to another case or field (AAD)', () => {
    const cipher = new EnvelopeCipher([k2025], 'k2025');
    const { key } = cipher.newKey(CASE);
    const sealed = cipher.seal(key, CASE, 'email', 'jana@example.org');
    for (const at of [0, 1, 12, 13, sealed.length - 17, sealed.length - 1]) {
      expect(() => cipher.open(key, CASE, 'email', flip(sealed, at))).toThrow(CipherError);
    }
    expect(() => cipher.open(key, CASE, 'email', sealed.subarray(0, 20))).toThrow(/not a sealed value/);
    expect(() => cipher.open(key, CASE, 'phone', sealed)).toThrow(/does not authenticate/);
    expect(() => cipher.open(key, OTHER, 'email', sealed)).toThrow(/does not authenticate/);
    expect(cipher.open(key, CASE, 'email', sealed)).toBe('jana@example.org');
  });

  it('binds a wrapped data key to its case and refuses an altered one', () => {
    const cipher = new EnvelopeCipher([k2025], 'k2025');
    const { wrapped } = cipher.newKey(CASE);
    expect(() => cipher.unwrap(OTHER, wrapped)).toThrow(CipherError);
    expect(() => cipher.unwrap(CASE, { ...wrapped, wrapped: flip(wrapped.wrapped, 20) })).toThrow(
      CipherError,
    );
    // Claiming another KEK id changes the AAD too.
    const both = new EnvelopeCipher([k2025, { id: 'k2026', key: k2025.key }], 'k2025');
    expect(() => both.unwrap(CASE, { ...wrapped, kekId: 'k2026' })).toThrow(CipherError);
  });

  it('rotates KEKs without downtime: old wraps still open, new ones use the new KEK, rewrap moves them', () => {
    const before = new EnvelopeCipher([k2025], 'k2025');
    const { key, wrapped: old } = before.newKey(CASE);
    const sealed = before.seal(key, CASE, 'displayName', 'Jana');

    // Both keys configured, the new one current: nothing needs to change at once.
    const during = new EnvelopeCipher([k2025, k2026], 'k2026');
    expect(during.currentKeyId).toBe('k2026');
    expect(during.open(during.unwrap(CASE, old), CASE, 'displayName', sealed)).toBe('Jana');
    expect(during.newKey(OTHER).wrapped.kekId).toBe('k2026');
    const moved = during.rewrap(CASE, old)!;
    expect(moved.kekId).toBe('k2026');
    expect(during.rewrap(CASE, moved)).toBeUndefined();

    // The old KEK retired: rewrapped keys open, one left behind does not.
    const after = new EnvelopeCipher([k2026], 'k2026');
    expect(after.open(after.unwrap(CASE, moved), CASE, 'displayName', sealed)).toBe('Jana');
    expect(() => after.unwrap(CASE, old)).toThrow(/k2025 is not configured/);
    try {
      after.unwrap(CASE, old);
    } catch (error) {
      expect((error as CipherError).kind).toBe('unknown-key');
    }
  });

  it('crypto-shredding: without the wrapped data key the ciphertext is unrecoverable', () => {
    const cipher = new EnvelopeCipher([k2025, k2026], 'k2026');
    const victim = cipher.newKey(CASE);
    const sealed = cipher.seal(victim.key, CASE, 'email', 'jana@example.org');
    // Erasure forgets `victim.wrapped`. What remains cannot open the data: not the KEKs
    // (they never sealed it), not another victim's key, not a new key for the same case.
    const stranger = cipher.newKey(OTHER);
    const reissued = cipher.newKey(CASE);
    for (const key of [stranger.key, reissued.key, k2025.key, k2026.key]) {
      expect(() => cipher.open(key as never, CASE, 'email', sealed)).toThrow(CipherError);
    }
    expect(Buffer.from(sealed).toString('latin1')).not.toContain('jana');
  });

  it('parses KEKs from configuration and refuses bad ones without echoing key material', () => {
    const text = `k2025:${k2025.key.toString('base64')}, k2026:${k2026.key.toString('base64')}`;
    expect(parseKeyEncryptionKeys(text).map((k) => k.id)).toEqual(['k2025', 'k2026']);
    expect(() => parseKeyEncryptionKeys('')).toThrow(/no key-encryption keys/);
    expect(() => parseKeyEncryptionKeys('short:c2hvcnQ=')).toThrow(
      'key short: must be 32 bytes, base64-encoded',
    );
    expect(() => parseKeyEncryptionKeys(`bad id:${k2025.key.toString('base64')}`)).toThrow(/entry 1/);
    expect(() => new EnvelopeCipher([k2025], 'k2026')).toThrow(/not among the keys/);
    expect(() => new EnvelopeCipher([k2025, k2025], 'k2025')).toThrow(/twice/);
  });
});
