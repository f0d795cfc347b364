import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeCipher } from '../adapters/crypto/envelope-cipher.js';
import type { Need } from '../domain/model.js';
import { CipherError } from './errors.js';
import {
  openPersonalData,
  sealNeeds,
  sealPersonalData,
  sealVictim,
  withoutContact,
  type PersonalData,
} from './personal-data.js';
import type { SealedData, SealedField } from './ports.js';

const cipher = new EnvelopeCipher([{ id: 'k1', key: randomBytes(32) }], 'k1');
const CASE = 'vc_0123456789abcdef0123456789abcdef';
const OTHER = 'vc_fedcba9876543210fedcba9876543210';
const loss: Need = {
  kind: 'financial-loss',
  amountMinor: 185_000,
  currency: 'EUR',
  paymentMethod: 'sepa-credit-transfer',
  paidAt: new Date('2026-11-20T08:15:00.000Z'),
};
const data: PersonalData = {
  reference: 'VC-7K3M-Q9XD-2HPA-TN4F',
  victim: {
    kind: 'person',
    displayName: 'Jana Nováková',
    organisationName: '',
    email: 'jana.novakova@example.org',
    phone: '+4915123456789',
    preferredChannel: 'phone',
    notes: 'Called the hotline after the fake bank SMS.',
  },
  needs: [loss, { kind: 'identity-theft', documents: ['passport'], misuseSeen: true }],
  riskFlags: ['self-harm'],
};

describe('sealed personal data', () => {
  it('is one sealed value that opens to exactly what was sealed, and shows none of it', () => {
    const { key } = cipher.newKey(CASE);
    const sealed = sealPersonalData(cipher, key, CASE, data);
    expect(Object.keys(sealed)).toEqual(['personal']);
    const bytes = Buffer.from(sealed.personal!);
    for (const clear of ['Jana', 'novakova', '4915', 'hotline', '7K3M', 'passport', 'self-harm']) {
      expect(bytes.includes(Buffer.from(clear))).toBe(false);
    }
    expect(openPersonalData(cipher, key, CASE, sealed, 'person')).toEqual(data);
  });

  it('does not open when altered, moved to another case, or under another key', () => {
    const { key } = cipher.newKey(CASE);
    const sealed = sealPersonalData(cipher, key, CASE, data);
    const altered = Uint8Array.from(sealed.personal!);
    altered[20]! ^= 1;
    expect(() => openPersonalData(cipher, key, CASE, { personal: altered }, 'person')).toThrow(CipherError);
    expect(() => openPersonalData(cipher, key, OTHER, sealed, 'person')).toThrow(CipherError);
    expect(() => openPersonalData(cipher, cipher.newKey(CASE).key, CASE, sealed, 'person')).toThrow(
      CipherError,
    );
  });

  it('replaces the victim or the needs and keeps the rest', () => {
    const { key } = cipher.newKey(CASE);
    const sealed = sealPersonalData(cipher, key, CASE, data);
    const victim = { ...data.victim, displayName: 'Jana N.', notes: '' };
    expect(
      openPersonalData(cipher, key, CASE, sealVictim(cipher, key, CASE, sealed, victim), 'person'),
    ).toEqual({
      ...data,
      victim,
    });
    const needs = sealNeeds(cipher, key, CASE, sealed, 'person', [loss], []);
    expect(openPersonalData(cipher, key, CASE, needs, 'person')).toEqual({
      ...data,
      needs: [loss],
      riskFlags: [],
    });
  });

  it('drops the contact details and keeps everything else', () => {
    const { key } = cipher.newKey(CASE);
    const sealed = withoutContact(cipher, key, CASE, sealPersonalData(cipher, key, CASE, data), 'person');
    expect(openPersonalData(cipher, key, CASE, sealed, 'person')).toEqual({
      ...data,
      victim: { ...data.victim, email: '', phone: '', preferredChannel: undefined },
    });
  });

  it('opens a case sealed field by field (the earlier form), and drops its contact fields without a key', () => {
    const { key } = cipher.newKey(CASE);
    const fields: Partial<Record<SealedField, string>> = {
      reference: data.reference,
      displayName: data.victim.displayName,
      email: data.victim.email,
      phone: data.victim.phone,
      preferredChannel: 'phone',
      notes: data.victim.notes,
      needs: JSON.stringify({ needs: data.needs, riskFlags: data.riskFlags }),
    };
    const legacy: SealedData = Object.fromEntries(
      Object.entries(fields).map(([field, value]) => [
        field,
        cipher.seal(key, CASE, field as SealedField, value),
      ]),
    );
    expect(openPersonalData(cipher, key, CASE, legacy, 'person')).toEqual(data);
    // A change seals it as one value.
    const victim = { ...data.victim, notes: 'Bank recall requested.' };
    const changed = sealVictim(cipher, key, CASE, legacy, victim);
    expect(Object.keys(changed)).toEqual(['personal']);
    expect(openPersonalData(cipher, key, CASE, changed, 'person')).toEqual({ ...data, victim });
    // Erased (no key): the earlier form's contact fields can still be dropped; one sealed value stays as it is.
    expect(Object.keys(withoutContact(cipher, undefined, CASE, legacy, 'person')).sort()).toEqual(
      ['displayName', 'needs', 'notes', 'reference'].sort(),
    );
    expect(withoutContact(cipher, undefined, CASE, changed, 'person')).toEqual(changed);
  });
});
