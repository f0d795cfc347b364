import { describe, expect, it } from 'vitest';
import { normaliseEmail, normalisePhone } from './contact.js';

describe('contact details', () => {
  it('normalise e-mail addresses to lower case and refuse what is not one', () => {
    expect(normaliseEmail('  Jane.Doe+bank@Example.ORG ')).toBe('jane.doe+bank@example.org');
    expect(normaliseEmail('müller@bücher.example')).toBe('müller@bücher.example');
    for (const bad of [
      '',
      'jane',
      'jane@',
      '@example.org',
      'jane@example',
      'a b@example.org',
      'jane@exa mple.org',
      `${'a'.repeat(250)}@x.org`,
      'jane\u0000@example.org',
    ]) {
      expect([bad, normaliseEmail(bad)]).toEqual([bad, undefined]);
    }
  });

  it('normalise phone numbers to E.164', () => {
    expect(normalisePhone('+49 151 1234-5678')).toBe('+4915112345678');
    expect(normalisePhone('0049 (151) 12345678')).toBe('+4915112345678');
    expect(normalisePhone('+33.6.12.34.56.78')).toBe('+33612345678');
    for (const bad of ['', '0151 12345678', '+0151234567', '+12345', '+1234567890123456', '+49 151 abc']) {
      expect([bad, normalisePhone(bad)]).toEqual([bad, undefined]);
    }
  });
});
