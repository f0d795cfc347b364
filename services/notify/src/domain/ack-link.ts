import { AGENCY_ID_PATTERN } from './agency.js';
import { constantTimeEqual, type HmacSha256Hex } from './webhook-signature.js';

/**
 * Signed acknowledgement links, put in e-mails and webhooks so a duty officer can acknowledge
 * an engagement with one click, without signing in: the link itself is the credential, for
 * one agency, one incident, one channel and a limited time. Only the signature's holder — the
 * recipient of that notification — can produce it.
 */
export interface AckLinkClaims {
  readonly agencyId: string;
  readonly incidentId: string;
  readonly via: 'email-link' | 'webhook-link';
  /** Seconds since the epoch. */
  readonly expires: number;
}

const INCIDENT_ID = /^inc_[a-z0-9]{1,64}$/;

const message = (c: AckLinkClaims) => `beacon-ack.v1|${c.agencyId}|${c.incidentId}|${c.via}|${c.expires}`;

/** The link's query: the claims and their signature. */
export function signAckLink(claims: AckLinkClaims, secret: string, hmac: HmacSha256Hex): URLSearchParams {
  return new URLSearchParams({
    agency: claims.agencyId,
    incident: claims.incidentId,
    via: claims.via,
    expires: String(claims.expires),
    sig: hmac(secret, message(claims)),
  });
}

export type AckLinkVerdict =
  | { readonly ok: true; readonly claims: AckLinkClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' | 'bad-signature' };

export function verifyAckLink(
  query: URLSearchParams,
  now: Date,
  secret: string,
  hmac: HmacSha256Hex,
): AckLinkVerdict {
  const agencyId = query.get('agency') ?? '';
  const incidentId = query.get('incident') ?? '';
  const via = query.get('via');
  const expires = Number(query.get('expires'));
  const sig = query.get('sig') ?? '';
  if (
    !AGENCY_ID_PATTERN.test(agencyId) ||
    !INCIDENT_ID.test(incidentId) ||
    (via !== 'email-link' && via !== 'webhook-link') ||
    !Number.isSafeInteger(expires) ||
    !/^[0-9a-f]{64}$/.test(sig)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const claims: AckLinkClaims = { agencyId, incidentId, via, expires };
  // The signature first: an expiry a forger chose says nothing.
  if (!constantTimeEqual(hmac(secret, message(claims)), sig)) return { ok: false, reason: 'bad-signature' };
  if (expires * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
