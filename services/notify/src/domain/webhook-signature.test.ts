import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebhookSecret } from './agency.js';
import {
  constantTimeEqual,
  type HmacSha256Hex,
  parseSignatureHeader,
  signatureHeader,
  verifySignature,
} from './webhook-signature.js';

const hmac: HmacSha256Hex = (secret, message) => createHmac('sha256', secret).update(message).digest('hex');

const NOW = new Date('2026-03-01T10:00:00Z');
const T = NOW.getTime() / 1000;
const OLD: WebhookSecret = { id: 'old', secret: 'o'.repeat(32), notAfter: new Date('2026-03-02T00:00:00Z') };
const NEW: WebhookSecret = { id: 'new', secret: 'n'.repeat(40), notBefore: new Date('2026-02-28T00:00:00Z') };
const BODY = '{"id":"evt-1","type":"incident.opened","incidentId":"inc-1"}';

describe('webhook signatures', () => {
  it('the injected HMAC is HMAC-SHA256 (RFC 4231 case 2)', () => {
    expect(hmac('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('signs `<unix seconds>.<body>` once per active secret', () => {
    const header = signatureHeader({ body: BODY, secrets: [OLD, NEW], now: NOW, hmac });
    expect(header).toBe(
      `t=${T},v1=${hmac(OLD.secret, `${T}.${BODY}`)},v1=${hmac(NEW.secret, `${T}.${BODY}`)}`,
    );
  });

  it('leaves out secrets not yet or no longer active, and signs nothing without one', () => {
    const later = new Date('2026-03-02T00:00:00Z'); // OLD ends exactly now
    expect(signatureHeader({ body: BODY, secrets: [OLD, NEW], now: later, hmac })).toBe(
      `t=${later.getTime() / 1000},v1=${hmac(NEW.secret, `${later.getTime() / 1000}.${BODY}`)}`,
    );
    const earlier = new Date('2026-02-27T00:00:00Z'); // NEW not yet
    expect(signatureHeader({ body: BODY, secrets: [NEW], now: earlier, hmac })).toBeUndefined();
  });

  it('truncates the timestamp to whole seconds', () => {
    const header = signatureHeader({ body: '', secrets: [NEW], now: new Date(NOW.getTime() + 999), hmac })!;
    expect(parseSignatureHeader(header)?.timestamp).toBe(T);
  });

  it('verifies with any active secret, so either side can rotate first', () => {
    const header = signatureHeader({ body: BODY, secrets: [OLD, NEW], now: NOW, hmac })!;
    expect(verifySignature({ header, body: BODY, secrets: [NEW], now: NOW, hmac })).toEqual({
      ok: true,
      secretId: 'new',
      timestamp: T,
    });
    expect(verifySignature({ header, body: BODY, secrets: [OLD], now: NOW, hmac })).toMatchObject({
      ok: true,
      secretId: 'old',
    });
    const onlyOld = signatureHeader({ body: BODY, secrets: [OLD], now: NOW, hmac })!;
    expect(
      verifySignature({ header: onlyOld, body: BODY, secrets: [OLD, NEW], now: NOW, hmac }),
    ).toMatchObject({
      ok: true,
      secretId: 'old',
    });
  });

  it('refuses a changed body, a wrong secret, an inactive secret', () => {
    const header = signatureHeader({ body: BODY, secrets: [OLD], now: NOW, hmac })!;
    expect(verifySignature({ header, body: `${BODY} `, secrets: [OLD], now: NOW, hmac })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature({ header, body: BODY, secrets: [NEW], now: NOW, hmac })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const expired = { ...OLD, notAfter: NOW };
    expect(verifySignature({ header, body: BODY, secrets: [expired], now: NOW, hmac })).toEqual({
      ok: false,
      reason: 'no-active-secret',
    });
  });

  it('refuses replays outside the tolerance, either way, and accepts its edges', () => {
    const header = signatureHeader({ body: BODY, secrets: [NEW], now: NOW, hmac })!;
    const verify = (offsetSeconds: number, toleranceSeconds?: number) =>
      verifySignature({
        header,
        body: BODY,
        secrets: [NEW],
        now: new Date(NOW.getTime() + offsetSeconds * 1000),
        hmac,
        toleranceSeconds,
      });
    expect(verify(300).ok).toBe(true);
    expect(verify(-300).ok).toBe(true);
    expect(verify(300.001)).toEqual({ ok: false, reason: 'outside-tolerance' });
    expect(verify(-301)).toEqual({ ok: false, reason: 'outside-tolerance' });
    expect(verify(30, 10)).toEqual({ ok: false, reason: 'outside-tolerance' });
  });

  it('refuses malformed headers, skips unknown schemes', () => {
    const sig = hmac(NEW.secret, `${T}.${BODY}`);
    for (const header of [
      '',
      `v1=${sig}`,
      `t=${T}`,
      `t=abc,v1=${sig}`,
      `t=${T},t=${T},v1=${sig}`,
      `t=${T},v1=${sig.toUpperCase()}`,
      `t=${T},v1=${sig.slice(1)}`,
      `t=${T},v1=${sig},`,
      `t=${T},${Array(9).fill(`v1=${sig}`).join(',')}`,
      `t=${T},v0=${'x'.repeat(2000)},v1=${sig}`,
    ]) {
      expect(
        verifySignature({ header, body: BODY, secrets: [NEW], now: NOW, hmac }),
        header.slice(0, 40),
      ).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
    expect(
      verifySignature({ header: `t=${T}, v0=legacy ,v1=${sig}`, body: BODY, secrets: [NEW], now: NOW, hmac })
        .ok,
    ).toBe(true);
  });

  it('compares strings without stopping at the first difference', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'ab')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  const secretArb = fc
    .string({ minLength: 32, maxLength: 64 })
    .map((secret): WebhookSecret => ({ id: 'k', secret }));

  it('verifies what it signed, for any body and set of active secrets', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.array(secretArb, { minLength: 1, maxLength: 3 }),
        (body, secrets) => {
          const header = signatureHeader({ body, secrets, now: NOW, hmac })!;
          expect(parseSignatureHeader(header)?.signatures).toHaveLength(secrets.length);
          for (const secret of secrets) {
            expect(verifySignature({ header, body, secrets: [secret], now: NOW, hmac }).ok).toBe(true);
          }
        },
      ),
    );
  });

  it('refuses any other body', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100 }),
        secretArb,
        (body, other, secret) => {
          fc.pre(body !== other);
          const header = signatureHeader({ body, secrets: [secret], now: NOW, hmac })!;
          expect(verifySignature({ header, body: other, secrets: [secret], now: NOW, hmac })).toEqual({
            ok: false,
            reason: 'mismatch',
          });
        },
      ),
    );
  });
});
