import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAckLink, verifyAckLink } from './ack-link.js';

const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');
const secret = 'k'.repeat(40);
const now = new Date('2026-11-28T12:00:00Z');
const claims = {
  agencyId: 'cert-by',
  incidentId: 'inc_abc123',
  via: 'email-link' as const,
  expires: now.getTime() / 1000 + 3600,
};

describe('acknowledgement links', () => {
  it('verify as signed, and only as signed', () => {
    const query = signAckLink(claims, secret, hmac);
    expect(verifyAckLink(query, now, secret, hmac)).toEqual({ ok: true, claims });
    for (const [key, value] of [
      ['agency', 'lka-by'],
      ['incident', 'inc_other'],
      ['via', 'webhook-link'],
      ['expires', String(claims.expires + 86_400)],
    ] as const) {
      const forged = new URLSearchParams(query);
      forged.set(key, value);
      expect(verifyAckLink(forged, now, secret, hmac), key).toEqual({ ok: false, reason: 'bad-signature' });
    }
    expect(verifyAckLink(query, now, 'j'.repeat(40), hmac)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('expire, and refuse what is not a link', () => {
    const query = signAckLink(claims, secret, hmac);
    expect(verifyAckLink(query, new Date((claims.expires + 1) * 1000), secret, hmac)).toEqual({
      ok: false,
      reason: 'expired',
    });
    const broken = new URLSearchParams(query);
    broken.set('sig', 'zz');
    expect(verifyAckLink(broken, now, secret, hmac)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyAckLink(new URLSearchParams(), now, secret, hmac)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});
