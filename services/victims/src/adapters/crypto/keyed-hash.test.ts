import { describe, expect, it } from 'vitest';
import { KeyedHasher } from './keyed-hash.js';

describe('keyed hashes', () => {
  it('are stable per secret, differ between secrets and between uses', () => {
    const a = new KeyedHasher('a'.repeat(40));
    const b = new KeyedHasher('b'.repeat(40));
    expect(a.email('jana@example.org')).toBe(a.email('jana@example.org'));
    expect(a.email('jana@example.org')).toMatch(/^[0-9a-f]{64}$/);
    expect(a.email('jana@example.org')).not.toBe(b.email('jana@example.org'));
    expect(a.email('+4915112345678')).not.toBe(a.phone('+4915112345678'));
    expect(a.caseIdOf('VC-0000-0000-0000-0000')).toMatch(/^vc_[0-9a-f]{32}$/);
    expect(a.caseIdOf('VC-0000-0000-0000-0000')).not.toBe(b.caseIdOf('VC-0000-0000-0000-0000'));
    expect(Buffer.from(a.idempotencySeed('org\0key'))).toHaveLength(32);
    expect(Buffer.from(a.idempotencySeed('org\0key'))).toEqual(Buffer.from(a.idempotencySeed('org\0key')));
  });
});
