import type { WebhookSecret } from './agency.js';

/**
 * Webhook signatures: HMAC-SHA256 over `<unix seconds>.<body>`, sent as
 * `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, one `v1` per secret active at signing time. Signing
 * the timestamp with the body lets a receiver refuse replays outside a tolerance window; one
 * signature per active secret lets it roll its secret without a moment where deliveries fail.
 *
 * The domain stays free of Node built-ins, so the HMAC itself is passed in: in Node,
 * `(secret, message) => createHmac('sha256', secret).update(message).digest('hex')`.
 */

/** HMAC-SHA256 of `message` (UTF-8) under `secret` (UTF-8), as lower-case hex. */
export type HmacSha256Hex = (secret: string, message: string) => string;

/** The header Beacon sends the signature in. */
export const SIGNATURE_HEADER = 'beacon-signature';

/** How far a signature's timestamp may be from the receiver's clock, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Header longer than this is refused unread: no secret rotation needs more. */
const MAX_HEADER_LENGTH = 1024;
const MAX_SIGNATURES = 8;

/** Whether the secret is active at `now`: from `notBefore` (inclusive) to `notAfter` (exclusive). */
export function isSecretActive(secret: WebhookSecret, now: Date): boolean {
  const at = now.getTime();
  return (
    (secret.notBefore === undefined || secret.notBefore.getTime() <= at) &&
    (secret.notAfter === undefined || at < secret.notAfter.getTime())
  );
}

/** What is signed: the timestamp, a dot, and the body exactly as sent. */
export function signedPayload(timestamp: number, body: string): string {
  return `${timestamp}.${body}`;
}

export interface SignInput {
  /** The request body exactly as it goes on the wire. */
  readonly body: string;
  readonly secrets: readonly WebhookSecret[];
  readonly now: Date;
  readonly hmac: HmacSha256Hex;
}

/**
 * The signature header for a delivery, or undefined when no secret is active: then nothing may
 * be sent, since an unsigned delivery is one a receiver cannot trust.
 */
export function signatureHeader({ body, secrets, now, hmac }: SignInput): string | undefined {
  const active = secrets.filter((s) => isSecretActive(s, now));
  if (active.length === 0) return undefined;
  const timestamp = Math.floor(now.getTime() / 1000);
  const payload = signedPayload(timestamp, body);
  return [`t=${timestamp}`, ...active.map((s) => `v1=${hmac(s.secret, payload)}`)].join(',');
}

export interface ParsedSignature {
  readonly timestamp: number;
  readonly signatures: readonly string[];
}

/**
 * Reads a signature header; undefined when malformed. Unknown schemes (`v0=…`, a future `v2=…`)
 * are skipped, so that Beacon can add a scheme without breaking receivers.
 */
export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  if (header.length > MAX_HEADER_LENGTH) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return undefined;
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0 || signatures.length > MAX_SIGNATURES)
    return undefined;
  return { timestamp, signatures };
}

export interface VerifyInput extends SignInput {
  readonly header: string;
  /** Default `DEFAULT_TOLERANCE_SECONDS`. */
  readonly toleranceSeconds?: number;
}

export type VerifyResult =
  | { readonly ok: true; readonly secretId: string; readonly timestamp: number }
  | {
      readonly ok: false;
      readonly reason: 'malformed' | 'outside-tolerance' | 'no-active-secret' | 'mismatch';
    };

/**
 * Whether the header is a valid signature of `body`: well formed, timestamped within the
 * tolerance of `now` (either way, for clock skew), and matching any `v1` under any secret active
 * at `now`. Comparison takes the same time wherever the strings differ.
 */
export function verifySignature(input: VerifyInput): VerifyResult {
  const { header, body, secrets, now, hmac, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = input;
  const parsed = parseSignatureHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(now.getTime() / 1000 - parsed.timestamp) > toleranceSeconds) {
    return { ok: false, reason: 'outside-tolerance' };
  }
  const active = secrets.filter((s) => isSecretActive(s, now));
  if (active.length === 0) return { ok: false, reason: 'no-active-secret' };
  const payload = signedPayload(parsed.timestamp, body);
  for (const secret of active) {
    const expected = hmac(secret.secret, payload).toLowerCase();
    // Check every signature, not just until the first match, so timing says nothing of which.
    let found = false;
    for (const signature of parsed.signatures) found = constantTimeEqual(expected, signature) || found;
    if (found) return { ok: true, secretId: secret.id, timestamp: parsed.timestamp };
  }
  return { ok: false, reason: 'mismatch' };
}

/**
 * Equality whose time does not depend on where the strings first differ. Lengths are public
 * (a hex SHA-256 is always 64 characters), so a length mismatch may return early.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
